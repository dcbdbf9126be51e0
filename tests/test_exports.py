"""Billing lists: per school, XLSX and CSV, with only the pupil, the class, the tariff category
and the validity."""

from __future__ import annotations

import io
import time
import zipfile
from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook  # type: ignore[import-untyped]

from entitle.decide.exports import (
    HEADER,
    BillingRow,
    by_school,
    csv_bytes,
    write_billing_lists,
    xlsx_bytes,
)

YEAR = "schooljaar 2025-2026"  # the period in words (`periods.period_words`)
ROWS = [
    BillingRow(
        "100002",
        "Stedelijke Basisschool Het Anker",
        "Yılmaz",
        "Ayşe",
        "L2",
        "A",
        date(2026, 8, 31),
        period=YEAR,
    ),
    BillingRow(
        "100001",
        "Stedelijke Basisschool De Regenboog",
        "Peeters",
        "Lotte",
        "L1",
        "B",
        date(2026, 8, 31),
        period=YEAR,
    ),
    BillingRow(
        "100001",
        "Stedelijke Basisschool De Regenboog",
        "Claes",
        "Noor",
        "L1",
        "C",
        date(2026, 8, 31),
        period=YEAR,
    ),
    BillingRow(
        "100001",
        "Stedelijke Basisschool De Regenboog",
        "Aerts",
        "Finn",
        "K3",
        "A",
        date(2026, 8, 31),
        period=YEAR,
    ),
]


def test_rows_per_school_sorted_by_class_and_name() -> None:
    grouped = by_school(ROWS)
    assert list(grouped) == ["100001", "100002"]
    assert [(r.class_name, r.last_name) for r in grouped["100001"]] == [
        ("K3", "Aerts"),
        ("L1", "Claes"),
        ("L1", "Peeters"),
    ]


def test_csv_and_xlsx_per_school(tmp_path: Path) -> None:
    files = write_billing_lists(
        ROWS, tmp_path / "billing", label="Sociaal tarief 2025-2026", stamp=datetime(2026, 3, 1)
    )
    assert files[0].name == "alle-scholen.zip"  # one download with every list, first
    names = sorted(p.name for p in files[1:])
    with zipfile.ZipFile(files[0]) as bundle:
        assert sorted(bundle.namelist()) == names
        for name in names:
            assert bundle.read(name) == (tmp_path / "billing" / name).read_bytes()
    again = write_billing_lists(
        ROWS, tmp_path / "again", label="Sociaal tarief 2025-2026", stamp=datetime(2026, 3, 1)
    )
    assert again[0].read_bytes() == files[0].read_bytes()  # the same lists, the same archive
    assert names == [
        "100001-stedelijke-basisschool-de-regenboog.csv",
        "100001-stedelijke-basisschool-de-regenboog.xlsx",
        "100002-stedelijke-basisschool-het-anker.csv",
        "100002-stedelijke-basisschool-het-anker.xlsx",
    ]
    csv_text = (tmp_path / "billing" / names[0]).read_text(encoding="utf-8-sig")
    lines = csv_text.splitlines()
    assert lines[0] == ";".join(HEADER)
    assert lines[1] == (
        "100001;Stedelijke Basisschool De Regenboog;Aerts;Finn;K3;A;"
        "schooljaar 2025-2026;2026-08-31;"
    )
    assert len(lines) == 4
    sheet = load_workbook(tmp_path / "billing" / names[3], read_only=True).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0] == HEADER
    assert values[1][:6] == (
        "100002",
        "Stedelijke Basisschool Het Anker",
        "Yılmaz",
        "Ayşe",
        "L2",
        "A",
    )
    assert values[1][6] == "schooljaar 2025-2026" and values[1][7].date() == date(2026, 8, 31)
    assert not list((tmp_path / "billing").glob("*.partial"))


def test_the_csv_holds_nothing_but_the_columns() -> None:
    data = csv_bytes(ROWS[:1]).decode("utf-8-sig").splitlines()
    assert [len(line.split(";")) for line in data] == [len(HEADER), len(HEADER)]
    assert HEADER == (
        "School",
        "Schoolnaam",
        "Naam",
        "Voornaam",
        "Klas",
        "Tariefcategorie",
        "Periode",
        "Geldig tot",
        "Minimum",
    )


def test_a_certain_minimum_category_is_marked_as_a_minimum() -> None:
    least = BillingRow(
        "100001", "De Regenboog", "Claes", "Noor", "L1", "C", date(2026, 8, 31), True, YEAR
    )
    lines = csv_bytes([ROWS[0], least]).decode("utf-8-sig").splitlines()
    assert lines[1].endswith(";A;schooljaar 2025-2026;2026-08-31;")  # certain: no marker
    assert lines[2].endswith(";C;schooljaar 2025-2026;2026-08-31;minimum, mogelijk hoger")
    workbook = xlsx_bytes([ROWS[0], least], title="Lijst", stamp=datetime(2026, 3, 1))
    sheet = load_workbook(io.BytesIO(workbook), read_only=True).active
    values = list(sheet.iter_rows(values_only=True))
    assert [len(v) for v in values] == [len(HEADER)] * 3
    assert values[1][8] is None and values[2][8] == "minimum, mogelijk hoger"


def test_a_workbook_is_the_same_bytes_whenever_it_is_written(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """openpyxl stamps the wall clock into the package's entries and `modified`; the list must
    not: an approved run's lists are compared and archived byte for byte."""
    stamp = datetime(2026, 3, 1)
    monkeypatch.setattr(time, "time", lambda: 1_700_000_000.0)
    first = xlsx_bytes(ROWS, title="Lijst", stamp=stamp)
    monkeypatch.setattr(time, "time", lambda: 1_700_003_601.0)  # an hour and a second later
    assert xlsx_bytes(ROWS, title="Lijst", stamp=stamp) == first
