"""The scalar engine: one subject, facts pulled lazily stage by stage (a member fact one member
at a time), with an explanation trace.

Every expression is compiled once into closures that return `(value, deps)`: the value (None is
unknown) and, when it is unknown, the facts whose unknownness makes it so. Only those facts can
still change the outcome, so only those are requested from the provider — cheapest, least
sensitive stage first — until nothing that could decide is left to ask.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from entitle.rules.bounds import ORDERED, by_bounds, hull, interval_op
from entitle.rules.catalogue import Catalogue, default_catalogue
from entitle.rules.decision import Decision, FactRequest, MissingFact, Subject, TraceLine
from entitle.rules.expr import (
    Agg,
    AsOf,
    Binary,
    BoolOp,
    Call,
    If,
    InList,
    Lit,
    Name,
    Node,
    T,
    Unary,
)
from entitle.rules.expr import children as _children
from entitle.rules.logic import Outcome, outcome_of
from entitle.rules.model import Benefit
from entitle.rules.plan import facts_in, plan_benefit
from entitle.rules.render import render

Deps = frozenset[FactRequest]
Result = tuple[Any, Deps]
Fn = Callable[["Ctx", str | None], Result]
Bounds = tuple[float, float]
BoundsFn = Callable[["Ctx", str | None], Bounds]
UNBOUNDED: Bounds = (-math.inf, math.inf)

EMPTY: Deps = frozenset()
MISSING = object()  # asked for, but the source had no data


class Provider(Protocol):
    """Answers fact requests; a request absent from the answer had no data."""

    def __call__(self, requests: Sequence[FactRequest]) -> Mapping[FactRequest, Any]: ...


class Ctx:
    """What one evaluation pass sees."""

    __slots__ = ("as_of", "conds", "params", "subject", "values")

    def __init__(
        self, subject: Subject, values: dict[FactRequest, Any], params: dict[str, Any], as_of: date
    ) -> None:
        self.subject = subject
        self.values = values
        self.params = params
        self.as_of = as_of
        self.conds: dict[str, Result] = {}


def years_between(born: date, at: date) -> int:
    """Whole years from `born` to `at`."""
    return at.year - born.year - ((at.month, at.day) < (born.month, born.day))


def band_value(bands: tuple[tuple[float | None, Any], ...], x: float, scale: int) -> Any:
    """The value of the first band whose upper edge exceeds x."""
    for below, value in bands:
        if below is None or x < below * scale:
            return value
    return None


_CMP: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def _arith(op: str) -> Callable[[Any, Any], Any]:
    if op == "+":
        return operator.add
    if op == "-":
        return operator.sub
    if op == "*":
        return operator.mul

    def divide(a: Any, b: Any) -> Any:
        return None if b == 0 else a / b

    return divide


class _Compiler:
    def __init__(self, conditions: dict[str, Fn], domains: Mapping[str, Bounds]) -> None:
        self.conditions = conditions
        self.domains = domains
        self.fns: dict[Node, Fn] = {}
        self.bound_fns: dict[Node, BoundsFn] = {}

    def compile(self, node: Node) -> Fn:
        fn = self.fns.get(node)
        if fn is None:
            method: Callable[[Any], Fn] = getattr(self, f"_{type(node).__name__.lower()}")
            fn = self.fns[node] = method(node)
        return fn

    def bounds(self, node: Node) -> BoundsFn:
        """An interval holding the node's value in every completion of the unknown facts."""
        fn = self.bound_fns.get(node)
        if fn is None:
            fn = self.bound_fns[node] = self._bounds(node)
        return fn

    def _bounds(self, node: Node) -> BoundsFn:
        value = self.compile(node)
        if isinstance(node, Name) and node.kind in ("fact", "member_fact"):
            domain = self.domains.get(node.target, UNBOUNDED)
        else:
            domain = UNBOUNDED
        inner = self._inner_bounds(node)

        def bounded(ctx: Ctx, m: str | None) -> Bounds:
            v, _ = value(ctx, m)
            if v is not None:
                return (float(v), float(v))
            return domain if inner is None else inner(ctx, m)

        return bounded

    def bound_deps(self, node: Node) -> Callable[[Ctx, str | None], Deps]:
        """The unknown facts that could narrow a bounded node's interval: those of its value, and
        under an `if` whose condition is unknown, those of both branches as well."""
        value = self.compile(node)
        if isinstance(node, If):
            cond = self.compile(node.cond)
            then, other = self.bound_deps(node.then), self.bound_deps(node.other)

            def branches(ctx: Ctx, m: str | None) -> Deps:
                v, _ = value(ctx, m)
                if v is not None:
                    return EMPTY
                c, dc = cond(ctx, m)
                if c is None:
                    return dc | then(ctx, m) | other(ctx, m)
                return then(ctx, m) if c else other(ctx, m)

            return branches
        parts: list[Callable[[Ctx, str | None], Deps]] = []
        if (
            (isinstance(node, Unary) and node.op == "-")
            or (isinstance(node, Binary) and node.op in ("+", "-", "*"))
            or (isinstance(node, Call) and node.fn in ("min", "max") and len(node.args) >= 2)
        ):
            parts = [self.bound_deps(child) for child in _children(node)]
        elif isinstance(node, Agg) and node.fn == "sum":
            item = self.bound_deps(node.item)

            def members(ctx: Ctx, m: str | None) -> Deps:
                if value(ctx, m)[0] is not None:
                    return EMPTY
                return frozenset().union(*(item(ctx, member) for member in ctx.subject.members))

            return members
        if not parts:
            return lambda ctx, m: value(ctx, m)[1]

        def union(ctx: Ctx, m: str | None) -> Deps:
            if value(ctx, m)[0] is not None:
                return EMPTY
            return frozenset().union(*(part(ctx, m) for part in parts))

        return union

    def _inner_bounds(self, node: Node) -> BoundsFn | None:
        """Bounds of an unknown node from its operands' bounds; None: its domain (or anything)."""
        if isinstance(node, Unary) and node.op == "-":
            operand = self.bounds(node.operand)

            def negated(ctx: Ctx, m: str | None) -> Bounds:
                lo, hi = operand(ctx, m)
                return (-hi, -lo)

            return negated
        if isinstance(node, Binary) and node.op in ("+", "-", "*"):
            left, right, op = self.bounds(node.left), self.bounds(node.right), node.op
            return lambda ctx, m: interval_op(op, left(ctx, m), right(ctx, m))
        if isinstance(node, If):
            cond, then, other = (
                self.compile(node.cond),
                self.bounds(node.then),
                self.bounds(node.other),
            )

            def branch(ctx: Ctx, m: str | None) -> Bounds:
                c, _ = cond(ctx, m)
                if c is None:
                    return hull(then(ctx, m), other(ctx, m))
                return then(ctx, m) if c else other(ctx, m)

            return branch
        if isinstance(node, Call) and node.fn in ("min", "max") and len(node.args) >= 2:
            args = [self.bounds(arg) for arg in node.args]
            pick = min if node.fn == "min" else max

            def extreme(ctx: Ctx, m: str | None) -> Bounds:
                found = [arg(ctx, m) for arg in args]
                return (pick(lo for lo, _ in found), pick(hi for _, hi in found))

            return extreme
        if isinstance(node, Agg) and node.fn == "sum":
            item = self.bounds(node.item)

            def total(ctx: Ctx, m: str | None) -> Bounds:
                lo = hi = 0.0
                for member in ctx.subject.members:
                    a, b = item(ctx, member)
                    lo, hi = lo + a, hi + b
                return (lo, hi)

            return total
        return None

    def _lit(self, node: Lit) -> Fn:
        result = (node.value, EMPTY)
        return lambda ctx, m: result

    def _asof(self, node: AsOf) -> Fn:
        return lambda ctx, m: (ctx.as_of, EMPTY)

    def _name(self, node: Name) -> Fn:
        kind, target = node.kind, node.target
        if kind == "param":
            return lambda ctx, m: (ctx.params[target], EMPTY)
        if kind == "size":
            return lambda ctx, m: (len(ctx.subject.members), EMPTY)
        if kind == "cond":
            conditions = self.conditions

            def cond(ctx: Ctx, m: str | None) -> Result:
                cached = ctx.conds.get(target)
                if cached is None:
                    cached = ctx.conds[target] = conditions[target](ctx, None)
                return cached

            return cond
        return _fact_fn(kind, target)

    def _unary(self, node: Unary) -> Fn:
        inner = self.compile(node.operand)
        if node.op == "not":

            def negate(ctx: Ctx, m: str | None) -> Result:
                v, d = inner(ctx, m)
                return (None, d) if v is None else (not v, EMPTY)

            return negate

        def minus(ctx: Ctx, m: str | None) -> Result:
            v, d = inner(ctx, m)
            return (None, d) if v is None else (-v, EMPTY)

        return minus

    def _boolop(self, node: BoolOp) -> Fn:
        items = [self.compile(item) for item in node.items]
        decisive = node.op == "or"  # the value that decides the whole chain

        def chain(ctx: Ctx, m: str | None) -> Result:
            deps: Deps | None = None
            for item in items:
                v, d = item(ctx, m)
                if v is decisive:
                    return (decisive, EMPTY)
                if v is None:
                    deps = d if deps is None else deps | d
            return (not decisive, EMPTY) if deps is None else (None, deps)

        return chain

    def _binary(self, node: Binary) -> Fn:
        left, right = self.compile(node.left), self.compile(node.right)
        op = _CMP.get(node.op) or _arith(node.op)
        if node.op in _CMP and node.left.type in ORDERED and node.right.type in ORDERED:
            return self._compare(node, left, right, op)

        def binary(ctx: Ctx, m: str | None) -> Result:
            a, da = left(ctx, m)
            b, db = right(ctx, m)
            if a is None or b is None:
                return (None, (da if a is None else EMPTY) | (db if b is None else EMPTY))
            return (op(a, b), EMPTY)

        return binary

    def _compare(self, node: Binary, left: Fn, right: Fn, op: Callable[[Any, Any], bool]) -> Fn:
        """A comparison of numbers: an unknown operand may still be decided by the bounds."""
        left_bounds, right_bounds, symbol = self.bounds(node.left), self.bounds(node.right), node.op

        left_deps, right_deps = self.bound_deps(node.left), self.bound_deps(node.right)

        def compare(ctx: Ctx, m: str | None) -> Result:
            a, _ = left(ctx, m)
            b, _ = right(ctx, m)
            if a is None or b is None:
                decided = by_bounds(symbol, left_bounds(ctx, m), right_bounds(ctx, m))
                if decided is not None:
                    return (decided, EMPTY)
                return (None, left_deps(ctx, m) | right_deps(ctx, m))
            return (op(a, b), EMPTY)

        return compare

    def _inlist(self, node: InList) -> Fn:
        inner = self.compile(node.operand)
        values, negate = frozenset(node.values), node.negate

        def member_of(ctx: Ctx, m: str | None) -> Result:
            v, d = inner(ctx, m)
            return (None, d) if v is None else ((v in values) != negate, EMPTY)

        return member_of

    def _if(self, node: If) -> Fn:
        cond, then, other = (
            self.compile(node.cond),
            self.compile(node.then),
            self.compile(node.other),
        )

        def branch(ctx: Ctx, m: str | None) -> Result:
            c, d = cond(ctx, m)
            if c is None:
                return (None, d)
            return then(ctx, m) if c else other(ctx, m)

        return branch

    def _call(self, node: Call) -> Fn:
        fn = node.fn
        if fn in ("lookup", "band"):
            table = node.args[0]
            assert isinstance(table, Name)
            name, key = table.target, self.compile(node.args[1])
            scale = 100 if table.type == T.MONEY else 1

            def lookup(ctx: Ctx, m: str | None) -> Result:
                k, d = key(ctx, m)
                if k is None:
                    return (None, d)
                param = ctx.params[name]
                if param is None:
                    return (None, EMPTY)
                return (param.get(k) if fn == "lookup" else band_value(param, k, scale), EMPTY)

            return lookup
        args = [self.compile(arg) for arg in node.args]
        if fn in ("min", "max"):
            pick = min if fn == "min" else max

            def extreme(ctx: Ctx, m: str | None) -> Result:
                results = [arg(ctx, m) for arg in args]
                unknown = [d for v, d in results if v is None]
                if unknown:
                    return (None, frozenset().union(*unknown))
                return (pick(v for v, _ in results), EMPTY)

            return extreme

        def dated(ctx: Ctx, m: str | None) -> Result:
            results = [arg(ctx, m) for arg in args]
            unknown = [d for v, d in results if v is None]
            if unknown:
                return (None, frozenset().union(*unknown))
            born = results[0][0]
            if fn == "year":
                return (born.year, EMPTY)
            at = ctx.as_of if fn == "age" else results[1][0]
            return (years_between(born, at), EMPTY)

        return dated

    def _agg(self, node: Agg) -> Fn:
        item = self.compile(node.item)
        flt = self.compile(node.filter) if node.filter is not None else None
        fn = node.fn

        def aggregate(ctx: Ctx, m: str | None) -> Result:
            deps: Deps | None = None
            values = []
            for member in ctx.subject.members:
                if flt is not None:
                    f, df = flt(ctx, member)
                    if f is None:
                        deps = df if deps is None else deps | df
                        continue
                    if not f:
                        continue
                v, d = item(ctx, member)
                if v is None:
                    deps = d if deps is None else deps | d
                elif fn == "any" and v:
                    return (True, EMPTY)
                elif fn == "all" and not v:
                    return (False, EMPTY)
                else:
                    values.append(v)
            if deps is not None:
                return (None, deps)
            if fn == "any":
                return (False, EMPTY)
            if fn == "all":
                return (True, EMPTY)
            if fn == "sum":
                return (sum(values), EMPTY)
            if not values:
                return (None, EMPTY)
            return (min(values) if fn == "min" else max(values), EMPTY)

        return aggregate


