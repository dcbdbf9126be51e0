"""Fuzz `parse_insz` with atheris: only `InvalidInszError` may escape (docs/security.md).

.venv/bin/python fuzz/insz.py -max_total_time=60
"""

from __future__ import annotations

import atheris

with atheris.instrument_imports():
    from entitle.insz import InvalidInszError, parse_insz

from _common import run


def test_one_input(data: bytes) -> None:
    text = atheris.FuzzedDataProvider(data).ConsumeUnicodeNoSurrogates(64)
    try:
        insz = parse_insz(text)
    except InvalidInszError as error:
        assert str(error), "an InvalidInszError without a message"
        return
    assert parse_insz(insz.formatted) == insz


if __name__ == "__main__":
    run(test_one_input, [])
