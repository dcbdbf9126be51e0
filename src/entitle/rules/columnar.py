"""The columnar engine: a benefit compiled to Polars expressions over whole populations.

Two frames carry the work: the subject frame `S` (one row per subject) and, when the benefit
aggregates over household members, the member frame `M` (one row per subject × member). Every
expression node becomes a column; Polars' `&`/`|` are Kleene, and the other operators are made to
propagate null (unknown) exactly like the scalar engine.

Fetching is lazy per row and per fact, like the scalar engine: after each pass a *decisive* mask
is computed top-down (a fact matters for a row when the row's outcome is unknown and the fact lies
on an unknown path to it); the earliest stage with decisive, unfetched facts is fetched for exactly
those rows, and only rows still undecided are evaluated again. Each subject sees only the facts
fetched for it, so both engines give the same outcome, outputs, condition values, facts used and
facts missing for every subject.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

import numpy as np
import polars as pl

from entitle.rules.bounds import ORDERED
from entitle.rules.cases import Case
from entitle.rules.catalogue import Catalogue, default_catalogue
from entitle.rules.decision import Decision, FactRequest, MissingFact
from entitle.rules.expr import (
    COMPARISONS,
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
    children,
)
from entitle.rules.listing import Ints, listing_places
from entitle.rules.logic import Outcome
from entitle.rules.model import Benefit
from entitle.rules.plan import Plan, plan_benefit

Flags = np.ndarray[Any, np.dtype[np.bool_]]
DTYPES: dict[T, pl.DataType] = {
    T.BOOL: pl.Boolean(),
    T.INT: pl.Int64(),
    T.MONEY: pl.Int64(),
    T.NUMBER: pl.Float64(),
    T.TEXT: pl.String(),
    T.DATE: pl.Date(),
    T.ANY: pl.Null(),
}

SUBJECT, HOUSEHOLD, MEMBER = "_s", "_h", "_m"
OPEN = "open|"  # S: the subject has a fact still to fetch
MISSING_TYPE = pl.List(
    pl.Struct(
        {
            "fact": pl.String(),
            "whose": pl.String(),
            "member": pl.Int64(),
            "settles": pl.List(pl.String()),
        }
    )
)


@dataclass
class Population:
    """Person and household tables; column names are fact names without their entity prefix."""

    persons: pl.DataFrame  # person_id, household_id, <person facts>
    households: pl.DataFrame  # household_id, <household facts>
    subjects: Sequence[str] | None = None  # the target population (default: everyone)
    _index: tuple[pl.DataFrame, pl.Series] | None = field(default=None, init=False, repr=False)
    _listing: Ints | None = field(default=None, init=False, repr=False)

    def listing(self) -> Ints:
        """Each person's place in their household's listing (0-based, computed once)."""
        if self._listing is None:
            self._listing = self._places_in(None, self._households_of_persons())
        return self._listing

    def places(self, persons: Ints) -> Ints:
        """The listing places of some persons (positions): only their households are sorted,
        unless the whole listing is known already."""
        if self._listing is not None:
            return self._listing[persons]
        households = self._households_of_persons()
        wanted = np.zeros(self.households.height, dtype=np.bool_)
        wanted[households[persons]] = True
        rows = np.flatnonzero(wanted[households])
        return self._places_in(rows, households)[np.searchsorted(rows, persons)]

    def _households_of_persons(self) -> Ints:
        """Each person's household position."""
        return self.index()[0][HOUSEHOLD].to_numpy()

    def _places_in(self, rows: Ints | None, households: Ints) -> Ints:
        """Listing places of the persons at `rows` (ascending, whole households; None: all)."""
        codes = self.persons["position_code"] if "position_code" in self.persons.columns else None
        ids = self.persons["person_id"]
        if rows is not None:
            codes = None if codes is None else codes.gather(rows)
            ids, households = ids.gather(rows), households[rows]
        return listing_places(codes, ids, households)

    def index(self) -> tuple[pl.DataFrame, pl.Series]:
        """Each person's (`_m`) household position (`_h`), and household sizes (computed once)."""
        if self._index is None:
            persons, households = self.persons, self.households
            positions = _contiguous_households(persons["household_id"], households["household_id"])
            if positions is not None:
                sizes = pl.Series(np.bincount(positions.to_numpy(), minlength=households.height))
                rows = pl.DataFrame(
                    {MEMBER: np.arange(persons.height, dtype=np.int64), HOUSEHOLD: positions}
                )
                self._index = (rows, sizes.cast(pl.Int64()))
                return self._index
            rows = persons.select(
                pl.int_range(pl.len(), dtype=pl.Int64()).alias(MEMBER), "household_id"
            ).join(
                households.select(
                    "household_id", pl.int_range(pl.len(), dtype=pl.Int64()).alias(HOUSEHOLD)
                ),
                on="household_id",
                how="left",
                maintain_order="left",
            )
            orphans = rows.filter(pl.col(HOUSEHOLD).is_null())
            if orphans.height:
                raise ValueError(
                    f"{orphans.height} person(s) belong to a household missing from the "
                    f"households table, e.g. {orphans['household_id'][0]!r}"
                )
            sizes = pl.Series(
                np.bincount(rows[HOUSEHOLD].to_numpy(), minlength=households.height)
            ).cast(pl.Int64())
            self._index = (rows.select(MEMBER, HOUSEHOLD), sizes)
        return self._index


def _is_identity(positions: pl.Series, size: int) -> bool:
    """Whether positions are exactly 0..size-1 in order (a gather would copy for nothing)."""
    if len(positions) != size or size == 0:
        return False
    array = positions.to_numpy()
    return bool(array[0] == 0 and array[-1] == size - 1 and (np.diff(array) == 1).all())


def _contiguous_households(of_persons: pl.Series, households: pl.Series) -> pl.Series | None:
    """Household positions without a join, when persons come grouped in the households' order."""
    if of_persons.is_empty() or of_persons.null_count():
        return None
    positions = of_persons.rle_id().cast(pl.Int64())
    if int(positions[-1]) + 1 != len(households):
        return None
    return positions if households.gather(positions).equals(of_persons) else None


class ColumnarProvider(Protocol):
    """Answers one fact for many entities: a Series aligned with `ids` (null = no data)."""

    def fetch(self, fact: str, ids: pl.Series) -> pl.Series: ...


class TableProvider:
    """Answers from a population's own tables through the provider interface (counts requests)."""

    def __init__(self, population: Population) -> None:
        self.population = population
        self.requested: dict[str, int] = defaultdict(int)

    def fetch(self, fact: str, ids: pl.Series) -> pl.Series:
        entity, column = fact.split(".", 1)
        table = self.population.persons if entity == "person" else self.population.households
        self.requested[fact] += len(ids)
        if column not in table.columns:
            return pl.Series("value", [None] * len(ids))
        key = f"{entity}_id"
        return pl.DataFrame({key: ids}).join(
            table.select(key, column), on=key, how="left", maintain_order="left"
        )[column]


def _v(fact: str) -> str:
    return f"v|{fact}"


def _k(fact: str) -> str:
    return f"k|{fact}"


def _need(fact: str) -> str:
    return f"need|{fact}"


def _missing(fact: str) -> str:
    return f"miss|{fact}"


# --------------------------------------------------------------------------- compilation


@dataclass
class _Program:
    """A benefit compiled for one as-of date."""

    benefit: Benefit
    plan: Plan
    as_of: date
    params: dict[str, Any]
    col: dict[Node, str] = field(default_factory=dict)  # node -> column name
    s_levels: list[list[tuple[str, pl.Expr]]] = field(default_factory=list)
    m_levels: list[list[tuple[str, pl.Expr]]] = field(default_factory=list)
    aggs: list[Agg] = field(default_factory=list)
    subject_facts: set[str] = field(default_factory=set)
    member_facts: set[str] = field(default_factory=set)
    bounded_sums: dict[Agg, tuple[pl.Expr, pl.Expr]] = field(default_factory=dict)  # item bounds
    bound_flags: list[str] = field(default_factory=list)  # S columns: decided by bounds here
    bounded: set[Node] = field(default_factory=set)  # nodes whose interval a comparison reads
    deps: dict[str, frozenset[str]] = field(default_factory=dict)  # column -> facts it reads

    @property
    def uses_members(self) -> bool:
        return bool(self.aggs) or bool(self.member_facts)


_BoundExprs = tuple[pl.Expr, pl.Expr, int]  # lower, upper (Float64) and the level they need


def _lo(name: str) -> str:
    return f"lo|{name}"


def _hi(name: str) -> str:
    return f"hi|{name}"