def _fact_fn(kind: str, fact: str) -> Fn:
    on_household = fact.startswith("household.")

    def read(ctx: Ctx, m: str | None) -> Result:
        if kind == "member_fact":
            assert m is not None
            entity = m
        else:
            entity = ctx.subject.household_id if on_household else ctx.subject.id
        key = FactRequest(entity, fact)
        v = ctx.values.get(key, MISSING)
        if v is MISSING:
            return (None, frozenset((key,)))
        return (v, EMPTY)

    return read


@dataclass
class Program:
    """A benefit compiled for the scalar engine."""

    conditions: dict[str, Fn]
    eligible: Fn
    outputs: dict[str, Fn]
    stage_of: dict[str, int]
    compiler: _Compiler
    one_member: frozenset[str]  # member facts asked one member at a time


def compile_benefit(benefit: Benefit, catalogue: Catalogue | None = None) -> Program:
    """Compile (once, cached on the benefit) into closures."""
    cached = benefit.compiled.get("scalar")
    if isinstance(cached, Program):
        return cached
    catalogue = catalogue or default_catalogue()
    plan = plan_benefit(benefit, catalogue)
    conditions: dict[str, Fn] = {}
    domains = {name: spec.domain for name, spec in plan.facts.items()}
    compiler = _Compiler(conditions, domains)
    for name, cond in benefit.conditions.items():
        conditions[name] = compiler.compile(cond.node)
    program = Program(
        conditions=conditions,
        eligible=compiler.compile(benefit.eligible),
        outputs={name: compiler.compile(out.node) for name, out in benefit.outputs.items()},
        stage_of=plan.stage_of,
        compiler=compiler,
        one_member=plan.one_member,
    )
    benefit.compiled["scalar"] = program
    return program


