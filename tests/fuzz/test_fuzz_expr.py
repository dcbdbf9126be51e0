"""Fuzzing the expression parser and type checker: any text either compiles to a typed tree or
raises `ExprError` with a message and an offset inside the text; nothing else escapes (no
RecursionError on deep nesting, no ValueError on absurd numbers)."""

from __future__ import annotations

from functools import cache

from fuzz_budget import FUZZ, benefit_files
from hypothesis import given
from hypothesis import strategies as st
from mutations import mutated

from entitle.rules.catalogue import default_catalogue
from entitle.rules.expr import Env, ExprError, ParamType, T, compile_expression, walk
from entitle.rules.loader import load_benefit


@cache
def real() -> tuple[Env, tuple[str, ...]]:
    """One environment with every real benefit's parameters and conditions, and their sources."""
    params: dict[str, ParamType] = {}
    conditions: dict[str, T] = {}
    sources: list[str] = []
    for path in benefit_files():
        benefit = load_benefit(path)
        params |= {p.name: ParamType(p.kind, p.type, p.key) for p in benefit.parameters.values()}
        conditions |= dict.fromkeys(benefit.conditions, T.BOOL)
        sources += [c.source for c in benefit.conditions.values()]
        sources += [o.source for o in benefit.outputs.values()]
        sources.append(benefit.eligible_source)
    facts = {name: fact.type for name, fact in default_catalogue().items()}
    return Env("household", facts, params, conditions), tuple(sources)


def assert_compiles_or_says_where(source: str, subject: str = "household") -> None:
    env, _ = real()
    env = Env(subject, env.facts, env.params, dict(env.conditions))
    try:
        node = compile_expression(source, env)
    except ExprError as error:
        assert error.message and str(error) == error.message
        assert 0 <= error.offset <= len(source), (error.offset, len(source))
        return
    for item in walk(node):
        assert 0 <= item.pos <= len(source)
        assert isinstance(item.type, T)


TOKENS = [
    "and", "or", "not", "in", "if", "then", "else", "true", "false", "unknown", "(", ")", "[",
    "]", ",", ".", "==", "!=", "<=", ">=", "<", ">", "+", "-", "*", "/", "1", "2.5", '"x"',
    "'44021'", "as_of", "household", "members", "person", "size", "sum", "any", "count", "min",
    "lookup", "band", "age", "date", '("2024-02-30")', "9" * 30,
]  # fmt: skip


@FUZZ
@given(st.lists(st.sampled_from(TOKENS), max_size=30).map(" ".join))
def test_token_soup(source: str) -> None:
    assert_compiles_or_says_where(source)


@FUZZ
@given(st.text(max_size=60))
def test_any_text(source: str) -> None:
    assert_compiles_or_says_where(source)


@FUZZ
@given(st.data(), st.sampled_from(["household", "person"]))
def test_mutated_real_expressions(data: st.DataObject, subject: str) -> None:
    source = data.draw(st.sampled_from(real()[1]).flatmap(mutated))
    assert_compiles_or_says_where(source, subject)


@FUZZ
@given(
    st.sampled_from(["(", "not ", "-", "if true then ", "min(", "[", "f(", "a.", "x in ["]),
    st.integers(1, 3000),
)
def test_deep_nesting_is_refused_with_a_message(opening: str, depth: int) -> None:
    source = opening * depth + "1"
    assert_compiles_or_says_where(source)


@FUZZ
@given(st.integers(1, 3000), st.sampled_from(["+", "*", " and ", " or ", " - "]))
def test_long_chains(length: int, op: str) -> None:
    assert_compiles_or_says_where(op.join(["1"] * length))


def test_what_fuzzing_found() -> None:
    """Inputs that once escaped as RecursionError or ValueError, and non-ASCII digits."""
    env, _ = real()
    for source, message in [
        ("(" * 200 + "1" + ")" * 200, "nested too deeply"),
        ("not " * 2000 + "true", "nested too deeply"),
        ("-" * 2000 + "1", "nested too deeply"),
        (" + ".join(["1"] * 2000), "nested too deeply"),
        ("9" * 5000, "number too long"),
        ("١٢ > 3", "unexpected character '١'"),
    ]:
        try:
            compile_expression(source, env)
        except ExprError as error:
            assert message in error.message, (source[:20], error.message)
        else:
            raise AssertionError(f"{source[:20]!r} compiled")
    assert compile_expression("(" * 20 + "1" + ")" * 20 + " < 2", env).type == T.BOOL