class _Compiler:
    def __init__(self, program: _Program, catalogue: Catalogue) -> None:
        self.p = program
        self.catalogue = catalogue
        self.height: dict[Node, int] = {}
        self.exprs: dict[Node, pl.Expr] = {}
        self.bound_exprs: dict[Node, _BoundExprs] = {}
        self.member_nodes: set[Node] = set()
        self.facts: dict[Node, frozenset[str]] = {}

    def name(self, node: Node) -> str:
        col = self.p.col.get(node)
        if col is None:
            col = self.p.col[node] = f"n{len(self.p.col)}"
        return col

    def ref(self, node: Node) -> pl.Expr:
        return pl.col(self.name(node))

    def add(self, node: Node, in_member: bool = False) -> int:
        """Compile a node (children first); return its level within its frame (S or M)."""
        if node in self.height:
            return self.height[node]
        if isinstance(node, Agg):
            for child in children(node):
                self.add(child, in_member=True)
            self.p.aggs.append(node)
            self.p.deps[self.name(node)] = self.facts_of(node)
            self.height[node] = 0  # joined into S before any S level
            return 0
        if in_member:
            self.member_nodes.add(node)
        level = 1 + max((self.add(child, in_member) for child in _operands(node)), default=0)
        if isinstance(node, Name) and node.kind == "cond":
            root = self.p.benefit.conditions[node.target].node
            level = max(level, self.add(root) + 1)
        if _bounded_comparison(node):
            assert isinstance(node, Binary)
            level = max(level, *(self.bounds(x)[2] + 1 for x in (node.left, node.right)))
        self.height[node] = level
        self._put(self.name(node), self.expr(node), level, in_member, node)
        if _bounded_comparison(node) and not in_member:
            assert isinstance(node, Binary)
            flag = f"bb|{self.name(node)}"
            unknown = self.ref(node.left).is_null() | self.ref(node.right).is_null()
            self._put(flag, unknown & self._decided(node).is_not_null(), level, False, node)
            self.p.bound_flags.append(flag)
        return level

    def _put(self, name: str, expr: pl.Expr, level: int, in_member: bool, node: Node) -> None:
        self.p.deps[name] = self.facts_of(node)
        levels = self.p.m_levels if in_member else self.p.s_levels
        while len(levels) < level:
            levels.append([])
        levels[level - 1].append((name, expr))

    def facts_of(self, node: Node) -> frozenset[str]:
        """The facts a node's value depends on (through named conditions and aggregates too)."""
        found = self.facts.get(node)
        if found is None:
            if isinstance(node, Name) and node.kind in ("fact", "member_fact"):
                found = frozenset({node.target})
            elif isinstance(node, Name) and node.kind == "cond":
                found = self.facts_of(self.p.benefit.conditions[node.target].node)
            else:
                found = frozenset().union(*(self.facts_of(child) for child in children(node)))
            self.facts[node] = found
        return found

    # ------------------------------------------------------------- bounds

    def bounds(self, node: Node) -> _BoundExprs:
        """Float64 lower and upper bounds of a numeric node (see `entitle.rules.bounds`)."""
        found = self.bound_exprs.get(node)
        if found is None:
            found = self.bound_exprs[node] = self._bounds(node)
        return found

    def _point(self, node: Node, lo: float, hi: float) -> _BoundExprs:
        """The node's value when known, else [lo, hi]: inline, needs the node's column."""
        constant = self._constant(node)
        if constant is not None:
            return (constant, constant, 0)
        value = self.ref(node).cast(pl.Float64())
        return (value.fill_null(lo), value.fill_null(hi), self.height[node])

    def _constant(self, node: Node) -> pl.Expr | None:
        """A literal or a parameter's value, known when compiling."""
        if isinstance(node, Lit) and isinstance(node.value, int | float):
            return pl.lit(float(node.value), dtype=pl.Float64())
        if isinstance(node, Name) and node.kind == "param":
            value = self.p.params[node.target]
            if isinstance(value, int | float) and not isinstance(value, bool):
                return pl.lit(float(value), dtype=pl.Float64())
        return None

    def _bounds(self, node: Node) -> _BoundExprs:
        in_member = node in self.member_nodes
        if isinstance(node, Lit | AsOf) or (isinstance(node, Name) and node.kind != "cond"):
            domain = (
                self.catalogue[node.target].domain
                if isinstance(node, Name) and node.kind in ("fact", "member_fact")
                else (-math.inf, math.inf)
            )
            return self._point(node, *domain)
        if isinstance(node, Agg):
            if node.fn != "sum":
                return self._point(node, -math.inf, math.inf)
            item = self.bounds(node.item)
            self.p.bounded_sums[node] = (item[0], item[1])  # read on the unknown members only
            agg = self.name(node)
            return (pl.col(_lo(agg)), pl.col(_hi(agg)), 0)
        inner = self._inner_bounds(node)
        if inner is None:
            return self._point(node, -math.inf, math.inf)
        # a known node's operands are known: its interval is then its value (a point)
        lo, hi, level = inner
        if in_member:  # inline: evaluated on the few member rows whose value is unknown
            return inner
        level += 1
        name = self.name(node)
        self._put(_lo(name), lo, level, in_member, node)
        self._put(_hi(name), hi, level, in_member, node)
        return (pl.col(_lo(name)), pl.col(_hi(name)), level)

    def _inner_bounds(self, node: Node) -> _BoundExprs | None:
        """Bounds of an unknown node from its operands' bounds; None when they say nothing."""
        if isinstance(node, Unary) and node.op == "-":
            lo, hi, level = self.bounds(node.operand)
            return (-hi, -lo, level)
        if isinstance(node, Binary) and node.op in ("+", "-", "*"):
            (alo, ahi, la), (blo, bhi, lb) = self.bounds(node.left), self.bounds(node.right)
            if node.op == "+":
                return (alo + blo, ahi + bhi, max(la, lb))
            if node.op == "-":
                return (alo - bhi, ahi - blo, max(la, lb))
            products = [_times(x, y) for x in (alo, ahi) for y in (blo, bhi)]
            return (pl.min_horizontal(*products), pl.max_horizontal(*products), max(la, lb))
        if isinstance(node, If):
            c = self.ref(node.cond)
            (tlo, thi, lt), (olo, ohi, lo_) = self.bounds(node.then), self.bounds(node.other)
            level = max(lt, lo_, self.height[node.cond])
            return (
                pl.when(c.is_null())
                .then(pl.min_horizontal(tlo, olo))
                .when(c)
                .then(tlo)
                .otherwise(olo),
                pl.when(c.is_null())
                .then(pl.max_horizontal(thi, ohi))
                .when(c)
                .then(thi)
                .otherwise(ohi),
                level,
            )
        if isinstance(node, Call) and node.fn in ("min", "max") and len(node.args) >= 2:
            found = [self.bounds(arg) for arg in node.args]
            pick = pl.min_horizontal if node.fn == "min" else pl.max_horizontal
            return (
                pick(*[b[0] for b in found]),
                pick(*[b[1] for b in found]),
                max(b[2] for b in found),
            )
        return None

    def _decided(self, node: Binary) -> pl.Expr:
        """The comparison as settled by its operands' bounds (null: not settled)."""
        (alo, ahi, _), (blo, bhi, _) = self.bounds(node.left), self.bounds(node.right)
        yes: pl.Expr
        no: pl.Expr
        op = node.op
        if op == "<":
            yes, no = ahi < blo, alo >= bhi
        elif op == "<=":
            yes, no = ahi <= blo, alo > bhi
        elif op == ">":
            yes, no = alo > bhi, ahi <= blo
        elif op == ">=":
            yes, no = alo >= bhi, ahi < blo
        else:
            same = (alo == ahi) & (ahi == blo) & (blo == bhi) & alo.is_finite()
            apart = (ahi < blo) | (bhi < alo)
            yes, no = (same, apart) if op == "==" else (apart, same)
        none = pl.lit(None, dtype=pl.Boolean())
        return pl.when(yes).then(pl.lit(True)).when(no).then(pl.lit(False)).otherwise(none)

    def expr(self, node: Node) -> pl.Expr:
        dtype = DTYPES[node.type]
        if isinstance(node, Lit):
            return pl.lit(node.value, dtype=dtype)
        if isinstance(node, AsOf):
            return pl.lit(self.p.as_of, dtype=pl.Date())
        if isinstance(node, Name):
            return self._name(node, dtype)
        if isinstance(node, Unary):
            inner = self.ref(node.operand)
            return ~inner if node.op == "not" else -inner
        if isinstance(node, BoolOp):
            items = [self.ref(item) for item in node.items]
            out = items[0]
            for item in items[1:]:
                out = (out & item) if node.op == "and" else (out | item)
            return out
        if isinstance(node, Binary):
            return self._binary(node)
        if isinstance(node, InList):
            inner = self.ref(node.operand)
            test = inner.is_in(list(node.values))
            return pl.when(inner.is_null()).then(None).otherwise(~test if node.negate else test)
        if isinstance(node, If):
            c = self.ref(node.cond)
            return (
                pl.when(c.is_null())
                .then(pl.lit(None, dtype=dtype))
                .when(c)
                .then(self.ref(node.then).cast(dtype))
                .otherwise(self.ref(node.other).cast(dtype))
            )
        if isinstance(node, Call):
            return self._call(node, dtype)
        raise TypeError(f"cannot compile {type(node).__name__}")

    def _name(self, node: Name, dtype: pl.DataType) -> pl.Expr:
        if node.kind == "param":
            return pl.lit(self.p.params[node.target], dtype=dtype)
        if node.kind == "size":
            return pl.col("size")
        if node.kind == "cond":
            return self.ref(self.p.benefit.conditions[node.target].node)
        if node.kind == "member_fact":
            self.p.member_facts.add(node.target)
        else:
            self.p.subject_facts.add(node.target)
        return pl.col(_v(node.target))

    def _binary(self, node: Binary) -> pl.Expr:
        if _bounded_comparison(node):
            return pl.coalesce(self._plain(node), self._decided(node))
        return self._plain(node)

    def _plain(self, node: Binary) -> pl.Expr:
        a, b = self.ref(node.left), self.ref(node.right)
        op = node.op
        if op == "==":
            return a == b
        if op == "!=":
            return a != b
        if op == "<":
            return a < b
        if op == "<=":
            return a <= b
        if op == ">":
            return a > b
        if op == ">=":
            return a >= b
        if op == "+":
            return a + b
        if op == "-":
            return a - b
        if op == "*":
            return a * b
        return pl.when(b == 0).then(None).otherwise(a / b)

    def _call(self, node: Call, dtype: pl.DataType) -> pl.Expr:
        fn = node.fn
        if fn == "lookup":
            table_name = node.args[0]
            assert isinstance(table_name, Name)
            table = self.p.params[table_name.target]
            key = self.ref(node.args[1])
            if table is None:
                return pl.lit(None, dtype=dtype)
            return key.replace_strict(
                list(table), list(table.values()), default=None, return_dtype=dtype
            )
        if fn == "band":
            bands_name = node.args[0]
            assert isinstance(bands_name, Name)
            bands = self.p.params[bands_name.target]
            x = self.ref(node.args[1])
            if bands is None:
                return pl.lit(None, dtype=dtype)
            scale = 100 if bands_name.type == T.MONEY else 1
            chain: Any = pl.when(x.is_null()).then(pl.lit(None, dtype=dtype))
            for below, value in bands:
                if below is None:
                    return chain.otherwise(pl.lit(value, dtype=dtype))  # type: ignore[no-any-return]
                chain = chain.when(x < below * scale).then(pl.lit(value, dtype=dtype))
            return chain.otherwise(pl.lit(None, dtype=dtype))  # type: ignore[no-any-return]
        args = [self.ref(arg) for arg in node.args]
        if fn in ("min", "max"):
            unknown = pl.any_horizontal(*[a.is_null() for a in args])
            pick = pl.min_horizontal(*args) if fn == "min" else pl.max_horizontal(*args)
            return pl.when(unknown).then(pl.lit(None, dtype=dtype)).otherwise(pick.cast(dtype))
        if fn == "year":
            return args[0].dt.year().cast(pl.Int64())
        born = args[0]
        at: pl.Expr = pl.lit(self.p.as_of, dtype=pl.Date()) if fn == "age" else args[1]
        before_birthday = (born.dt.month() > at.dt.month()) | (
            (born.dt.month() == at.dt.month()) & (born.dt.day() > at.dt.day())
        )
        return (
            at.dt.year().cast(pl.Int64()) - born.dt.year().cast(pl.Int64())
        ) - before_birthday.cast(pl.Int64())


