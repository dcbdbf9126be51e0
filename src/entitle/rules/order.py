"""The fetch order: one fact per step, in phases by sensitivity, likeliest to settle first.

A fact's *phase* is the lowest sensitivity level k at which it can help settle the decision: it
takes part in some way of making the eligibility true or false, or of fixing an output, using
only facts of sensitivity ≤ k (a structural, value-free analysis under Kleene logic). Phases run
in order, so a fact is never read while a less sensitive fact that could settle the decision
without it is still unknown — the residence (phase 1) comes before every social status — while a
less sensitive fact that cannot settle anything on its own (a household member's position code,
a household's collective flag in a rule that needs the social statuses anyway) waits for the
phase in which it helps, and is then read only if the decision is still open.

Within a phase, facts are ordered by how likely they are to settle their part of the rule: the
chance that a fact takes the value that short-circuits the `and`/`or`/`any`/`all` above it (a
catalogue `share_true` for booleans), then by sensitivity and cost.
"""

from __future__ import annotations

from collections.abc import Mapping

from entitle.rules.catalogue import FactSpec
from entitle.rules.expr import Agg, BoolOp, If, Lit, Name, Node, T, Unary, children
from entitle.rules.model import Benefit

Ways = frozenset[str] | None  # the facts taking part in some way to reach a value; None: no way


def _union(*parts: Ways) -> Ways:
    found = [p for p in parts if p is not None]
    return frozenset().union(*found) if found else None


def _all(*parts: Ways) -> Ways:
    found = [p for p in parts if p is not None]
    return frozenset().union(*found) if len(found) == len(parts) else None


class _Settling:
    """Which facts can take part in settling each node, knowing only facts of sensitivity ≤ k."""

    def __init__(self, benefit: Benefit, facts: Mapping[str, FactSpec], level: int) -> None:
        self.benefit, self.facts, self.level = benefit, facts, level
        self.memo: dict[int, tuple[Ways, Ways, Ways]] = {}

    def ways(self, node: Node) -> tuple[Ways, Ways, Ways]:
        """(to true, to false, to a value): the facts in some way of reaching each."""
        key = id(node)
        found = self.memo.get(key)
        if found is None:
            found = self.memo[key] = self._ways(node)
        return found

    def _ways(self, node: Node) -> tuple[Ways, Ways, Ways]:
        if isinstance(node, Lit):
            if node.value is None:
                return (None, None, None)
            empty: Ways = frozenset()
            return (
                empty if node.value is True else None,
                empty if node.value is False else None,
                empty,
            )
        if isinstance(node, Name):
            if node.kind == "cond":
                return self.ways(self.benefit.conditions[node.target].node)
            if node.kind in ("fact", "member_fact"):
                known = self.facts[node.target].sensitivity <= self.level
                ways: Ways = frozenset((node.target,)) if known else None
                return (ways, ways, ways) if node.type == T.BOOL else (None, None, ways)
            return _value(frozenset())
        if isinstance(node, Unary) and node.op == "not":
            true, false, value = self.ways(node.operand)
            return (false, true, value)
        if isinstance(node, BoolOp):
            items = [self.ways(item) for item in node.items]
            trues, falses = [t for t, _, _ in items], [f for _, f, _ in items]
            if node.op == "and":
                return _value_of(_all(*trues), _union(*falses))
            return _value_of(_union(*trues), _all(*falses))
        if isinstance(node, If):
            c_true, c_false, _ = self.ways(node.cond)
            then, other = self.ways(node.then), self.ways(node.other)
            picked = [_union(_all(c_true, then[i]), _all(c_false, other[i])) for i in range(3)]
            # a truth value both branches reach is settled whatever the condition
            true, false = (_union(picked[i], _all(then[i], other[i])) for i in range(2))
            return (true, false, picked[2])
        if isinstance(node, Agg):
            item = self.ways(node.item)
            flt = self.ways(node.filter) if node.filter is not None else (frozenset(), None, None)
            if node.fn == "any":
                return _value_of(_all(flt[0], item[0]), _union(flt[1], item[1]))
            if node.fn == "all":
                return _value_of(_all(flt[0], item[1]), _union(flt[1], item[0]))
            return _value(_all(item[2], _union(flt[0], flt[1])))
        # comparisons, arithmetic, calls: every operand's value
        value = _all(*(self.ways(child)[2] for child in children(node)))
        return (value, value, value) if node.type == T.BOOL else (None, None, value)


