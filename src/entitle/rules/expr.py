"""The expression language: tokenizer, parser and type checker.

The language is deliberately small and not Turing-complete: literals, facts, parameters, named
conditions, arithmetic, comparisons, Kleene `and/or/not`, `if … then … else …`, aggregates over
household members, table lookups, bands and date helpers. There are no loops, no definitions and no
recursion (condition cycles are rejected by the loader), so every expression terminates.

Parsing produces a tree of `Node`s; `check` resolves names against an `Env` and fills in each
node's type and scope, or raises `ExprError` with the offset of the mistake in the source text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any


class ExprError(ValueError):
    """A mistake in an expression, at a character offset of its source."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


class T(StrEnum):
    """Value types of the language."""

    BOOL = "bool"
    INT = "int"
    NUMBER = "number"
    MONEY = "money"
    TEXT = "text"
    DATE = "date"
    ANY = "any"  # the type of `unknown`: fits everywhere


NUMERIC = frozenset({T.INT, T.NUMBER, T.MONEY})


class Scope(StrEnum):
    """Where an expression is evaluated: once per subject, or once per household member."""

    SUBJECT = "subject"
    MEMBER = "member"


# --------------------------------------------------------------------------- nodes


@dataclass(eq=False)
class Node:
    """An expression node; `type` and `scope` are filled in by `check`."""

    pos: int
    type: T = field(default=T.ANY, init=False)
    scope: Scope = field(default=Scope.SUBJECT, init=False)


@dataclass(eq=False)
class Lit(Node):
    """A literal value (money in cents, dates as `date`)."""

    value: bool | int | float | str | date | None


@dataclass(eq=False)
class AsOf(Node):
    """The as-of date of the decision."""


@dataclass(eq=False)
class Name(Node):
    """A dotted name; resolved by `check` into a fact, parameter, condition or size."""

    parts: tuple[str, ...]
    kind: str = field(default="", init=False)  # fact | member_fact | param | cond | size
    target: str = field(default="", init=False)  # catalogue fact name, parameter or condition


@dataclass(eq=False)
class Unary(Node):
    """`not x` or `-x`."""

    op: str
    operand: Node


@dataclass(eq=False)
class BoolOp(Node):
    """`a and b and …` or `a or b or …`."""

    op: str
    items: list[Node]


@dataclass(eq=False)
class Binary(Node):
    """A comparison or arithmetic operation."""

    op: str
    left: Node
    right: Node


@dataclass(eq=False)
class InList(Node):
    """`x in [lit, …]` or `x not in [lit, …]`."""

    operand: Node
    values: tuple[Any, ...]
    negate: bool


@dataclass(eq=False)
class If(Node):
    """`if cond then a else b`."""

    cond: Node
    then: Node
    other: Node


@dataclass(eq=False)
class Call(Node):
    """A function call; aggregates are rewritten into `Agg` by `check`."""

    fn: str
    args: list[Node]


@dataclass(eq=False)
class Agg(Node):
    """An aggregate over household members: any, all, sum, min, max (count becomes sum)."""

    fn: str
    item: Node
    filter: Node | None


COMPARISONS = ("==", "!=", "<=", ">=", "<", ">")
AGGREGATES = ("any", "all", "sum", "count", "min", "max")
FUNCTIONS = ("lookup", "band", "age", "age_at", "year", "date", *AGGREGATES)