def _bounded_comparison(node: Node) -> bool:
    """A comparison of numbers: settled by bounds when an operand is unknown."""
    return (
        isinstance(node, Binary)
        and node.op in COMPARISONS
        and node.left.type in ORDERED
        and node.right.type in ORDERED
    )


def _times(x: pl.Expr, y: pl.Expr) -> pl.Expr:
    """x × y where a zero factor gives zero even against an infinite bound."""
    return pl.when((x == 0) | (y == 0)).then(pl.lit(0.0)).otherwise(x * y)


def _operands(node: Node) -> list[Node]:
    """Children that are values (a lookup's table name is not one)."""
    if isinstance(node, Call) and node.fn in ("lookup", "band"):
        return node.args[1:]
    return children(node)


def _aggregate(node: Agg, col: dict[Node, str]) -> pl.Expr:
    """The per-subject aggregate of member rows (group by subject)."""
    x = pl.col(col[node.item])
    name = col[node]
    if node.fn == "any":
        return x.any(ignore_nulls=False).alias(name)
    if node.fn == "all":
        return x.all(ignore_nulls=False).alias(name)
    if node.fn == "sum":
        return pl.when(x.null_count() > 0).then(None).otherwise(x.sum()).alias(name)
    f = pl.col(col[node.filter]) if node.filter is not None else pl.lit(True)
    unknown = (f.is_null() | (f.fill_null(False) & x.is_null())).any()
    picked = x.filter(f.fill_null(False))
    value = picked.min() if node.fn == "min" else picked.max()
    return pl.when(unknown).then(None).otherwise(value).alias(name)


def compile_program(benefit: Benefit, as_of: date, catalogue: Catalogue | None = None) -> _Program:
    """Compile a benefit's expressions into Polars column expressions for one as-of date."""
    cache: dict[date, _Program] = benefit.compiled.setdefault("columnar", {})
    cached = cache.get(as_of)
    if cached is not None:
        return cached
    plan = plan_benefit(benefit, catalogue or default_catalogue())
    program = _Program(benefit, plan, as_of, benefit.params_at(as_of))
    compiler = _Compiler(program, catalogue or default_catalogue())
    for cond in benefit.conditions.values():
        compiler.add(cond.node)
    compiler.add(benefit.eligible)
    for out in benefit.outputs.values():
        compiler.add(out.node)
    program.bounded = set(compiler.bound_exprs)
    cache[as_of] = program
    return program


# --------------------------------------------------------------------------- decisive masks


class _Masks:
    """Top-down: where each fact's unknownness decides a row's outcome."""

    def __init__(self, program: _Program) -> None:
        self.p = program
        self.s_leaf: dict[str, list[pl.Expr]] = defaultdict(list)
        self.m_leaf: dict[str, list[pl.Expr]] = defaultdict(list)
        self.agg_need: dict[Agg, list[pl.Expr]] = defaultdict(list)
        self.cond_need: dict[str, list[pl.Expr]] = defaultdict(list)

    def u(self, node: Node) -> pl.Expr:
        return pl.col(self.p.col[node]).is_null()

    def subject_masks(self) -> None:
        benefit, col = self.p.benefit, self.p.col
        eligible = benefit.eligible
        self.visit(eligible, self.u(eligible))
        is_eligible = pl.col(col[eligible]).fill_null(False)
        for out in benefit.outputs.values():
            self.visit(out.node, is_eligible & self.u(out.node))
        self.conditions()

    def conditions(self) -> None:
        """Carry the needs put on named conditions down into their expressions."""
        benefit = self.p.benefit
        for name in reversed(list(benefit.conditions)):
            needs = self.cond_need.get(name)
            if needs:
                self.visit(benefit.conditions[name].node, pl.any_horizontal(*needs))

    def member_masks(self) -> None:
        for agg in self.p.aggs:
            need = pl.col(f"need|{self.p.col[agg]}")
            if agg.filter is not None:
                f = agg.filter
                self.visit(f, need & self.u(f))
                flag = pl.col(self.p.col[f]).fill_null(False)
                self.visit(agg.item, need & flag & self.u(agg.item))
            else:
                self.visit(agg.item, need & self.u(agg.item))

    def visit(self, node: Node, need: pl.Expr) -> None:
        if isinstance(node, Name):
            if node.kind == "cond":
                self.cond_need[node.target].append(need)
            elif node.kind == "fact":
                self.s_leaf[node.target].append(need)
            elif node.kind == "member_fact":
                self.m_leaf[node.target].append(need)
            return
        if isinstance(node, Agg):
            self.agg_need[node].append(need)
            return
        if isinstance(node, If):
            c = pl.col(self.p.col[node.cond])
            self.visit(node.cond, need & c.is_null())
            # under a comparison settled by bounds, both branches narrow the interval while the
            # condition is unknown
            open_ = node in self.p.bounded
            self.visit(node.then, need & c.fill_null(open_) & self.u(node.then))
            self.visit(node.other, need & (~c).fill_null(open_) & self.u(node.other))
            return
        for child in _operands(node):
            self.visit(child, need & self.u(child))


def _ascending(positions: Ints, size: int) -> Ints:
    """The order that sorts distinct positions below `size` (a counting sort)."""
    order = np.full(size, -1, dtype=np.int64)
    order[positions] = np.arange(len(positions), dtype=np.int64)
    return order[order >= 0]


