"""The subject-access report reads one person's lines of the access log through an index, not
the whole log (issue 16), and finds their campaign decisions and letters by index in the store.

The index is shown to be used, not timed: once a month is indexed, every other subject's line is
overwritten with a forged line about the person, of the same length: a report that read every
line would list the forgeries, one read through the index lists the person's real lines only."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, text

from entitle.decide.subject_activity import SubjectPseudonyms, registry_accesses
from entitle.sources.access import Access, JsonlAccessLog, monthly_files
from entitle.sources.access_index import index_path, lookup
from entitle.store import db


def _access(subject: str, day: int, source: str = "GeefPersoon-02.00") -> Access:
    return Access(
        time=f"2026-11-{day:02d}T10:00:00+00:00",
        purpose="ghent-uitpas",
        source=source,
        subject=subject,
        result="ok",
        facts=("person.resident",),
    )


def _write(log: JsonlAccessLog, accesses: list[Access]) -> None:
    for access in accesses:
        log.record(access)
    log.close()


def _forge_all_but(path: Path, keep: set[str], forged: str) -> int:
    """Overwrite every line whose subject is not in `keep` with a forged line of the same
    length about `forged`: whoever reads every line finds the forgeries, the index does not."""
    out, changed = [], 0
    for line in path.read_bytes().splitlines(keepends=True):
        if json.loads(line)["subject"] in keep:
            out.append(line)
            continue
        fake = json.dumps({"subject": forged, "time": "forged", "pad": ""})
        fake = fake[:-2] + "x" * (len(line) - 1 - len(fake)) + '"}'
        assert len(fake) == len(line) - 1
        out.append(fake.encode() + b"\n")
        changed += 1
    path.write_bytes(b"".join(out))
    return changed


def test_the_report_reads_the_persons_lines_through_the_index(tmp_path: Path) -> None:
    log_path = tmp_path / "access.jsonl"
    others = [_access(f"other{i:04d}", 1 + i % 28) for i in range(500)]
    mine = [_access("person01", 3), _access("household01", 7, "school_enrolments")]
    _write(JsonlAccessLog(log_path), mine[:1] + others[:250] + mine[1:] + others[250:])
    (month,) = monthly_files(log_path).values()
    who = SubjectPseudonyms("person01", "household01")

    first = registry_accesses(log_path, who)  # builds the index (reads the month once)
    assert [e["subject"] for e in first] == ["person01", "household01"]
    assert index_path(month).is_file()

    assert _forge_all_but(month, {"person01", "household01"}, "person01") == 500
    again = registry_accesses(log_path, who)  # reading every line would find 500 forgeries
    assert again == first
    assert lookup(month, who.all).lines_indexed == 0  # nothing new to index


def test_lines_appended_later_are_indexed_and_nothing_else_is_read(tmp_path: Path) -> None:
    log_path = tmp_path / "access.jsonl"
    _write(JsonlAccessLog(log_path), [_access(f"s{i}", 2) for i in range(50)])
    (month,) = monthly_files(log_path).values()
    assert lookup(month, ["s7"]).lines_indexed == 50
    _write(JsonlAccessLog(log_path), [_access("s7", 9), _access("s8", 9)])
    later = lookup(month, ["s7"])
    assert later.lines_indexed == 2  # only the appended lines
    assert [r["time"][:10] for r in later.records] == ["2026-11-02", "2026-11-09"]


def test_a_line_still_being_written_waits_for_the_next_lookup(tmp_path: Path) -> None:
    month = tmp_path / "access-2026-11.jsonl"
    whole = json.dumps({"subject": "a", "time": "t"}) + "\n"
    month.write_text(whole + '{"subject": "a", "ti')
    assert len(lookup(month, ["a"]).records) == 1
    month.write_text(whole + json.dumps({"subject": "a", "time": "u"}) + "\n")
    assert [r["time"] for r in lookup(month, ["a"]).records] == ["t", "u"]


def test_a_replaced_month_file_is_indexed_anew(tmp_path: Path) -> None:
    month = tmp_path / "access-2026-11.jsonl"
    month.write_text("".join(json.dumps({"subject": s}) + "\n" for s in ("a", "b", "a")))
    assert len(lookup(month, ["a"]).records) == 2
    month.write_text(json.dumps({"subject": "b"}) + "\n")  # shorter: another file
    assert lookup(month, ["a"]).records == []
    month.write_text("".join(json.dumps({"subject": s, "n": 1}) + "\n" for s in "ccca"))
    assert [r["subject"] for r in lookup(month, ["a"]).records] == ["a"]  # longer, other head


@settings(max_examples=40, deadline=None)
@given(
    batches=st.lists(st.lists(st.sampled_from("abcde"), max_size=12), min_size=1, max_size=5),
    wanted=st.sets(st.sampled_from("abcdef"), max_size=3),
)
def test_the_index_finds_what_reading_everything_finds(
    tmp_path_factory: object, batches: list[list[str]], wanted: set[str]
) -> None:
    folder = tmp_path_factory.mktemp("log")  # type: ignore[attr-defined]
    month = folder / "access-2026-11.jsonl"
    month.touch()
    written: list[dict[str, object]] = []
    for batch in batches:  # appended in batches, looked up between them
        with month.open("a", encoding="utf-8") as handle:
            for n, subject in enumerate(batch):
                record = {"subject": subject, "n": len(written) + n}
                handle.write(json.dumps(record) + "\n")
        written += [{"subject": s, "n": len(written) + n} for n, s in enumerate(batch)]
        found = lookup(month, wanted).records
        assert found == [r for r in written if r["subject"] in wanted]


def test_the_store_finds_a_subjects_campaign_rows_by_index(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'e.db'}"
    db.migrate(url)
    engine = create_engine(url)
    with engine.connect() as connection:
        for table in ("campaign_decisions", "campaign_letters"):
            plan = connection.execute(
                text(f"EXPLAIN QUERY PLAN SELECT * FROM {table} WHERE subject_pseudonym IN ('x')")
            ).all()
            detail = " ".join(str(row[-1]) for row in plan)
            assert "USING INDEX" in detail and "subject" in detail, (table, detail)
    engine.dispose()