ELIGIBLE = "eligible"  # what a missing fact settles: eligibility, or an output's name


def _pass(program: Program, ctx: Ctx) -> tuple[Any, dict[str, Any], dict[str, Deps]]:
    """One evaluation: eligibility, outputs, and per part (eligible, an output) what decides it."""
    eligible, deps = program.eligible(ctx, None)
    decisive: dict[str, Deps] = {ELIGIBLE: deps} if eligible is None else {}
    outputs: dict[str, Any] = {}
    if eligible is True:
        for name, fn in program.outputs.items():
            value, out_deps = fn(ctx, None)
            outputs[name] = value
            if value is None and out_deps:
                decisive[name] = out_deps
    return eligible, outputs, decisive


def evaluate(
    benefit: Benefit,
    subject: Subject,
    provider: Provider,
    as_of: date,
    *,
    explain: bool = True,
    catalogue: Catalogue | None = None,
    known: Mapping[FactRequest, Any] | None = None,
) -> Decision:
    """Decide one subject, fetching facts lazily from `provider`, stage by stage.

    `known` holds facts already at hand (None: asked, no data); they are never asked again.
    An eligible subject with outputs still unknown is a partial decision: eligible, those outputs
    open (None, with their certain minimum where the output has levels).
    """
    program = compile_benefit(benefit, catalogue)
    params = _params(benefit, as_of)
    values: dict[FactRequest, Any] = {
        key: MISSING if value is None else value for key, value in (known or {}).items()
    }
    stage_of = program.stage_of
    while True:
        ctx = Ctx(subject, values, params, as_of)
        eligible, outputs, decisive = _pass(program, ctx)
        pending = {key for deps in decisive.values() for key in deps if key not in values}
        if not pending:
            break
        stage = min(stage_of[key.fact] for key in pending)
        batch = sorted(key for key in pending if stage_of[key.fact] == stage)
        if batch[0].fact in program.one_member:
            batch = _one_member(subject, batch)
        answer = provider(batch)
        for key in batch:
            value = answer.get(key)
            values[key] = MISSING if value is None else value
    conditions = {
        name: ctx.conds.get(name) or fn(ctx, None) for name, fn in program.conditions.items()
    }
    outcome = outcome_of(eligible)
    fetched = list(values)
    missing = _missing(subject, decisive)
    decision = Decision(
        benefit=benefit.id,
        version=benefit.version,
        subject_kind=subject.kind,
        subject_id=subject.id,
        as_of=as_of,
        outcome=outcome,
        outputs={name: out.present(outputs.get(name)) for name, out in benefit.outputs.items()}
        if eligible is True
        else {},
        conditions={name: value for name, (value, _) in conditions.items()},
        facts_used=sorted({key.fact for key in fetched}),
        facts_missing=sorted({item.fact for item in missing}),
        valid_until=benefit.valid_until(as_of) if eligible is True else None,
        fetch_count=len(fetched),
        missing=missing,
    )
    if outcome == Outcome.ELIGIBLE:
        decision.at_least = _at_least(benefit, program, ctx, outputs)
    if explain:
        decision.trace = _trace(benefit, conditions, values, params)
    return decision