def _flags(flags: pl.Series) -> Flags:
    """A boolean column as a numpy array (null counts as unset)."""
    return (flags.fill_null(False) if flags.null_count() else flags).to_numpy()


def _any_row(frame: pl.DataFrame, columns: Iterable[str]) -> Flags:
    """Per row, whether any of the boolean columns is set (null counts as unset)."""
    out = np.zeros(frame.height, dtype=np.bool_)
    for column in columns:
        out |= _flags(frame[column])
    return out


def _count(groups: Ints, flags: pl.Series, n: int) -> Ints:
    """How many rows of each group have the flag set (null counts as unset)."""
    return _tally(groups, _flags(flags), n)


def _tally(groups: Ints, flags: Flags, n: int) -> Ints:
    """How many rows of each group are set (weighing is faster than selecting the rows)."""
    return np.bincount(groups, weights=flags, minlength=n).astype(np.int64)


def _any(exprs: Iterable[pl.Expr]) -> pl.Expr:
    items = list(exprs)
    return pl.any_horizontal(*items) if items else pl.lit(False)


# --------------------------------------------------------------------------- evaluation


def _materialise(
    frame: pl.LazyFrame, levels: list[list[tuple[str, pl.Expr]]], stale: Callable[[str], bool]
) -> pl.LazyFrame:
    """Compute the columns of every level that are stale (the others are already in `frame`)."""
    for level in levels:
        exprs = [expr.alias(name) for name, expr in level if stale(name)]
        if exprs:
            frame = frame.with_columns(exprs)
    return frame


def _in_turn(p: _Program) -> dict[str, Agg]:
    """The facts asked one member at a time that only one any/all aggregate reads (and nothing
    at the subject's level): each can be asked turn by turn within one pass (`_ask_in_turn`)."""
    found: dict[str, Agg] = {}
    for fact in p.plan.one_member:
        reading = [a for a in p.aggs if fact in p.deps[p.col[a]]]
        if fact in p.subject_facts or len(reading) != 1:
            continue
        [agg] = reading
        if agg.fn in ("any", "all") and agg.filter is None:
            found[fact] = agg
    return found


_KEEP_OPEN_SHARE = 0.5  # decided rows stay in the frames while the open ones are more than this
_NO_PLACE = np.iinfo(np.int64).max  # above every member's asking key


@dataclass
class _Groups:
    """Compact group numbers for one pass: member rows grouped by their subject (or household).

    Numbers run below `n` = the number of subject rows of the pass, so per-group arrays are sized
    by the rows still in play, never by the whole population.
    """

    s: Ints  # the group of each subject row
    m: Ints  # the group of each member row
    n: int
    aligned: bool  # group i is subject row i
    _sizes: Ints | None = None

    def sizes(self) -> Ints:
        """Member rows per group (counted once)."""
        if self._sizes is None:
            self._sizes = np.bincount(self.m, minlength=self.n)
        return self._sizes


