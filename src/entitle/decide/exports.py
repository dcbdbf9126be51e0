"""Billing lists for the schools' billing offices: per school, XLSX and CSV, and all of them in
one ZIP for the central billing office (one download instead of hundreds).

A list says, per pupil with a social tariff: the school, the pupil's name, the class, the tariff
category, the period it is for in words ("schooljaar 2025-2026", `periods.period_words`) and
until when it holds, and whether that category is a minimum (a partial decision: the
category is certain to be at least this one, a better one may apply once a missing certificate
is brought; bill this one until then). Nothing else — no income, no status, no household: the
billing office needs the category, not the reason (and a pupil without a social tariff is not
listed).
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from openpyxl import Workbook  # type: ignore[import-untyped]
from openpyxl.styles import Font  # type: ignore[import-untyped]

from entitle.decide.atomic import write_atomic

ALL_LISTS = "alle-scholen.zip"
ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # fixed: the same lists give the same archive
HEADER = (
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
MINIMUM = "minimum, mogelijk hoger"  # the cell of a category that is a certain minimum


@dataclass(frozen=True, order=True)
class BillingRow:
    school_id: str
    school_name: str
    last_name: str
    first_name: str
    class_name: str
    category: str
    valid_until: date | None
    minimum: bool = False  # the category is a certain minimum (a better one may apply)
    period: str = ""  # in words: "schooljaar 2025-2026"

    def cells(self) -> tuple[str, str, str, str, str, str, str, str, str]:
        return (
            self.school_id,
            self.school_name,
            self.last_name,
            self.first_name,
            self.class_name,
            self.category,
            self.period,
            self.valid_until.isoformat() if self.valid_until else "",
            MINIMUM if self.minimum else "",
        )


def by_school(rows: Iterable[BillingRow]) -> dict[str, list[BillingRow]]:
    """Rows per school id, each list sorted by class and name."""
    out: dict[str, list[BillingRow]] = {}
    for row in rows:
        out.setdefault(row.school_id, []).append(row)
    return {
        school: sorted(items, key=lambda r: (r.class_name, r.last_name, r.first_name))
        for school, items in sorted(out.items())
    }


def _slug(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", plain.lower()).strip("-")[:60] or "school"


def csv_bytes(rows: Sequence[BillingRow]) -> bytes:
    """Semicolon-separated UTF-8 with a byte-order mark (what Excel in Belgium opens as is)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(HEADER)
    for row in rows:
        writer.writerow(row.cells())
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def xlsx_bytes(rows: Sequence[BillingRow], *, title: str, stamp: datetime) -> bytes:
    workbook = Workbook(write_only=True)
    workbook.properties.creator = "Entitle"
    workbook.properties.created = stamp
    workbook.properties.modified = stamp
    sheet = workbook.create_sheet(title=title[:31] or "Lijst")
    bold = Font(bold=True)
    from openpyxl.cell import WriteOnlyCell  # type: ignore[import-untyped]

    sheet.append([_header_cell(sheet, WriteOnlyCell, name, bold) for name in HEADER])
    for row in rows:
        cells = list(row.cells())
        sheet.append([*cells[:7], row.valid_until, cells[8]])
    return _reproducible(workbook)


def _reproducible(workbook: object) -> bytes:
    """The workbook's package with fixed entry times and its own `modified` stamp (openpyxl's
    `save` stamps the wall clock into both), so the same rows give the same bytes."""
    from openpyxl.writer.excel import ExcelWriter  # type: ignore[import-untyped]

    written = io.BytesIO()
    with zipfile.ZipFile(written, "w", zipfile.ZIP_DEFLATED) as package:
        ExcelWriter(workbook, package).save()
    fixed = io.BytesIO()
    with (
        zipfile.ZipFile(written) as package,
        zipfile.ZipFile(fixed, "w", zipfile.ZIP_DEFLATED) as out,
    ):
        for name in package.namelist():
            out.writestr(zipfile.ZipInfo(name, ZIP_TIME), package.read(name), zipfile.ZIP_DEFLATED)
    return fixed.getvalue()


def _header_cell(sheet: object, cell_type: type, value: str, font: object) -> object:
    cell = cell_type(sheet, value=value)
    cell.font = font
    return cell


def write_billing_lists(
    rows: Iterable[BillingRow], folder: Path, *, label: str, stamp: datetime
) -> list[Path]:
    """One XLSX and one CSV per school in `folder`, then all of them in one ZIP
    (`alle-scholen.zip`, first in the list returned); returns the files written."""
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bundle:
        for school, items in by_school(rows).items():
            base = f"{school}-{_slug(items[0].school_name)}"
            csv_path, xlsx_path = folder / f"{base}.csv", folder / f"{base}.xlsx"
            for path, content in (
                (xlsx_path, xlsx_bytes(items, title=label, stamp=stamp)),
                (csv_path, csv_bytes(items)),
            ):
                write_atomic(path, content)
                bundle.writestr(zipfile.ZipInfo(path.name, ZIP_TIME), content)
                written.append(path)
    if not written:
        return []
    write_atomic(folder / ALL_LISTS, archive.getvalue())
    return [folder / ALL_LISTS, *written]