# --------------------------------------------------------------------------- tokenizer

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<number>[0-9]+(?:\.[0-9]+)?)
  | (?P<string>"[^"\n]*"|'[^'\n]*')
  | (?P<op>==|!=|<=|>=|<|>|\+|-|\*|/|\(|\)|\[|\]|,|\.)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
    """,
    re.VERBOSE,
)

KEYWORDS = frozenset({"and", "or", "not", "in", "if", "then", "else", "true", "false", "unknown"})
# Limits that no real rule comes near (the Ghent benefits nest 5 deep): they keep the parser, the
# checker and both engines clear of Python's recursion limit and of absurd literals.
MAX_DEPTH = 32
MAX_DIGITS = 15


@dataclass(frozen=True)
class Token:
    kind: str  # number | string | op | name | keyword | end
    text: str
    pos: int


def tokenize(source: str) -> list[Token]:
    """Split an expression into tokens; raise `ExprError` at the first character not understood."""
    tokens: list[Token] = []
    pos = 0
    while pos < len(source):
        match = _TOKEN.match(source, pos)
        if match is None:
            char = source[pos]
            if char in "\"'":
                raise ExprError("unterminated string", pos)
            raise ExprError(f"unexpected character {char!r}", pos)
        kind = match.lastgroup or ""
        text = match.group()
        if kind != "ws":
            if kind == "name" and text in KEYWORDS:
                kind = "keyword"
            tokens.append(Token(kind, text, pos))
        pos = match.end()
    tokens.append(Token("end", "", len(source)))
    return tokens


# --------------------------------------------------------------------------- parser


class _Parser:
    def __init__(self, source: str) -> None:
        self.tokens = tokenize(source)
        self.index = 0
        self.depth = 0

    def nested(self, pos: int) -> None:
        """Enter one more level of nesting (undone with ``depth -= 1``)."""
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ExprError(f"expression nested too deeply (at most {MAX_DEPTH} levels)", pos)

    @property
    def tok(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def at(self, text: str) -> bool:
        return self.tok.kind in ("op", "keyword") and self.tok.text == text

    def expect(self, text: str) -> Token:
        if not self.at(text):
            found = self.tok.text or "end of expression"
            raise ExprError(f"expected {text!r} but found {found!r}", self.tok.pos)
        return self.advance()

    def parse(self) -> Node:
        node = self.expression()
        if self.tok.kind != "end":
            raise ExprError(
                f"unexpected {self.tok.text!r} after a complete expression", self.tok.pos
            )
        return node

    def expression(self) -> Node:
        self.nested(self.tok.pos)
        if self.at("if"):
            start = self.advance().pos
            cond = self.expression()
            self.expect("then")
            then = self.expression()
            self.expect("else")
            other = self.expression()
            node: Node = If(start, cond, then, other)
        else:
            node = self.disjunction()
        self.depth -= 1
        return node

    def disjunction(self) -> Node:
        return self._bool_chain("or", self.conjunction)

    def conjunction(self) -> Node:
        return self._bool_chain("and", self.negation)

    def _bool_chain(self, op: str, operand: Callable[[], Node]) -> Node:
        first = operand()
        items = [first]
        while self.at(op):
            self.advance()
            items.append(operand())
        return first if len(items) == 1 else BoolOp(first.pos, op, items)

    def negation(self) -> Node:
        if self.at("not"):
            start = self.advance().pos
            self.nested(start)
            node = Unary(start, "not", self.negation())
            self.depth -= 1
            return node
        return self.comparison()

    def comparison(self) -> Node:
        left = self.additive()
        if self.tok.kind == "op" and self.tok.text in COMPARISONS:
            op = self.advance()
            right = self.additive()
            if self.tok.kind == "op" and self.tok.text in COMPARISONS:
                raise ExprError(
                    "comparisons cannot be chained; combine them with 'and'", self.tok.pos
                )
            return Binary(op.pos, op.text, left, right)
        negate = False
        if self.at("not") and self.tokens[self.index + 1].text == "in":
            self.advance()
            negate = True
        if self.at("in"):
            op = self.advance()
            return InList(op.pos, left, self.literal_list(), negate)
        return left

    def literal_list(self) -> tuple[Any, ...]:
        self.expect("[")
        values: list[Any] = []
        while not self.at("]"):
            node = self.unary()
            if not isinstance(node, Lit):
                raise ExprError("a list after 'in' may only hold literals", node.pos)
            values.append(node.value)
            if not self.at("]"):
                self.expect(",")
        self.advance()
        if not values:
            raise ExprError("the list after 'in' is empty", self.tok.pos)
        return tuple(values)

    def additive(self) -> Node:
        node = self.multiplicative()
        while self.tok.kind == "op" and self.tok.text in ("+", "-"):
            op = self.advance()
            node = Binary(op.pos, op.text, node, self.multiplicative())
        return node

    def multiplicative(self) -> Node:
        node = self.unary()
        while self.tok.kind == "op" and self.tok.text in ("*", "/"):
            op = self.advance()
            node = Binary(op.pos, op.text, node, self.unary())
        return node

    def unary(self) -> Node:
        if self.at("-"):
            start = self.advance().pos
            self.nested(start)
            operand = self.unary()
            self.depth -= 1
            if isinstance(operand, Lit) and isinstance(operand.value, int | float):
                return Lit(start, -operand.value)
            return Unary(start, "-", operand)
        return self.primary()

    def primary(self) -> Node:
        tok = self.tok
        if tok.kind == "number":
            if len(tok.text.partition(".")[0]) > MAX_DIGITS:
                raise ExprError(f"number too long (at most {MAX_DIGITS} digits)", tok.pos)
            self.advance()
            return Lit(tok.pos, float(tok.text) if "." in tok.text else int(tok.text))
        if tok.kind == "string":
            self.advance()
            return Lit(tok.pos, tok.text[1:-1])
        if tok.kind == "keyword" and tok.text in ("true", "false"):
            self.advance()
            return Lit(tok.pos, tok.text == "true")
        if tok.kind == "keyword" and tok.text == "unknown":
            self.advance()
            return Lit(tok.pos, None)
        if self.at("("):
            self.advance()
            node = self.expression()
            self.expect(")")
            return node
        if tok.kind == "name":
            return self.name_or_call()
        found = tok.text or "end of expression"
        raise ExprError(f"expected a value but found {found!r}", tok.pos)

    def name_or_call(self) -> Node:
        first = self.advance()
        if self.at("("):
            self.advance()
            args: list[Node] = []
            while not self.at(")"):
                args.append(self.expression())
                if not self.at(")"):
                    self.expect(",")
            self.advance()
            if first.text == "date":
                return _date_literal(first, args)
            return Call(first.pos, first.text, args)
        if first.text == "as_of":
            return AsOf(first.pos)
        parts = [first.text]
        while self.at("."):
            self.advance()
            if self.tok.kind != "name":
                raise ExprError("expected a name after '.'", self.tok.pos)
            parts.append(self.advance().text)
        return Name(first.pos, tuple(parts))


def _date_literal(fn: Token, args: list[Node]) -> Lit:
    if len(args) != 1 or not isinstance(args[0], Lit) or not isinstance(args[0].value, str):
        raise ExprError('date() takes one text literal such as date("2024-09-01")', fn.pos)
    try:
        return Lit(fn.pos, date.fromisoformat(args[0].value))
    except ValueError:
        raise ExprError(f"{args[0].value!r} is not a date (YYYY-MM-DD)", args[0].pos) from None


def parse(source: str) -> Node:
    """Parse an expression into an unchecked tree (at most `MAX_DEPTH` levels deep)."""
    tree = _Parser(source).parse()
    levels = [(tree, 1)]
    while levels:  # chains such as 1 + 1 + … nest without recursion in the parser
        node, depth = levels.pop()
        if depth > MAX_DEPTH:
            raise ExprError(f"expression nested too deeply (at most {MAX_DEPTH} levels)", node.pos)
        levels.extend((item, depth + 1) for item in children(node))
    return tree


# --------------------------------------------------------------------------- type checking


@dataclass(frozen=True)
class ParamType:
    """The type of a parameter as the checker sees it."""

    kind: str  # scalar | table | bands
    value: T
    key: T | None = None


@dataclass
class Env:
    """What names mean while checking one benefit."""

    subject: str  # person | household
    facts: dict[str, T]  # catalogue fact name -> type
    params: dict[str, ParamType]
    conditions: dict[str, T] = field(default_factory=dict)  # conditions checked so far
    pending_conditions: frozenset[str] = frozenset()  # defined later or in a cycle

    def closest(self, name: str, candidates: Sequence[str]) -> str:
        import difflib

        match = difflib.get_close_matches(name, candidates, n=1)
        return f" (did you mean {match[0]!r}?)" if match else ""


def _lit_type(value: object) -> T:
    if value is None:
        return T.ANY
    if isinstance(value, bool):
        return T.BOOL
    if isinstance(value, int):
        return T.INT
    if isinstance(value, float):
        return T.NUMBER
    if isinstance(value, str):
        return T.TEXT
    return T.DATE


def _compatible(a: T, b: T) -> bool:
    return a == b or T.ANY in (a, b) or (a in NUMERIC and b in NUMERIC)


class _Checker:
    def __init__(self, env: Env) -> None:
        self.env = env

    def check(self, node: Node, in_aggregate: bool = False) -> Node:
        node = self._check(node, in_aggregate)
        return node

    def _check(self, node: Node, agg: bool) -> Node:
        method = getattr(self, f"_{type(node).__name__.lower()}")
        result: Node = method(node, agg)
        return result

    def _lit(self, node: Lit, agg: bool) -> Node:
        node.type = _lit_type(node.value)
        return node

    def _asof(self, node: AsOf, agg: bool) -> Node:
        node.type = T.DATE
        return node

    def _name(self, node: Name, agg: bool) -> Node:
        env = self.env
        parts = node.parts
        dotted = ".".join(parts)
        if parts[0] == "person":
            if env.subject != "person":
                raise ExprError(
                    f"'{dotted}': this benefit's subject is a household; use household.members.…",
                    node.pos,
                )
            if agg:
                raise ExprError(
                    f"'{dotted}' is the subject's own fact; inside an aggregate use "
                    "household.members.…",
                    node.pos,
                )
            return self._fact(node, dotted, "fact")
        if parts[0] == "household":
            if len(parts) >= 2 and parts[1] == "members":
                if len(parts) != 3:
                    raise ExprError("write household.members.<fact>", node.pos)
                if not agg:
                    raise ExprError(
                        f"'{dotted}' is one value per member: wrap it in any/all/sum/count/min/max",
                        node.pos,
                    )
                node.scope = Scope.MEMBER
                return self._fact(node, f"person.{parts[2]}", "member_fact")
            if parts == ("household", "size"):
                node.kind, node.target, node.type = "size", "household.size", T.INT
                return node
            if agg:
                raise ExprError(
                    f"'{dotted}' cannot be used inside an aggregate; compare it outside",
                    node.pos,
                )
            return self._fact(node, dotted, "fact")
        if len(parts) > 1:
            raise ExprError(
                f"unknown name '{dotted}': facts start with person., household. or "
                "household.members.",
                node.pos,
            )
        name = parts[0]
        if name in env.params:
            ptype = env.params[name]
            if ptype.kind != "scalar":
                raise ExprError(
                    f"parameter '{name}' is a {ptype.kind}: use "
                    f"{'lookup' if ptype.kind == 'table' else 'band'}({name}, …)",
                    node.pos,
                )
            node.kind, node.target, node.type = "param", name, ptype.value
            return node
        if name in env.conditions:
            if agg:
                raise ExprError(f"condition '{name}' cannot be used inside an aggregate", node.pos)
            node.kind, node.target, node.type = "cond", name, env.conditions[name]
            return node
        if name in env.pending_conditions:
            raise ExprError(
                f"condition '{name}' is used before it is defined or depends on itself",
                node.pos,
            )
        known = [*env.params, *env.conditions]
        raise ExprError(
            f"unknown name '{name}': not a parameter or condition{env.closest(name, known)}",
            node.pos,
        )

    def _fact(self, node: Name, fact: str, kind: str) -> Node:
        if fact not in self.env.facts:
            shown = ".".join(node.parts)
            candidates = [
                f.replace("person.", "household.members.", 1) if kind == "member_fact" else f
                for f in self.env.facts
            ]
            raise ExprError(
                f"unknown fact '{shown}'{self.env.closest(shown, candidates)}",
                node.pos,
            )
        node.kind, node.target, node.type = kind, fact, self.env.facts[fact]
        return node

    def _unary(self, node: Unary, agg: bool) -> Node:
        node.operand = self._check(node.operand, agg)
        node.scope = node.operand.scope
        if node.op == "not":
            self._require(node.operand, {T.BOOL}, "'not'")
            node.type = T.BOOL
        else:
            self._require(node.operand, NUMERIC, "unary '-'")
            node.type = node.operand.type
        return node

    def _boolop(self, node: BoolOp, agg: bool) -> Node:
        node.items = [self._check(item, agg) for item in node.items]
        for item in node.items:
            self._require(item, {T.BOOL}, f"'{node.op}'")
        node.type = T.BOOL
        node.scope = _join_scope(node.items)
        return node

    def _binary(self, node: Binary, agg: bool) -> Node:
        node.left = self._check(node.left, agg)
        node.right = self._check(node.right, agg)
        node.scope = _join_scope([node.left, node.right])
        left, right = node.left.type, node.right.type
        if node.op in COMPARISONS:
            if not _compatible(left, right):
                raise ExprError(f"cannot compare {left} with {right} using '{node.op}'", node.pos)
            if node.op not in ("==", "!=") and (
                left in (T.BOOL, T.TEXT) or right in (T.BOOL, T.TEXT)
            ):
                raise ExprError(f"'{node.op}' needs numbers or dates, not {left}", node.pos)
            _as_money([node.left, node.right])
            node.type = T.BOOL
            return node
        self._require(node.left, NUMERIC, f"'{node.op}'")
        self._require(node.right, NUMERIC, f"'{node.op}'")
        node.type = _arith_type(node.op, left, right, node.pos)
        if node.type == T.MONEY and node.op in ("+", "-"):
            _as_money([node.left, node.right])
        return node

    def _inlist(self, node: InList, agg: bool) -> Node:
        node.operand = self._check(node.operand, agg)
        node.scope = node.operand.scope
        if node.operand.type == T.MONEY:
            node.values = tuple(
                round(v * 100) if isinstance(v, int | float) and not isinstance(v, bool) else v
                for v in node.values
            )
        for value in node.values:
            if not _compatible(node.operand.type, _lit_type(value)):
                raise ExprError(
                    f"list value {value!r} does not match {node.operand.type}", node.pos
                )
        node.type = T.BOOL
        return node

    def _if(self, node: If, agg: bool) -> Node:
        node.cond = self._check(node.cond, agg)
        self._require(node.cond, {T.BOOL}, "'if'")
        node.then = self._check(node.then, agg)
        node.other = self._check(node.other, agg)
        if not _compatible(node.then.type, node.other.type):
            raise ExprError(
                f"the branches of 'if' differ in type: {node.then.type} and {node.other.type}",
                node.pos,
            )
        node.type = _unify(node.then.type, node.other.type)
        node.scope = _join_scope([node.cond, node.then, node.other])
        _as_money([node.then, node.other])
        return node

    def _call(self, node: Call, agg: bool) -> Node:
        fn = node.fn
        if fn not in FUNCTIONS:
            raise ExprError(f"unknown function '{fn}'{self.env.closest(fn, FUNCTIONS)}", node.pos)
        if fn in AGGREGATES and not (fn in ("min", "max") and self._plain_min_max(node, agg)):
            return self._aggregate(node, agg)
        if fn in ("min", "max"):
            return node  # checked by _plain_min_max
        if fn == "lookup" or fn == "band":
            return self._table(node, agg)
        arity = {"age": 1, "age_at": 2, "year": 1}[fn]
        if len(node.args) != arity:
            raise ExprError(f"{fn}() takes {arity} argument(s), got {len(node.args)}", node.pos)
        node.args = [self._check(arg, agg) for arg in node.args]
        for arg in node.args:
            self._require(arg, {T.DATE}, f"{fn}()")
        node.type = T.INT
        node.scope = _join_scope(node.args)
        return node

    def _plain_min_max(self, node: Call, agg: bool) -> bool:
        """Check min/max of plain values; False when it is an aggregate over members."""
        if len(node.args) < 2:
            return False
        if not agg and any(_mentions_members(arg) for arg in node.args):
            if len(node.args) == 2:
                return False  # min(household.members.x, filter)
            raise ExprError(
                f"{node.fn}() over members takes a value and an optional filter", node.pos
            )
        args = [self._check(arg, agg) for arg in node.args]
        node.args = args
        for arg in args:
            self._require(arg, NUMERIC | {T.DATE}, f"{node.fn}()")
        node.type = args[0].type
        for arg in args[1:]:
            if not _compatible(node.type, arg.type):
                raise ExprError(f"{node.fn}() mixes {node.type} and {arg.type}", arg.pos)
            node.type = _unify(node.type, arg.type)
        node.scope = _join_scope(args)
        _as_money(args)
        return True

    def _aggregate(self, node: Call, agg: bool) -> Node:
        fn = node.fn
        if agg:
            raise ExprError(f"{fn}() cannot be nested inside another aggregate", node.pos)
        expected = (1,) if fn == "count" else (1, 2)
        if len(node.args) not in expected:
            usage = "count(FILTER)" if fn == "count" else f"{fn}(VALUE) or {fn}(VALUE, FILTER)"
            raise ExprError(f"{fn}() takes {usage}", node.pos)
        args = [self._check(arg, True) for arg in node.args]
        if all(arg.scope == Scope.SUBJECT for arg in args):
            raise ExprError(
                f"{fn}() aggregates over household members: use household.members.<fact> in it",
                node.pos,
            )
        item = args[0]
        flt = args[1] if len(args) == 2 else None
        if flt is not None:
            self._require(flt, {T.BOOL}, f"the filter of {fn}()")
        if fn == "count":
            self._require(item, {T.BOOL}, "count()")
            one, zero = Lit(node.pos, 1), Lit(node.pos, 0)
            one.type = zero.type = T.INT
            return self._finish_agg(Agg(node.pos, "sum", _if_node(item, one, zero), None))
        if fn in ("any", "all"):
            self._require(item, {T.BOOL}, f"{fn}()")
            if flt is not None:
                item = _filtered_bool(fn, item, flt)
            return self._finish_agg(Agg(node.pos, fn, item, None))
        self._require(item, NUMERIC | ({T.DATE} if fn != "sum" else set()), f"{fn}()")
        if fn == "sum" and flt is not None:
            zero = Lit(node.pos, 0)
            zero.type = T.INT
            return self._finish_agg(Agg(node.pos, "sum", _if_node(flt, item, zero), None))
        return self._finish_agg(Agg(node.pos, fn, item, flt))

    def _finish_agg(self, node: Agg) -> Node:
        node.type = T.BOOL if node.fn in ("any", "all") else node.item.type
        node.scope = Scope.SUBJECT
        return node

    def _table(self, node: Call, agg: bool) -> Node:
        fn = node.fn
        if (
            len(node.args) != 2
            or not isinstance(node.args[0], Name)
            or len(node.args[0].parts) != 1
        ):
            raise ExprError(
                f"{fn}() takes a parameter name and a value: {fn}(PARAMETER, VALUE)", node.pos
            )
        pname = node.args[0].parts[0]
        ptype = self.env.params.get(pname)
        wanted = "table" if fn == "lookup" else "bands"
        if ptype is None or ptype.kind != wanted:
            raise ExprError(
                f"{fn}() needs a {wanted} parameter; '{pname}' is not one", node.args[0].pos
            )
        table = node.args[0]
        table.kind, table.target = "param", pname
        key = self._check(node.args[1], agg)
        if fn == "lookup":
            assert ptype.key is not None
            if not _compatible(key.type, ptype.key) or key.type in (T.NUMBER, T.MONEY):
                raise ExprError(f"'{pname}' has {ptype.key} keys, not {key.type}", key.pos)
        else:
            self._require(key, NUMERIC, "band()")
            if key.type == T.MONEY:
                table.type = T.MONEY  # band edges read in euros, compared in cents
        node.args = [table, key]
        node.type = ptype.value
        node.scope = key.scope
        return node

    @staticmethod
    def _require(node: Node, allowed: set[T] | frozenset[T], where: str) -> None:
        if node.type != T.ANY and node.type not in allowed:
            names = " or ".join(sorted(allowed))
            raise ExprError(f"{where} needs {names}, not {node.type}", node.pos)


def _mentions_members(node: Node) -> bool:
    """Whether an unchecked expression reads member facts outside an aggregate of its own."""
    if isinstance(node, Name):
        return node.parts[:2] == ("household", "members")
    if isinstance(node, Call) and node.fn in AGGREGATES:
        return False
    return any(_mentions_members(child) for child in children(node))


def _if_node(cond: Node, then: Node, other: Node) -> If:
    node = If(cond.pos, cond, then, other)
    node.type = _unify(then.type, other.type)
    node.scope = _join_scope([cond, then, other])
    return node


def _filtered_bool(fn: str, item: Node, flt: Node) -> Node:
    if fn == "any":
        node = BoolOp(item.pos, "and", [flt, item])
    else:
        negated = Unary(flt.pos, "not", flt)
        negated.type, negated.scope = T.BOOL, flt.scope
        node = BoolOp(item.pos, "or", [negated, item])
    node.type = T.BOOL
    node.scope = Scope.MEMBER
    return node


def _join_scope(nodes: Sequence[Node]) -> Scope:
    return Scope.MEMBER if any(n.scope == Scope.MEMBER for n in nodes) else Scope.SUBJECT


def _unify(a: T, b: T) -> T:
    if a == T.ANY:
        return b
    if b == T.ANY or a == b:
        return a
    if T.MONEY in (a, b):
        return T.MONEY
    return T.NUMBER


def _arith_type(op: str, left: T, right: T, pos: int) -> T:
    if op == "/":
        return T.NUMBER
    if T.MONEY in (left, right):
        mixed = op in ("+", "-") and left != right and T.ANY not in (left, right)
        if mixed and T.INT not in (left, right):
            raise ExprError(f"cannot {op} money and {right if left == T.MONEY else left}", pos)
        if op == "*" and left == right == T.MONEY:
            raise ExprError("cannot multiply money by money", pos)
        if op == "*" and T.NUMBER in (left, right):
            raise ExprError("money can only be multiplied by a whole number", pos)
        return T.MONEY
    return _unify(left, right)


def _as_money(nodes: Sequence[Node]) -> None:
    """Where money meets plain numbers, read number literals as euros (stored in cents).

    Any other plain number next to money is ambiguous (euros or cents?) and rejected.
    """
    if not any(node.type == T.MONEY for node in nodes):
        return
    for node in nodes:
        if isinstance(node, Lit) and node.type in (T.INT, T.NUMBER):
            assert isinstance(node.value, int | float)
            node.value = round(node.value * 100)
            node.type = T.MONEY
        elif node.type in (T.INT, T.NUMBER):
            raise ExprError(
                f"a {node.type} next to money is ambiguous: write an amount in euros as a "
                "literal, or use a money parameter",
                node.pos,
            )


def check(node: Node, env: Env) -> Node:
    """Resolve names and types in place; return the (possibly rewritten) root."""
    return _Checker(env).check(node)


def compile_expression(source: str, env: Env) -> Node:
    """Parse and type-check an expression."""
    return check(parse(source), env)


def walk(node: Node) -> list[Node]:
    """All nodes of a tree, parents before children."""
    out: list[Node] = []
    stack = [node]
    while stack:
        current = stack.pop()
        out.append(current)
        stack.extend(reversed(children(current)))
    return out


def branch_ends(node: Node) -> list[Node]:
    """The expressions an `if … then … else …` chain can end in (the node itself otherwise)."""
    if isinstance(node, If):
        return branch_ends(node.then) + branch_ends(node.other)
    return [node]


def children(node: Node) -> list[Node]:
    """The direct children of a node."""
    if isinstance(node, Unary):
        return [node.operand]
    if isinstance(node, BoolOp):
        return list(node.items)
    if isinstance(node, Binary):
        return [node.left, node.right]
    if isinstance(node, InList):
        return [node.operand]
    if isinstance(node, If):
        return [node.cond, node.then, node.other]
    if isinstance(node, Call):
        return list(node.args)
    if isinstance(node, Agg):
        return [node.item] + ([node.filter] if node.filter is not None else [])
    return []