class _Run:
    """One population run: frames, fetch state and the loop.

    Entities are addressed by position (row number in the population's tables), so fetching and
    regrouping are gathers and integer joins. `_s` is the subject's position, `_h` its household's,
    `_m` a member's (person) position.
    """

    def __init__(
        self,
        program: _Program,
        population: Population,
        provider: ColumnarProvider | None,
        catalogue: Catalogue,
        prefill: bool = False,
        whose: bool = False,
    ) -> None:
        self.p = program
        self.population = population
        self.whose = whose
        self.catalogue = catalogue
        self.stage_of = program.plan.stage_of
        self.provider = provider
        persons, households = population.persons, population.households
        self.ids = {"person": persons["person_id"], "household": households["household_id"]}
        self.tables = {"person": persons, "household": households}
        self.values: dict[str, pl.Series] = {}
        self.asked: dict[str, Flags] = {}
        person_rows, sizes = population.index()
        if program.benefit.subject == "household":
            subjects = pl.DataFrame(
                {
                    SUBJECT: np.arange(households.height, dtype=np.int64),
                    HOUSEHOLD: np.arange(households.height, dtype=np.int64),
                }
            )
            self.subject_ids = self.ids["household"]
        else:
            subjects = person_rows.select(pl.col(MEMBER).alias(SUBJECT), HOUSEHOLD)
            self.subject_ids = self.ids["person"]
        if population.subjects is not None:
            wanted = self.subject_ids.is_in(pl.Series(list(population.subjects)).implode())
            subjects = subjects.filter(wanted.gather(subjects[SUBJECT]))
        subjects = subjects.with_columns(size=sizes.gather(subjects[HOUSEHOLD]))
        fill = self._filled if prefill else self._blank
        self.s = subjects.with_columns(
            fill(program.subject_facts, subjects, lambda f: HOUSEHOLD if f[0] == "h" else SUBJECT)
        )
        self.m: pl.DataFrame | None = None
        self.households = households.height
        self.person_rows, self.sizes = person_rows, sizes
        # Person subjects: until a member fact is needed, every subject of a household sees the
        # same (unfetched) members, so one member row per person, grouped by household, suffices;
        # the subject x member frame is built later, for the subjects still undecided then.
        self.deferred = program.uses_members and program.benefit.subject == "person" and not prefill
        if self.deferred:
            keep = np.zeros(households.height, dtype=np.bool_)
            keep[subjects[HOUSEHOLD].to_numpy()] = True
            rows = person_rows.filter(pl.Series(keep).gather(person_rows[HOUSEHOLD]))
            members = rows.select(pl.col(HOUSEHOLD).alias(SUBJECT), HOUSEHOLD, MEMBER).with_columns(
                size=sizes.gather(rows[HOUSEHOLD])
            )
            self.m = members.with_columns(self._blank(program.member_facts, members, str))
        elif program.uses_members:
            if program.benefit.subject == "household" and population.subjects is None:
                # every household is a subject: its members are simply the person rows
                members = person_rows.select(
                    pl.col(HOUSEHOLD).alias(SUBJECT), HOUSEHOLD, MEMBER
                ).with_columns(size=sizes.gather(person_rows[HOUSEHOLD]))
            else:
                members = self._members_of(subjects)
            self.m = members.with_columns(fill(program.member_facts, members, lambda f: MEMBER))
        self.in_turn = _in_turn(program)
        self.shared = (
            {f for f in program.subject_facts & program.member_facts if f.startswith("person.")}
            if program.benefit.subject == "person"
            else set()
        )
        self.bits = {fact: i for i, fact in enumerate(program.plan.facts)}
        # scratch: position (subject or household) -> compact group; only the slots written by
        # the current pass are read (np.empty touches no memory until written)
        self.slot: Ints = np.empty(
            max(len(self.subject_ids), self.households) if program.uses_members else 0,
            dtype=np.int64,
        )
        self.groups: _Groups | None = None  # of the current rows; reset when they change
        self.whole: dict[str, bool] = {}  # key column -> whether it is 0..n-1 (current rows)

    def _expand(self, s: pl.DataFrame) -> pl.DataFrame:
        """The subject x member frame for the subjects of `s`, member facts not fetched yet."""
        members = self._members_of(s)
        self.deferred = False
        return members.with_columns(self._blank(self.p.member_facts, members, str))

    def _members_of(self, s: pl.DataFrame) -> pl.DataFrame:
        """One row per subject of `s` and member of its household: `_s`, `_h`, size, `_m`."""
        households = s[HOUSEHOLD].to_numpy()
        counts = self.sizes.to_numpy()[households]
        ends = np.cumsum(counts)
        within = np.arange(int(ends[-1]) if len(ends) else 0, dtype=np.int64)
        within -= np.repeat(ends - counts, counts)
        order, starts = self._household_order()
        return pl.DataFrame(
            {
                SUBJECT: np.repeat(s[SUBJECT].to_numpy(), counts),
                HOUSEHOLD: np.repeat(households, counts),
                "size": np.repeat(s["size"].to_numpy(), counts),
                MEMBER: order[np.repeat(starts[households], counts) + within],
            }
        )

    def _household_order(self) -> tuple[Ints, Ints]:
        """Person positions grouped by household, and where each household's group starts."""
        positions = self.person_rows[HOUSEHOLD].to_numpy()
        grouped = len(positions) == 0 or bool((np.diff(positions) >= 0).all())
        order = (
            self.person_rows[MEMBER].to_numpy()
            if grouped
            else self.person_rows[MEMBER].to_numpy()[np.argsort(positions, kind="stable")]
        )
        sizes = self.sizes.to_numpy()
        return order, np.cumsum(sizes) - sizes

    def _blank(
        self, facts: Iterable[str], frame: pl.DataFrame, key: Callable[[str], str]
    ) -> list[pl.Expr]:
        """Value columns not fetched yet."""
        cols = []
        for fact in sorted(facts):
            dtype = DTYPES[self.catalogue[fact].type]
            cols += [pl.lit(None, dtype=dtype).alias(_v(fact)), pl.lit(False).alias(_k(fact))]
        return cols

    def _filled(
        self, facts: Iterable[str], frame: pl.DataFrame, key: Callable[[str], str]
    ) -> list[pl.Expr | pl.Series]:
        """Value columns with every fact at hand (read from the population's tables)."""
        cols: list[pl.Expr | pl.Series] = []
        for fact in sorted(facts):
            keys = frame[key(fact)]
            values = self.source(fact, keys)
            if not _is_identity(keys, len(values)):
                values = values.gather(keys)
            cols += [values.alias(_v(fact)), pl.lit(True).alias(_k(fact))]
        return cols

    # ------------------------------------------------------------- one pass

    def evaluate(
        self, s: pl.DataFrame, m: pl.DataFrame | None, changed: set[str] | None = None
    ) -> tuple[pl.DataFrame, pl.DataFrame | None]:
        """Compute node values and decisive/pending masks for the given rows.

        `changed`: the facts fetched since the last pass over these rows; the node columns that
        read none of them still hold their values and are kept (None: compute every column).
        """
        p = self.p

        def stale(column: str) -> bool:
            return changed is None or not p.deps[column].isdisjoint(changed)

        s_lazy = s.lazy()
        if m is not None:
            groups = self._groups(s, m)
            m = _materialise(m.lazy(), p.m_levels, stale).collect()
            if p.aggs:
                s_lazy = s_lazy.with_columns(self._aggregates(m, groups, stale))
        s_lazy = _materialise(s_lazy, p.s_levels, stale)
        masks = _Masks(p)
        masks.subject_masks()
        s_cols = [_any(masks.agg_need[a]).alias(f"need|{p.col[a]}") for a in p.aggs] + [
            _any(masks.s_leaf.get(f, [])).alias(_missing(f)) for f in p.subject_facts
        ]
        s = (
            s_lazy.with_columns(s_cols)
            .with_columns(
                (pl.col(_missing(f)) & ~pl.col(_k(f))).alias(_need(f)) for f in p.subject_facts
            )
            .with_columns(_any(pl.col(c) for c in self._pending()).fill_null(False).alias(OPEN))
            .collect()
        )
        if m is not None:
            masks.member_masks()
            m = (
                m.lazy()
                .with_columns(self._broadcast(s, f"need|{p.col[a]}") for a in p.aggs)
                .with_columns(
                    _any(masks.m_leaf.get(f, [])).alias(_missing(f)) for f in p.member_facts
                )
                .with_columns(
                    (pl.col(_missing(f)) & ~pl.col(_k(f))).alias(_need(f)) for f in p.member_facts
                )
                .collect()
            )
        return self._sync_shared(s, m)

    def _aggregates(
        self, m: pl.DataFrame, g: _Groups, stale: Callable[[str], bool]
    ) -> list[pl.Series]:
        """Household aggregates per subject, aligned with the rows of `s`.

        any/all/sum are counted with `numpy.bincount` over the pass's groups (Kleene: a null
        member makes the result unknown unless a decisive member settles it); min/max group in
        Polars. Subjects without members get the empty-set value (false, true, 0, unknown).
        """
        p = self.p
        groups, total = g.m, g.n
        rows = pl.Series(g.s)
        out: list[pl.Series] = []
        for agg in p.aggs:
            name = p.col[agg]
            if not stale(name):
                continue
            if agg.fn in ("min", "max"):
                grouped = (
                    m.with_columns(pl.Series(SUBJECT, groups))
                    .group_by(SUBJECT)
                    .agg(_aggregate(agg, p.col))
                )
                aligned = pl.DataFrame({SUBJECT: rows}).join(
                    grouped, on=SUBJECT, how="left", maintain_order="left"
                )
                out.append(aligned[name])
                continue
            item = m[p.col[agg.item]]
            blank = item.null_count() == len(item)  # nothing known yet (every first pass)
            unknown = g.sizes() if blank else _count(groups, item.is_null(), total)
            if agg.fn == "sum":
                values = item.fill_null(0).cast(pl.Float64()).to_numpy()
                total_sum = np.bincount(groups, weights=values, minlength=total)
                result = pl.Series(name, total_sum).cast(DTYPES[agg.type])
                known = unknown == 0
                if agg in p.bounded_sums:
                    out += self._sum_bounds(agg, m, groups, total_sum, g)
            else:
                decisive = item.fill_null(agg.fn == "all") == (agg.fn == "any")
                hits = np.zeros(total, dtype=np.int64) if blank else _count(groups, decisive, total)
                result = (
                    pl.Series(name, hits > 0) if agg.fn == "any" else pl.Series(name, hits == 0)
                )
                known = (hits > 0) | (unknown == 0)
            mask = pl.Series(known)
            if not g.aligned:
                result, mask = result.gather(rows), mask.gather(rows)
            out.append(
                pl.select(pl.when(mask).then(result).otherwise(None).alias(name)).to_series()
            )
        return out

    def _sum_bounds(
        self, agg: Agg, m: pl.DataFrame, groups: Ints, known_sum: Any, g: _Groups
    ) -> list[pl.Series]:
        """A sum's interval: the known members' sum plus the unknown members' intervals."""
        lo, hi = self.p.bounded_sums[agg]
        name = self.p.col[agg]
        unknown = m[self.p.col[agg.item]].is_null()
        at = groups[unknown.to_numpy()]
        edges = m.filter(unknown).select(lo.alias("lo"), hi.alias("hi"))
        out = []
        for edge, column in ((_lo, "lo"), (_hi, "hi")):
            weights = edges[column].to_numpy()
            summed = pl.Series(
                edge(name), known_sum + np.bincount(at, weights=weights, minlength=g.n)
            )
            out.append(summed if g.aligned else summed.gather(pl.Series(g.s)))
        return out

    def _groups(self, s: pl.DataFrame, m: pl.DataFrame) -> _Groups:
        """The groups of the current rows, made once until the rows change."""
        if self.groups is None:
            self.groups = self._grouping(s, m)
        return self.groups

    def _grouping(self, s: pl.DataFrame, m: pl.DataFrame) -> _Groups:
        """Compact groups of this pass's rows: per subject, or per household while deferred.

        Every member row belongs to a subject row of `s` (both frames are always filtered by the
        same subjects), so the subjects' keys number the groups.
        """
        key = HOUSEHOLD if self.deferred else SUBJECT
        keys = s[key].to_numpy()
        rows = np.arange(len(keys), dtype=np.int64)
        self.slot[keys] = rows  # a household with several subjects keeps one of their rows
        at_s = rows if key == SUBJECT else self.slot[keys]
        return _Groups(at_s, self.slot[m[SUBJECT].to_numpy()], len(keys), key == SUBJECT)

    def _broadcast(self, s: pl.DataFrame, column: str) -> pl.Series:
        """A subject-level flag on its member rows (deferred: any subject of the household)."""
        g = self.groups
        assert g is not None
        flags = s[column]
        if len(flags) and not flags.null_count() and flags.sum() in (0, len(flags)):
            return pl.repeat(flags[0], len(g.m), eager=True).alias(column)  # the same everywhere
        if g.aligned:  # one subject row per group
            return pl.Series(column, _flags(flags)[g.m])
        hits = _count(g.s, flags, g.n)
        return pl.Series(column, (hits > 0)[g.m])

    def _sync_shared(
        self, s: pl.DataFrame, m: pl.DataFrame | None
    ) -> tuple[pl.DataFrame, pl.DataFrame | None]:
        """A subject's own fact is one fact, whether read as person.X or as a member's X."""
        if m is None or not self.shared or self.deferred:
            return s, m
        g = self.groups
        assert g is not None and g.aligned
        own = np.flatnonzero((m[MEMBER] == m[SUBJECT]).to_numpy())  # the subjects' own rows
        at_subject = g.m[own]
        s_cols, m_cols = [], []
        for fact in sorted(self.shared):
            need = _need(fact)
            s_need, m_need = _flags(s[need]), _flags(m[need])
            either = s_need[at_subject] | m_need[own]
            s_need[at_subject] = either
            m_need[own] = either
            s_cols.append(pl.Series(need, s_need))
            m_cols.append(pl.Series(need, m_need))
        return s.with_columns(s_cols), m.with_columns(m_cols)

    # ------------------------------------------------------------- fetching

    def pending_stage(self, s: pl.DataFrame, m: pl.DataFrame | None) -> int | None:
        stages = [self.stage_of[f] for f in self.p.subject_facts if s[_need(f)].any()]
        if m is not None:
            stages += [self.stage_of[f] for f in self.p.member_facts if m[_need(f)].any()]
        return min(stages) if stages else None

    def source(self, fact: str, positions: pl.Series) -> pl.Series:
        """The fact's values over its whole entity table; fetches the positions not yet asked."""
        entity, column = fact.split(".", 1)
        dtype = DTYPES[self.catalogue[fact].type]
        size = len(self.ids[entity])
        if self.provider is None:  # the population's own tables answer everything
            if fact not in self.values:
                table = self.tables[entity]
                self.values[fact] = (
                    table[column].cast(dtype).rechunk()  # one chunk, like the computed columns
                    if column in table.columns
                    else pl.Series(column, [None] * size, dtype=dtype)
                )
            return self.values[fact]
        if fact not in self.values:
            self.values[fact] = pl.Series(column, [None] * size, dtype=dtype)
            self.asked[fact] = np.zeros(size, dtype=np.bool_)
        asked = self.asked[fact]
        wanted = np.unique(positions.to_numpy())
        wanted = wanted[~asked[wanted]]
        if len(wanted):
            ids = self.ids[entity].gather(wanted)
            answer = self.provider.fetch(fact, ids)
            if len(answer) != len(ids):
                raise ValueError(f"provider answered {len(answer)} values for {len(ids)} ids")
            self.values[fact] = self.values[fact].scatter(wanted, answer.cast(dtype))
            asked[wanted] = True
        return self.values[fact]

    def fetch(
        self, stage: int, s: pl.DataFrame, m: pl.DataFrame | None
    ) -> tuple[pl.DataFrame, pl.DataFrame | None]:
        for fact in sorted(f for f in self.p.subject_facts if self.stage_of[f] == stage):
            key = HOUSEHOLD if fact.startswith("household.") else SUBJECT
            s = self._apply(s, fact, key)
        if m is not None:
            for fact in sorted(f for f in self.p.member_facts if self.stage_of[f] == stage):
                agg = self.in_turn.get(fact)
                if agg is not None:
                    m = self._ask_in_turn(s, m, fact, agg)
                    continue
                one = fact in self.p.plan.one_member
                need = pl.Series(self._one_member(s, m, _flags(m[_need(fact)]))) if one else None
                m = self._apply(m, fact, MEMBER, need)
        return s, m

    def _ask_in_turn(self, s: pl.DataFrame, m: pl.DataFrame, fact: str, agg: Agg) -> pl.DataFrame:
        """A fact asked one member at a time that only one any/all aggregate reads: ask one
        member per subject, in asking order, until a member's item settles the aggregate — all in
        this pass. While the aggregate stays open nothing else changes, so the other members'
        need is the one this pass computed; only the rows asked are evaluated between turns.
        From the tables (every value at hand) the members the turns would ask are found at once."""
        g = self._groups(s, m)
        rows = np.flatnonzero(_flags(m[_need(fact)]))
        if not len(rows):
            return m
        members = m[MEMBER].to_numpy()

        def settles(at: Ints) -> Flags:
            """Ask the members of rows `at`: whether each one's item settles the aggregate."""
            who = members[at]
            values = self.source(fact, pl.Series(who)).gather(who)
            if not (isinstance(agg.item, Name) and agg.item.target == fact):
                values = self._item_with(m, at, fact, values, agg)
            return _flags(values == (agg.fn == "any"))

        asked = np.zeros(m.height, dtype=np.bool_)
        if self.provider is None:  # every value at hand
            asked[self._asked_at_once(m, g, rows, settles(rows))] = True
        else:
            asked[self._asked_in_turns(m, g, rows, settles)] = True
        return self._apply(m, fact, MEMBER, pl.Series(asked))

    def _asked_in_turns(
        self, m: pl.DataFrame, g: _Groups, rows: Ints, settles: Callable[[Ints], Flags]
    ) -> Ints:
        """Each group's needing `rows` asked in asking order, one turn (one call of `settles`)
        for all groups at a time, until a row settles the group's aggregate."""
        key = self._asking_key(m, rows)
        rows = rows[np.argsort(g.m[rows] * (int(key.max()) + 1) + key, kind="stable")]
        groups = g.m[rows]
        nxt = np.flatnonzero(np.r_[True, groups[1:] != groups[:-1]])  # each group's next row
        end = np.r_[nxt[1:], len(rows)]
        asked = []
        while len(nxt):
            at = rows[nxt]
            asked.append(at)
            hit = settles(at)
            nxt, end = nxt[~hit] + 1, end[~hit]
            more = nxt < end
            nxt, end = nxt[more], end[more]
        return np.concatenate(asked)

    def _asked_at_once(self, m: pl.DataFrame, g: _Groups, rows: Ints, hit: Flags) -> Ints:
        """The needing `rows` the turns would ask, from every row's answer (`hit`: it settles
        the aggregate): all rows of a group that none settles; in a group that one settles, the
        rows up to the first that does in asking order (only these groups' listings are read)."""
        groups = g.m[rows]
        settled = np.zeros(g.n, dtype=np.bool_)
        settled[groups[hit]] = True
        in_settled = settled[groups]
        at, at_groups, at_hit = rows[in_settled], groups[in_settled], hit[in_settled]
        key = self._asking_key(m, at, whole_listing=False)
        first = np.full(g.n, _NO_PLACE, dtype=np.int64)
        np.minimum.at(first, at_groups[at_hit], key[at_hit])
        return np.concatenate([rows[~in_settled], at[key <= first[at_groups]]])

    def _item_with(
        self, m: pl.DataFrame, rows: Ints, fact: str, values: pl.Series, agg: Agg
    ) -> pl.Series:
        """The aggregate's item on member `rows`, `fact` taking `values` there."""
        turn = m[rows].with_columns(values.alias(_v(fact)), pl.lit(True).alias(_k(fact)))

        def stale(column: str) -> bool:
            return fact in self.p.deps[column]

        return _materialise(turn.lazy(), self.p.m_levels, stale).collect()[self.p.col[agg.item]]

    def _asking_key(self, m: pl.DataFrame, rows: Ints, whole_listing: bool = True) -> Ints:
        """Member `rows`' asking order within their subject: the subject's own row first (a
        person benefit), then by place in the household listing (`whole_listing`: the
        population's listing is made, for later calls; else only these rows' households are
        sorted)."""
        members = m[MEMBER].to_numpy()[rows]
        population = self.population
        key = population.listing()[members] if whole_listing else population.places(members)
        if self.p.benefit.subject == "person":
            key = key + (members != m[SUBJECT].to_numpy()[rows]) * population.persons.height
        return key

    def _one_member(self, s: pl.DataFrame, m: pl.DataFrame, need: Flags) -> Flags:
        """Of the member rows in `need`, one per subject: the subject's own row first, then the
        first in the household listing (as the scalar engine asks: one member at a time)."""
        chosen = np.zeros(len(need), dtype=np.bool_)
        rows = np.flatnonzero(need)
        if len(rows):
            g = self._groups(s, m)
            key = self._asking_key(m, rows)
            groups = g.m[rows]
            best = np.full(g.n, _NO_PLACE, dtype=np.int64)
            np.minimum.at(best, groups, key)
            chosen[rows[key == best[groups]]] = True
        return chosen

    def _apply(
        self, frame: pl.DataFrame, fact: str, key: str, need: pl.Series | None = None
    ) -> pl.DataFrame:
        """Fetch `fact` where it is needed (or where `need` says, a part of that)."""
        need = frame[_need(fact)] if need is None else need
        if not need.any():
            return frame
        keys = frame[key]
        values = self.source(fact, keys.filter(need) if self.provider is not None else keys)
        whole = self.whole.get(key)
        if whole is None:
            whole = self.whole[key] = _is_identity(keys, len(values))
        if not whole:
            values = values.gather(keys)
        return frame.with_columns(
            pl.when(need).then(values).otherwise(pl.col(_v(fact))).alias(_v(fact)),
            (pl.col(_k(fact)) | need).alias(_k(fact)),
        )

    # ------------------------------------------------------------- loop

    def run(self) -> pl.DataFrame:
        finished: list[pl.DataFrame] = []
        s, m = self.s, self.m
        changed: set[str] | None = None  # facts fetched since the last pass (None: all new)
        while True:
            s, m = self.evaluate(s, m, changed)
            stage = self.pending_stage(s, m)
            if stage is None:
                finished.append(self.results(s, m))
                break
            # Set decided subjects apart only once they are many, and not before the last stage:
            # a decided row evaluates to the same values in every later pass (nothing more is
            # fetched for it), while each set-apart part costs a filter of both frames and a
            # place in the final reordering, which one last pass does not earn back.
            last = stage == len(self.p.plan.stages)
            apart = None if last else self._open_if_few(s, m)
            if apart is not None:
                open_s, open_m = apart
                done_m = m.filter(~open_m) if m is not None and open_m is not None else None
                finished.append(self.results(s.filter(~open_s), done_m))
                s = s.filter(open_s)
                m = m.filter(open_m) if m is not None and open_m is not None else None
                self._rows_changed()
            if self.deferred and self._members_needed(s, m, stage):
                s, m = self._strip(s), self._expand(s)  # for the subjects still undecided
                changed = None
                self._rows_changed()
                continue
            s, m = self.fetch(stage, s, m)
            changed = {f for f in self.p.plan.facts if self.stage_of[f] == stage}
        if len(finished) == 1:
            out = finished[0]
        else:  # subjects in population order, whichever pass decided them
            out = pl.concat(finished, how="vertical_relaxed", rechunk=True)  # gathers fast
            order = _ascending(out[SUBJECT].to_numpy(), len(self.subject_ids))
            out = out.select(pl.all().gather(order))
        eligible = pl.col("outcome")
        outcome = (
            pl.when(eligible.is_null())
            .then(pl.lit(str(Outcome.UNDETERMINED)))
            .when(~eligible)
            .then(pl.lit(str(Outcome.NOT_ELIGIBLE)))
            .otherwise(pl.lit(str(Outcome.ELIGIBLE)))
        )
        return out.with_columns(
            self.subject_ids.gather(out[SUBJECT]).alias(SUBJECT), outcome.alias("outcome")
        ).rename({SUBJECT: "subject_id"})

    def _members_needed(self, s: pl.DataFrame, m: pl.DataFrame | None, stage: int) -> bool:
        """Whether the next fetch concerns members (or a subject's own fact shared with them)."""
        member_facts = (f for f in self.p.member_facts if self.stage_of[f] == stage)
        if m is not None and any(m[_need(f)].any() for f in member_facts):
            return True
        return any(self.stage_of[f] == stage and s[_need(f)].any() for f in self.shared)

    def _rows_changed(self) -> None:
        """Forget what was known of the current rows (their groups, which keys are whole)."""
        self.groups = None
        self.whole = {}

    def _pending(self) -> list[str]:
        """The columns of S that say a subject has a fact still to fetch (its own, or while the
        members are deferred, one under an aggregate); `OPEN` says whether any does."""
        pending = [_need(f) for f in sorted(self.p.subject_facts)]
        if self.deferred:
            pending += [f"need|{self.p.col[a]}" for a in self.p.aggs]
        return pending

    def _open_if_few(
        self, s: pl.DataFrame, m: pl.DataFrame | None
    ) -> tuple[pl.Series, pl.Series | None] | None:
        """Row masks (for S and for M) of the subjects with facts still to fetch, when they are
        at most `_KEEP_OPEN_SHARE` of the rows (the decided ones are then set apart); else None."""
        limit = s.height * _KEEP_OPEN_SHARE
        if s[OPEN].sum() > limit:  # the members' needs can only open more
            return None
        open_s = s[OPEN].to_numpy()
        if m is None:
            return pl.Series(open_s), None
        g = self.groups
        assert g is not None
        flags = np.zeros(g.n, dtype=np.bool_)
        flags[g.s[open_s]] = True
        if self.deferred:  # keep the households still in use
            return pl.Series(open_s), pl.Series(flags[g.m])
        flags[g.m[_any_row(m, [_need(f) for f in self.p.member_facts])]] = True
        if flags.sum() > limit:
            return None
        return pl.Series(flags), pl.Series(flags[g.m])

    def _strip(self, frame: pl.DataFrame) -> pl.DataFrame:
        keep = [
            c
            for c in frame.columns
            if c in (SUBJECT, HOUSEHOLD, MEMBER, "size") or c[:2] in ("v|", "k|")
        ]
        return frame.select(keep)

    def _bookkeeping(self) -> list[pl.Expr]:
        """Per subject: the facts used and missing as bitmasks (bit = position in the plan) and
        the fetch count, from the subject's own `k|` and `miss|` columns (null counts as unset);
        `_member_bookkeeping` adds the members' facts."""
        facts = sorted(self.p.subject_facts)

        zero = pl.lit(0, dtype=pl.Int64())

        def total(flag: Callable[[str], str], weight: Callable[[str], int]) -> pl.Expr:
            out = zero
            for fact in facts:  # a chain of when/then: a third of the time of sum_horizontal
                out = out + pl.when(pl.col(flag(fact))).then(weight(fact)).otherwise(zero)
            return out

        def bit(fact: str) -> int:
            return 1 << self.bits[fact]

        return [
            total(_k, bit).alias("facts_used"),
            total(_missing, bit).alias("facts_missing"),
            total(_k, lambda _: 1).alias("fetch_count"),
        ]

    def _member_bookkeeping(
        self,
        m: pl.DataFrame,
        facts: list[str],
        rows: pl.Series,
        used: Ints,
        missing: Ints,
        count: Ints,
    ) -> None:
        """Fold member facts into the subjects' used/missing bitmasks and fetch counts."""
        g = self._grouping(rows.to_frame(SUBJECT), m)
        groups, total = g.m, g.n
        own = (m[MEMBER] == m[SUBJECT]).to_numpy()
        for fact in facts:
            bit = np.int64(1 << self.bits[fact])
            fetched = m[_k(fact)].to_numpy()
            hits = _tally(groups, fetched, total)
            used |= (hits > 0) * bit
            missing |= (_count(groups, m[_missing(fact)], total) > 0) * bit
            if fact in self.shared:  # the subject's own value counts once, as a subject fact
                hits -= _tally(groups, fetched & own, total)
            count += hits

    def results(self, s: pl.DataFrame, m: pl.DataFrame | None) -> pl.DataFrame:
        p = self.p
        benefit = p.benefit
        eligible = pl.col(p.col[benefit.eligible])
        is_eligible = eligible.fill_null(False)
        cols = [pl.col(SUBJECT), eligible.alias("outcome")]  # words once the parts are joined
        for output in benefit.outputs.values():
            value = pl.col(p.col[output.node])
            if output.type == T.MONEY and output.node.type == T.MONEY:
                value = value / 100
            cols.append(
                pl.when(is_eligible).then(value).otherwise(None).alias(f"out_{output.name}")
            )
            if output.levels:
                least = self._least(output.node, output.levels)
                open_ = is_eligible & pl.col(p.col[output.node]).is_null()
                cols.append(
                    pl.when(open_).then(least).otherwise(None).alias(f"least_{output.name}")
                )
        for name, cond in benefit.conditions.items():
            cols.append(pl.col(p.col[cond.node]).alias(f"cond_{name}"))
        cols.append(
            pl.when(is_eligible)
            .then(pl.lit(benefit.valid_until(p.as_of)))
            .otherwise(None)
            .alias("valid_until")
        )
        cols.append(
            (_any(pl.col(f) for f in p.bound_flags) & eligible.is_not_null()).alias("by_bounds")
        )
        out = s.select(*cols, *self._bookkeeping())
        m_facts = sorted(p.member_facts)
        if m is not None and m_facts and not self.deferred:
            columns = ("facts_used", "facts_missing", "fetch_count")
            used, missing, count = (out[c].to_numpy().copy() for c in columns)
            self._member_bookkeeping(m, m_facts, s[SUBJECT], used, missing, count)
            out = out.with_columns(
                pl.Series(c, a) for c, a in zip(columns, (used, missing, count), strict=True)
            )
        if not self.whose:
            return out
        return self._with_missing(out, s, None if self.deferred else m)

    def _least(self, node: Node, levels: tuple[Any, ...]) -> pl.Expr:
        """The least level an open output can still take (its certain minimum)."""
        dtype = DTYPES[node.type]
        chain: Any = pl
        for level in levels:
            chain = chain.when(self._possible(node, level)).then(pl.lit(level, dtype=dtype))
        result: pl.Expr = chain.otherwise(pl.lit(None, dtype=dtype))
        return result

    def _possible(self, node: Node, level: Any) -> pl.Expr:
        """Whether the node can still take the value `level`, following `if` branches."""
        value = pl.col(self.p.col[node])
        if not isinstance(node, If):
            return value.is_null() | (value == pl.lit(level)).fill_null(False)
        c = pl.col(self.p.col[node.cond])
        then, other = self._possible(node.then, level), self._possible(node.other, level)
        branches = pl.when(c.is_null()).then(then | other).when(c).then(then).otherwise(other)
        result: pl.Expr = pl.when(value.is_not_null()).then(value == level).otherwise(branches)
        return result

    # ------------------------------------------------------------- whose facts are missing

    def _with_missing(
        self, out: pl.DataFrame, s: pl.DataFrame, m: pl.DataFrame | None
    ) -> pl.DataFrame:
        """Add `missing`: per subject, each missing fact, whose it is and what it would settle."""
        open_rows = out["facts_missing"] != 0
        if not open_rows.any():
            return out.with_columns(pl.lit(None, dtype=MISSING_TYPE).alias("missing"))
        s = s.filter(open_rows)
        if m is not None:
            m = m.filter(m[SUBJECT].is_in(s[SUBJECT].implode()))
        benefit = self.p.benefit
        parts: list[tuple[str, Node, bool]] = [("eligible", benefit.eligible, False)]
        parts += [(name, output.node, True) for name, output in benefit.outputs.items()]
        found = [
            frame
            for part, root, is_output in parts
            for frame in self._attribute(part, root, is_output, s, m)
        ]
        if not found:
            return out.with_columns(pl.lit(None, dtype=MISSING_TYPE).alias("missing"))
        keys = [SUBJECT, "fact", "whose", "member"]
        rows = (
            pl.concat(found)
            .group_by(keys)
            .agg(pl.col("settles").unique().sort())
            .sort(SUBJECT, "fact", pl.col("member").fill_null(0), "whose")
            .group_by(SUBJECT, maintain_order=True)
            .agg(pl.struct("fact", "whose", "member", "settles").alias("missing"))
        )
        return out.join(rows, on=SUBJECT, how="left", maintain_order="left")

    def _attribute(
        self, part: str, root: Node, is_output: bool, s: pl.DataFrame, m: pl.DataFrame | None
    ) -> list[pl.DataFrame]:
        """Which missing facts would settle one part (eligibility or an output), per subject:
        long rows of subject, fact, whose, member (place in the listing) and the part."""
        p = self.p
        masks = _Masks(p)
        need = masks.u(root)
        if is_output:
            need = pl.col(p.col[p.benefit.eligible]).fill_null(False) & need
        masks.visit(root, need)
        masks.conditions()
        s_flags = s.select(
            pl.col(SUBJECT),
            *[_any(masks.s_leaf.get(f, [])).alias(f) for f in sorted(p.subject_facts)],
            *[_any(masks.agg_need[a]).alias(f"need|{p.col[a]}") for a in p.aggs],
        )
        found = [
            s_flags.filter(pl.col(fact)).select(
                pl.col(SUBJECT),
                pl.lit(fact).alias("fact"),
                pl.lit("household" if fact.startswith("household.") else "subject").alias("whose"),
                pl.lit(None, dtype=pl.Int64()).alias("member"),
                pl.lit(part).alias("settles"),
            )
            for fact in sorted(p.subject_facts)
        ]
        if m is None or not p.member_facts:
            return found
        masks.member_masks()
        agg_needs = [f"need|{p.col[a]}" for a in p.aggs]
        m_flags = (
            m.drop(agg_needs, strict=False)
            .join(s_flags.select(SUBJECT, *agg_needs), on=SUBJECT, how="left")
            .select(
                pl.col(SUBJECT),
                pl.col(MEMBER),
                *[_any(masks.m_leaf.get(f, [])).alias(f) for f in sorted(p.member_facts)],
            )
        )
        own = (pl.col(SUBJECT) == pl.col(MEMBER)) & (p.benefit.subject == "person")
        place = pl.Series(self.population.listing() + 1)
        for fact in sorted(p.member_facts):
            rows = m_flags.filter(pl.col(fact))
            found.append(
                rows.select(
                    pl.col(SUBJECT),
                    pl.lit(fact).alias("fact"),
                    pl.when(own).then(pl.lit("subject")).otherwise(pl.lit("member")).alias("whose"),
                    pl.when(own)
                    .then(None)
                    .otherwise(place.gather(rows[MEMBER]))
                    .cast(pl.Int64())
                    .alias("member"),
                    pl.lit(part).alias("settles"),
                )
            )
        return found


