"""Fuzz the expression parser and type checker with atheris: only `ExprError` (with an offset
inside the text) may escape (docs/security.md). Seeds: the real benefits' files.

    .venv/bin/python fuzz/expr.py -max_total_time=60
"""

from __future__ import annotations

import atheris

with atheris.instrument_imports():
    from entitle.rules.catalogue import default_catalogue
    from entitle.rules.expr import Env, ExprError, ParamType, T, compile_expression

from _common import BENEFITS, run

ENV = Env(
    "household",
    {name: fact.type for name, fact in default_catalogue().items()},
    {"ceiling": ParamType("scalar", T.MONEY), "amounts": ParamType("table", T.MONEY, T.INT)},
    {"resident": T.BOOL},
)


def test_one_input(data: bytes) -> None:
    source = data.decode("utf-8", "replace")
    try:
        compile_expression(source, ENV)
    except ExprError as error:
        assert error.message and 0 <= error.offset <= len(source), (error.offset, len(source))


if __name__ == "__main__":
    run(test_one_input, [BENEFITS])