def _value(ways: Ways) -> tuple[Ways, Ways, Ways]:
    return (None, None, ways)


def _value_of(true: Ways, false: Ways) -> tuple[Ways, Ways, Ways]:
    return (true, false, _union(true, false))


def phases(benefit: Benefit, facts: Mapping[str, FactSpec]) -> dict[str, int]:
    """Each fact's phase: the lowest sensitivity level at which it can help settle the decision."""
    levels = sorted({spec.sensitivity for spec in facts.values()})
    phase: dict[str, int] = {}
    for level in levels:
        settling = _Settling(benefit, facts, level)
        true, false, _ = settling.ways(benefit.eligible)
        helping = _union(true, false, *(settling.ways(o.node)[2] for o in benefit.outputs.values()))
        for name in helping or ():
            phase.setdefault(name, level)
    top = levels[-1] if levels else 1
    return {name: phase.get(name, max(top, spec.sensitivity)) for name, spec in facts.items()}


def settle_chances(benefit: Benefit, facts: Mapping[str, FactSpec]) -> dict[str, float]:
    """Per fact, the best chance that its value alone short-circuits an `and`, `or`, `any` or `all`
    above it (0 for facts that only feed comparisons or arithmetic). A member's conditions inside
    `any(a and b)` count for the `any`: a true value makes one member, and so the `any`, true."""
    chance: dict[str, float] = dict.fromkeys(facts, 0.0)

    def visit(node: Node, short: bool | None, seen: frozenset[str]) -> None:
        if isinstance(node, Name):
            if node.kind == "cond" and node.target not in seen:
                cond = benefit.conditions[node.target].node
                visit(cond, short, seen | {node.target})
            elif node.kind in ("fact", "member_fact") and short is not None:
                p_true = facts[node.target].share_true
                p = p_true if short else 1.0 - p_true
                chance[node.target] = max(chance[node.target], p)
            return
        if isinstance(node, Unary) and node.op == "not":
            visit(node.operand, None if short is None else not short, seen)
        elif isinstance(node, BoolOp):
            for item in node.items:
                visit(item, node.op == "or", seen)
        elif isinstance(node, Agg) and node.fn in ("any", "all"):
            item, wanted = node.item, node.fn == "any"
            if isinstance(item, BoolOp) and (item.op == "and") == wanted:
                for part in item.items:  # a member's conditions: each must hold for it to count
                    visit(part, wanted, seen)
            else:
                visit(item, wanted, seen)
            if node.filter is not None:
                visit(node.filter, None, seen)
        else:
            for child in children(node):
                visit(child, None, seen)

    visit(benefit.eligible, None, frozenset())
    for output in benefit.outputs.values():
        visit(output.node, None, frozenset())
    return chance


def fetch_order(benefit: Benefit, facts: Mapping[str, FactSpec]) -> list[tuple[int, FactSpec]]:
    """The facts in fetch order, each with its phase."""
    phase, chance = phases(benefit, facts), settle_chances(benefit, facts)
    ordered = sorted(
        facts.values(),
        key=lambda f: (phase[f.name], -chance[f.name], f.sensitivity, f.cost, f.name),
    )
    return [(phase[f.name], f) for f in ordered]


def one_member_at_a_time(
    benefit: Benefit, order: list[tuple[int, FactSpec]], member_facts: frozenset[str]
) -> frozenset[str]:
    """The member facts asked one member at a time (stopping at the member that settles).

    Splitting a fact over several round trips must not let a less sensitive fact, read later,
    become able to settle the decision while more members' values of the more sensitive fact are
    still asked: so a member fact is split only when no less sensitive fact after it in the order
    can refute the eligibility or fix an output (e.g. LEZ: the household's collective flag can
    refute the family exemption, so the members' increased allowance is asked all at once)."""
    top = max((spec.sensitivity for _, spec in order), default=1)
    settling = _Settling(benefit, {spec.name: spec for _, spec in order}, top)
    _, false, _ = settling.ways(benefit.eligible)
    refuting = _union(false, *(settling.ways(o.node)[2] for o in benefit.outputs.values()))
    refuters = refuting or frozenset()
    split = set()
    for i, (_, spec) in enumerate(order):
        later = order[i + 1 :]
        if spec.name in member_facts and not any(
            other.sensitivity < spec.sensitivity and other.name in refuters for _, other in later
        ):
            split.add(spec.name)
    return frozenset(split)