def fact_names(benefit: Benefit, mask: int, catalogue: Catalogue | None = None) -> list[str]:
    """Decode a `facts_used` / `facts_missing` bitmask into fact names."""
    facts = list(plan_benefit(benefit, catalogue or default_catalogue()).facts)
    return sorted(fact for i, fact in enumerate(facts) if mask >> i & 1)


def evaluate_population(
    benefit: Benefit,
    population: Population,
    as_of: date,
    provider: ColumnarProvider | None = None,
    catalogue: Catalogue | None = None,
    *,
    prefill: bool = False,
    whose: bool = False,
) -> pl.DataFrame:
    """Decide every subject of a population; facts fetched lazily from `provider`.

    Without a provider the population's own tables answer. With `prefill` every fact is taken as
    already at hand (one pass, no fetch minimisation: outcomes and outputs are the same, but
    conditions show every value and `facts_used` every fact read). The result has
    one row per subject: `subject_id`, `outcome`, `out_<name>` (null for an open output of an
    eligible subject), `least_<name>` (the certain minimum of an open output with levels),
    `cond_<name>`, `valid_until`, `facts_used` and `facts_missing` (bitmasks, see `fact_names`),
    `missing` (with `whose`: per missing fact, whose it is and what it settles, see
    `missing_facts`; it costs a few group-bys over the undecided subjects),
    `by_bounds` (a comparison over unknown values was settled by its bounds) and `fetch_count`.
    """
    catalogue = catalogue or default_catalogue()
    program = compile_program(benefit, as_of, catalogue)
    return _Run(program, population, provider, catalogue, prefill=prefill, whose=whose).run()