def _one_member(subject: Subject, batch: list[FactRequest]) -> list[FactRequest]:
    """A member fact (`Plan.one_member`) is asked one member at a time: the subject's own first,
    then the members in listing order (`Subject.members`, see `decision.listing`: by position
    code, then person id), stopping as soon as the decision no longer needs the rest."""
    if len(batch) <= 1:
        return batch
    by_entity = {key.entity_id: key for key in batch}
    if subject.kind == "person" and subject.id in by_entity:
        return [by_entity[subject.id]]
    first = next((m for m in subject.members if m in by_entity), None)
    return [by_entity[first]] if first is not None else sorted(batch)


def _missing(subject: Subject, decisive: dict[str, Deps]) -> list[MissingFact]:
    """The facts still missing, whose they are and what each would settle."""
    settles: dict[FactRequest, list[str]] = {}
    for part, deps in decisive.items():
        for key in deps:
            settles.setdefault(key, []).append(part)
    out = []
    for key, parts in settles.items():
        if key.entity_id == subject.id and subject.kind == "person":
            whose, member = "subject", None
        elif key.fact.startswith("household."):
            whose, member = "household", None
        else:
            whose, member = "member", subject.members.index(key.entity_id) + 1
        out.append(MissingFact(key.fact, whose, member, tuple(sorted(parts))))
    return sorted(out, key=missing_order)


