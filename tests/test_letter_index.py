"""One letter opens without the whole address book (issue 16: ≤ 300 ms at the default city).

Issuing a run writes an index of where each letter's addressee is in the register extract
(pseudonym → row numbers; no name, address or register number). Opening one letter reads that
index row and the extract's rows, and checks them by pseudonymising the subject found; when the
extract changed under the index, the address book is made as before.
"""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import polars as pl
import pytest
from test_campaign_review import (
    AS_OF,
    City,
    approve_and_issue,
    bags,
    city,  # noqa: F401 (the fixture: 3,000 persons)
    context,
)

from entitle.decide.campaign import letters as campaign_letters
from entitle.decide.campaign import render_letter, run_campaign
from entitle.decide.campaign.letters import ADDRESS_INDEX, addressees, indexed_addressee
from entitle.decide.campaign.sources import RegisterExtract
from entitle.store import campaigns as store


def test_one_letter_reads_its_addressee_through_the_run_index(
    city: City,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ctx = context(tmp_path, city)
    campaign = bags()
    run = run_campaign(ctx, campaign, AS_OF, chunk_size=1000)
    issued = approve_and_issue(ctx, campaign, run.id)
    folder = Path(str((issued.run.outputs or {})["folder"]))
    index = pl.read_parquet(folder / ADDRESS_INDEX)
    assert index.columns == ["pseudonym", "person_row", "household_row"]  # nothing personal
    with ctx.factory() as session:
        letters = store.letters_of_run(session, run.id)
    assert index.height == len({x.subject_pseudonym for x in letters}) > 0
    book = addressees(campaign, RegisterExtract.load(ctx.register), ctx.pseudonymiser())
    for letter in letters[:: max(1, len(letters) // 25)]:
        found = indexed_addressee(ctx, campaign, folder, letter.subject_pseudonym)
        assert found == book[letter.subject_pseudonym]
    monkeypatch.setattr(campaign_letters, "_BOOKS", {})
    assert render_letter(ctx, campaign, run.id, letters[-1].seq).startswith(b"%PDF")
    assert campaign_letters._BOOKS == {}  # the address book was not made for one letter

    # another extract (its rows in another order): the index is not trusted, the book is
    moved = tmp_path / "moved"
    shutil.copytree(ctx.register, moved)
    for name in ("persons", "households"):
        table = pl.read_parquet(moved / f"{name}.parquet")
        table.reverse().write_parquet(moved / f"{name}.parquet")
    other = replace(ctx, register=moved)
    pseudonym = letters[0].subject_pseudonym
    assert indexed_addressee(other, campaign, folder, pseudonym) is None
    assert render_letter(other, campaign, run.id, letters[0].seq).startswith(b"%PDF")
    assert len(campaign_letters._BOOKS) == 1  # made for the changed extract
