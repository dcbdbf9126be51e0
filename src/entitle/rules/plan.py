"""The planner: which facts a benefit may need, and in which stages they are fetched.

Facts are fetched in stages ordered by (sensitivity, cost): identification and residence first,
then social statuses (local datasets before remote registries), income and health last. A stage
runs only for subjects still undecided, and only for the facts that can still change the outcome.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from entitle.rules.catalogue import Catalogue, FactSpec
from entitle.rules.expr import Name, Node, walk
from entitle.rules.model import Benefit


@dataclass(frozen=True)
class Stage:
    """Facts fetched together: same sensitivity and cost."""

    index: int
    sensitivity: int
    cost: int
    facts: tuple[FactSpec, ...]


@dataclass
class Plan:
    """A benefit's maximal data need and its fetch stages."""

    benefit: Benefit
    facts: dict[str, FactSpec]  # every fact the benefit may read
    used_by: dict[str, list[str]]  # fact -> conditions/outputs reading it
    stages: list[Stage]
    stage_of: dict[str, int] = field(default_factory=dict)  # fact -> stage index
    member_facts: frozenset[str] = frozenset()  # facts read per household member


def facts_in(node: Node) -> list[Name]:
    """The fact references in an expression (subject facts and member facts)."""
    return [n for n in walk(node) if isinstance(n, Name) and n.kind in ("fact", "member_fact")]


def plan_benefit(benefit: Benefit, catalogue: Catalogue) -> Plan:
    """Compute (and cache on the benefit) the data need and stages of a benefit."""
    cached = benefit.compiled.get("plan")
    if isinstance(cached, Plan):
        return cached
    roots: dict[str, Node] = {f"condition {c.name}": c.node for c in benefit.conditions.values()}
    roots["eligible"] = benefit.eligible
    roots.update({f"output {o.name}": o.node for o in benefit.outputs.values()})
    used_by: dict[str, list[str]] = {}
    member: set[str] = set()
    for label, root in roots.items():
        for ref in facts_in(root):
            used_by.setdefault(ref.target, [])
            if label not in used_by[ref.target]:
                used_by[ref.target].append(label)
            if ref.kind == "member_fact":
                member.add(ref.target)
    facts = {name: catalogue[name] for name in sorted(used_by)}
    keys = sorted({(f.sensitivity, f.cost) for f in facts.values()})
    stages = [
        Stage(
            index=i + 1,
            sensitivity=sens,
            cost=cost,
            facts=tuple(f for f in facts.values() if (f.sensitivity, f.cost) == (sens, cost)),
        )
        for i, (sens, cost) in enumerate(keys)
    ]
    stage_of = {f.name: stage.index for stage in stages for f in stage.facts}
    plan = Plan(benefit, facts, used_by, stages, stage_of, frozenset(member))
    benefit.compiled["plan"] = plan
    return plan
