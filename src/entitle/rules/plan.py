"""The planner: which facts a benefit may need, and in which stages they are fetched.

A stage is one fact. Stages run in the order of `order.fetch_order`: in phases by sensitivity
(identification and residence first, income and health last; a less sensitive fact that cannot
settle anything on its own waits for the phase in which it helps), and within a phase the fact
likeliest to settle first. Each subject fetches its earliest stage that still decides, so the
order is chosen per subject: a stage runs only for subjects still undecided, and only where its
fact can still change the outcome.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from entitle.rules.catalogue import Catalogue, FactSpec
from entitle.rules.expr import Name, Node, walk
from entitle.rules.model import Benefit
from entitle.rules.order import fetch_order, one_member_at_a_time


@dataclass(frozen=True)
class Stage:
    """Facts fetched together, in one round trip to their source."""

    index: int
    phase: int  # the sensitivity level at which its facts can first help settle a decision
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
    phase_of: dict[str, int] = field(default_factory=dict)  # fact -> phase
    member_facts: frozenset[str] = frozenset()  # facts read per household member
    one_member: frozenset[str] = frozenset()  # member facts asked one member at a time


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
    order = fetch_order(benefit, facts)
    stages = [
        Stage(index=i + 1, phase=phase, sensitivity=f.sensitivity, cost=f.cost, facts=(f,))
        for i, (phase, f) in enumerate(order)
    ]
    stage_of = {f.name: stage.index for stage in stages for f in stage.facts}
    phase_of = {f.name: stage.phase for stage in stages for f in stage.facts}
    plan = Plan(
        benefit,
        facts,
        used_by,
        stages,
        stage_of=stage_of,
        phase_of=phase_of,
        member_facts=frozenset(member),
        one_member=one_member_at_a_time(benefit, order, frozenset(member)),
    )
    benefit.compiled["plan"] = plan
    return plan