def missing_order(item: MissingFact) -> tuple[str, int, str]:
    """The order of missing facts in a decision: by fact, then by member."""
    return (item.fact, item.member or 0, item.whose)


def _at_least(
    benefit: Benefit, program: Program, ctx: Ctx, outputs: dict[str, Any]
) -> dict[str, Any]:
    """For open outputs with levels: the least level still possible, certain in every completion."""
    out: dict[str, Any] = {}
    for name, output in benefit.outputs.items():
        if outputs.get(name) is None and output.levels:
            possible = _possible(program.compiler, output.node, ctx)
            out[name] = next(
                (level for level in output.levels if possible is None or level in possible), None
            )
    return out


def _possible(compiler: _Compiler, node: Node, ctx: Ctx) -> set[Any] | None:
    """The values a node can still take (None: any), following `if` branches."""
    value, _ = compiler.compile(node)(ctx, None)
    if value is not None:
        return {value}
    if not isinstance(node, If):
        return None
    c, _ = compiler.compile(node.cond)(ctx, None)
    if c is not None:
        return _possible(compiler, node.then if c else node.other, ctx)
    then, other = _possible(compiler, node.then, ctx), _possible(compiler, node.other, ctx)
    return None if then is None or other is None else then | other


def _params(benefit: Benefit, as_of: date) -> dict[str, Any]:
    cache: dict[date, dict[str, Any]] = benefit.compiled.setdefault("params", {})
    params = cache.get(as_of)
    if params is None:
        params = cache[as_of] = benefit.params_at(as_of)
    return params


def _trace(
    benefit: Benefit,
    conditions: dict[str, Result],
    values: dict[FactRequest, Any],
    params: dict[str, Any],
) -> list[TraceLine]:
    lines = []
    for name, cond in benefit.conditions.items():
        value, deps = conditions[name]
        missing = tuple(sorted({key.fact for key in deps if values.get(key) is MISSING}))
        consulted = value is not None or bool(missing) or not deps
        lines.append(
            TraceLine(
                condition=name,
                text=cond.text,
                value=value,
                rule=render(cond.node, params),
                facts=tuple(sorted({ref.target for ref in facts_in(cond.node)})),
                missing=missing,
                consulted=consulted,
            )
        )
    return lines