# --------------------------------------------------------------------------- cases


class _DictColumnarProvider:
    def __init__(self, facts: Mapping[FactRequest, Any]) -> None:
        self.by_fact: dict[str, dict[str, Any]] = defaultdict(dict)
        for request, value in facts.items():
            self.by_fact[request.fact][request.entity_id] = value

    def fetch(self, fact: str, ids: pl.Series) -> pl.Series:
        values = self.by_fact.get(fact, {})
        return pl.Series("value", [values.get(i) for i in ids.to_list()])


def population_of_cases(cases: Sequence[Case]) -> tuple[Population, dict[FactRequest, Any]]:
    """One population holding several cases (ids prefixed by the case's index); the persons
    table holds the position codes, which order each household's listing."""
    persons_rows: list[dict[str, str | None]] = []
    households: list[str] = []
    facts: dict[FactRequest, Any] = {}
    subjects: list[str] = []
    for i, case in enumerate(cases):
        prefix = f"{i}:"
        subject = case.subject
        households.append(prefix + subject.household_id)
        persons_rows += [
            {
                "person_id": prefix + m,
                "household_id": prefix + subject.household_id,
                "position_code": case.facts.get(FactRequest(m, "person.position_code")),
            }
            for m in subject.members
        ]
        subjects.append(prefix + subject.id)
        facts.update({FactRequest(prefix + r.entity_id, r.fact): v for r, v in case.facts.items()})
    persons = pl.DataFrame(
        persons_rows,
        schema={
            "person_id": pl.String(),
            "household_id": pl.String(),
            "position_code": pl.String(),
        },
    )
    return Population(persons, pl.DataFrame({"household_id": households}), subjects), facts


