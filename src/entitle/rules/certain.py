"""The certain part of a partial decision: its open outputs as they are at their certain minimum.

A partial decision is eligible for certain with outputs still open; an output with levels states
its certain minimum (`Decision.at_least`, e.g. LEZ: at least the reduced tariff). To grant that
minimum at once, a letter or a billing list also needs the other open outputs *as they are at
that level* (the reduced tariff's prices, category C's discounts).

`outputs_at_least` finds the assumptions on the still unknown named conditions under which each
levelled output takes its minimum: it follows the output's `if` branches to those that yield the
minimum, and a branch test fixes its named conditions (`a or b` false: both false; `a and b`
true: both true; `not a`: the opposite of `a`). It then evaluates the open outputs under each
assumption found. The part is certain only when every assumption gives the same outputs, each
levelled output comes out at its minimum, and no output reads a fact or the household's size
directly (only conditions and parameters): otherwise there is no certain part to grant (None).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date
from typing import Any

from entitle.rules.decision import Subject
from entitle.rules.expr import Agg, BoolOp, If, Name, Node, Unary, walk
from entitle.rules.model import Benefit
from entitle.rules.scalar import EMPTY, Ctx, _Compiler, compile_benefit

Assumption = dict[str, bool]  # named condition -> the value assumed for it

_NOBODY = Subject("person", "", "", ())


def outputs_at_least(
    benefit: Benefit,
    as_of: date,
    conditions: Mapping[str, bool | None],
    outputs: Mapping[str, Any],
    at_least: Mapping[str, Any],
) -> dict[str, Any] | None:
    """Every output of an eligible decision, the open ones at their certain minimum (as shown:
    money in euros), or None when that minimum is not certain for every open output."""
    open_ = [name for name in benefit.outputs if outputs.get(name) is None]
    if not open_:
        return dict(outputs)
    if any(not _computable(benefit.outputs[name].node) for name in open_):
        return None
    program = compile_benefit(benefit)
    compiler = program.compiler
    params = benefit.params_at(as_of)
    known: Assumption = {k: v for k, v in conditions.items() if v is not None}
    scenarios: list[Assumption] = [{}]
    for name, least in at_least.items():
        if name not in open_:
            continue
        node = benefit.outputs[name].node
        scenarios = [
            merged
            for before in scenarios
            for found in _reach(compiler, node, least, benefit, as_of, params, known | before)
            if (merged := _merge(before, found)) is not None
        ]
    results = []
    for assumed in scenarios:
        ctx = _ctx(benefit, as_of, params, known | assumed)
        values = {name: program.outputs[name](ctx, None)[0] for name in open_}
        if any(value is None for value in values.values()):
            return None
        shown = {name: benefit.outputs[name].present(v) for name, v in values.items()}
        if any(shown[name] != least for name, least in at_least.items() if name in shown):
            return None
        results.append(shown)
    if not results or any(r != results[0] for r in results[1:]):
        return None
    return {**outputs, **results[0]}


def _computable(node: Node) -> bool:
    """Reads only conditions, parameters and literals (no fact, no household size, no member)."""
    for item in walk(node):
        if isinstance(item, Agg):
            return False
        if isinstance(item, Name) and item.kind not in ("cond", "param"):
            return False
    return True


def _ctx(benefit: Benefit, as_of: date, params: dict[str, Any], known: Assumption) -> Ctx:
    """An evaluation context that knows the named conditions only (facts unknown)."""
    ctx = Ctx(_NOBODY, {}, params, as_of)
    ctx.conds = {name: (known.get(name), EMPTY) for name in benefit.conditions}
    return ctx


def _reach(
    compiler: _Compiler,
    node: Node,
    level: Any,
    benefit: Benefit,
    as_of: date,
    params: dict[str, Any],
    known: Assumption,
) -> Iterator[Assumption]:
    """Each assumption on unknown conditions under which `node` takes the value `level`."""
    ctx = _ctx(benefit, as_of, params, known)
    value, _ = compiler.compile(node)(ctx, None)
    if value is not None:
        if value == level:
            yield {}
        return
    if not isinstance(node, If):
        return
    test, _ = compiler.compile(node.cond)(ctx, None)
    if test is not None:
        yield from _reach(
            compiler, node.then if test else node.other, level, benefit, as_of, params, known
        )
        return
    for truth, branch in ((False, node.other), (True, node.then)):
        forced = _force(node.cond, truth, known)
        if forced is None:
            continue
        for found in _reach(compiler, branch, level, benefit, as_of, params, known | forced):
            merged = _merge(forced, found)
            if merged is not None:
                yield merged


def _force(node: Node, truth: bool, known: Assumption) -> Assumption | None:
    """The named conditions to assume so that the test `node` is `truth` (None: no single way)."""
    if isinstance(node, Name) and node.kind == "cond":
        value = known.get(node.target)
        if value is None:
            return {node.target: truth}
        return {} if value == truth else None
    if isinstance(node, Unary) and node.op == "not":
        return _force(node.operand, not truth, known)
    if isinstance(node, BoolOp) and (node.op == "or") != truth:  # or: all false; and: all true
        out: Assumption = {}
        for item in node.items:
            forced = _force(item, truth, known)
            merged = None if forced is None else _merge(out, forced)
            if merged is None:
                return None
            out = merged
        return out
    return None


def _merge(a: Assumption, b: Assumption) -> Assumption | None:
    """Both assumptions together, or None when they contradict each other."""
    if any(a[name] != value for name, value in b.items() if name in a):
        return None
    return {**a, **b}
