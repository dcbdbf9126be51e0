"""Fuzz the benefit loader with atheris: only `RuleFileError`, whose every problem is
``file:line:column: message``, may escape (docs/security.md). Seeds: the real benefit files.

    .venv/bin/python fuzz/loader.py -max_total_time=60
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import atheris

with atheris.instrument_imports():
    from entitle.rules.loader import RuleFileError, load_benefit

from _common import BENEFITS, run

FILE = Path(tempfile.mkdtemp(prefix="entitle-fuzz-loader-")) / "benefit.yaml"


def test_one_input(data: bytes) -> None:
    FILE.write_bytes(data)
    try:
        load_benefit(FILE)
    except RuleFileError as error:
        for problem in error.problems:
            assert problem.line >= 1 and problem.column >= 1 and problem.message, problem


if __name__ == "__main__":
    run(test_one_input, [BENEFITS])
