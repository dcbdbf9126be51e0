"""Why a fact is missing: one `MissingReason`, stored as the desk's ``"kind: detail"`` text or a
campaign's JSON object, parsed back in one place, with one spelling of "no data"."""

from __future__ import annotations

import json

import pytest

from entitle.decide.reasons import NO_DATA, MissingReason, ours_in, reasons_of
from entitle.web.desk import missing_words


@pytest.mark.parametrize(
    "why",
    [
        MissingReason("no_data", "MSG00021", "not integrated"),
        MissingReason("retry", "", "timeout: after 3 attempts"),
        MissingReason("refused", "30004", "no authorisation"),
    ],
)
def test_both_stored_forms_read_back(why: MissingReason) -> None:
    as_text = MissingReason.parse(why.text())  # the desk's: the kind and the detail
    assert (as_text.kind, as_text.detail) == (why.kind, why.detail)
    as_json = MissingReason.parse(json.loads(json.dumps(why.to_json())))  # a campaign's
    assert as_json == why


def test_a_bare_kind_and_the_older_spelling_of_no_data() -> None:
    assert MissingReason.parse("retry").kind == "retry"
    assert MissingReason.parse("no data").kind == NO_DATA.kind == "no_data"
    assert MissingReason.parse("not a kind at all").kind == "no_data"


def test_whose_fault_it_is() -> None:
    stored = {"a": "no_data: none", "b": "retry: later", "c": {"kind": "error", "code": "HTTP_500"}}
    assert sorted(ours_in(stored)) == ["b", "c"]
    assert reasons_of(stored)["c"].label() == "HTTP_500"


def test_the_card_says_why_in_both_languages_and_an_unknown_kind_as_an_error() -> None:
    assert missing_words(MissingReason.parse("no_data: x"))["nl"].startswith(
        "geen gegevens bij de bron"
    )
    assert missing_words(MissingReason("unavailable"))["nl"] == "fout bij de bron"
    assert missing_words(MissingReason("retry"))["en"] == (
        "source temporarily unavailable: try again later"
    )