def decisions_from_frame(benefit: Benefit, frame: pl.DataFrame, as_of: date) -> dict[str, Decision]:
    """Turn a result frame into `Decision`s keyed by subject id."""
    out: dict[str, Decision] = {}
    for row in frame.iter_rows(named=True):
        eligible = row["valid_until"] is not None  # set exactly when eligible is true
        outputs = {o: row[f"out_{o}"] for o in benefit.outputs} if eligible else {}
        out[row["subject_id"]] = Decision(
            benefit=benefit.id,
            version=benefit.version,
            subject_kind=benefit.subject,
            subject_id=row["subject_id"],
            as_of=as_of,
            outcome=Outcome(row["outcome"]),
            outputs=outputs,
            conditions={name: row[f"cond_{name}"] for name in benefit.conditions},
            facts_used=fact_names(benefit, row["facts_used"]),
            facts_missing=fact_names(benefit, row["facts_missing"]),
            valid_until=row["valid_until"],
            fetch_count=row["fetch_count"],
            missing=missing_facts(row.get("missing")),
            at_least={
                o.name: row[f"least_{o.name}"]
                for o in benefit.outputs.values()
                if o.levels and row[f"least_{o.name}"] is not None
            },
        )
    return out


def missing_facts(cell: list[dict[str, Any]] | None) -> list[MissingFact]:
    """The `missing` cell of a result row as `MissingFact`s."""
    return [
        MissingFact(item["fact"], item["whose"], item["member"], tuple(item["settles"]))
        for item in cell or []
    ]


def cross_check_cases(benefit: Benefit, cases: list[Case]) -> list[Decision]:
    """Decide test cases with the columnar engine (grouped by as-of date), in case order."""
    by_date: dict[date, list[int]] = defaultdict(list)
    for i, case in enumerate(cases):
        by_date[case.as_of].append(i)
    decisions: dict[int, Decision] = {}
    for as_of, indices in by_date.items():
        population, facts = population_of_cases([cases[i] for i in indices])
        frame = evaluate_population(
            benefit, population, as_of, _DictColumnarProvider(facts), whose=True
        )
        found = decisions_from_frame(benefit, frame, as_of)
        for j, i in enumerate(indices):
            subject_id = f"{j}:{cases[i].subject.id}"
            decision = found[subject_id]
            decision.subject_id = cases[i].subject.id
            decisions[i] = decision
    return [decisions[i] for i in range(len(cases))]
