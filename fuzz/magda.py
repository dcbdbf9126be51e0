"""Fuzz the MAGDA reply parser with atheris: only `MagdaParseError` (and its subclasses) may
escape, and a parsed reply must give its JSON form (docs/security.md). Seeds: the mock replies
in ../shared/magda-mock/responses (read in place).

    .venv/bin/python fuzz/magda.py -max_total_time=60
"""

from __future__ import annotations

import json

import atheris

with atheris.instrument_imports():
    from entitle.sources.magda import MagdaParseError, parse_response

from _common import MAGDA_RESPONSES, run


def test_one_input(data: bytes) -> None:
    try:
        response = parse_response(data)
    except MagdaParseError as error:
        assert str(error), "a MagdaParseError without a message"
        return
    json.dumps(response.to_json())


if __name__ == "__main__":
    run(test_one_input, [MAGDA_RESPONSES])
