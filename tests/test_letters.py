"""The letters' PDF writer: text that extraction gives back (names with accents included),
a QR code, pages that flow, and one merged file for many letters."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from entitle.decide.letters import (
    TEXT_WIDTH,
    Letter,
    PdfWriter,
    date_words,
    encode,
    euro,
    euro_en,
    letter_pdf,
    text_width,
    wrap,
    write_letters,
)


def pdf_pages(path: Path) -> list[str]:
    """The text of each page: pypdf, else pdftotext (poppler-utils), else a reader for the
    letters' own simple PDFs (Flate content streams, one per page, literal strings)."""
    try:
        from pypdf import PdfReader
    except ImportError:
        found = any((Path(p) / "pdftotext").exists() for p in os.environ.get("PATH", "").split(":"))
        if not found:
            return own_text(path)
        out = subprocess.run(
            ["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True, text=True
        ).stdout
        return out.split("\f")[:-1]
    return [page.extract_text() for page in PdfReader(str(path)).pages]


def own_text(path: Path) -> list[str]:
    """Text of a PDF written by `entitle.decide.letters` (not a general PDF reader)."""
    import re
    import zlib

    from entitle.decide.letters import _EXTRA_GLYPHS, _FREE_CODES

    decode = {_FREE_CODES[i]: char for i, (char, _) in enumerate(_EXTRA_GLYPHS)}
    pages = []
    data = path.read_bytes()
    for match in re.finditer(rb"/Filter /FlateDecode >>\nstream\n", data):
        start = match.end()
        end = data.index(b"\nendstream", start)
        content = zlib.decompress(data[start:end])
        lines = []
        for raw in re.findall(rb"\(((?:[^\\()]|\\.)*)\) (?:Tj|')", content, re.S):
            text = re.sub(rb"\\([0-7]{3})", lambda m: bytes([int(m.group(1), 8)]), raw)
            text = re.sub(rb"\\(.)", rb"\1", text)
            lines.append(
                "".join(decode.get(b) or bytes([b]).decode("cp1252", "replace") for b in text)
            )
        pages.append("\n".join(lines))
    return pages


def letter(name: str, code: str | None = "ABCD-EFGH-JKMN-PQRS", paragraphs: int = 3) -> Letter:
    body = (
        "U krijgt dit jaar een bon voor gratis huisvuilzakken ter waarde van "
        f"{euro(84)}; daarbovenop {euro(42)} extra krediet. "
    ) * 3
    return Letter(
        sender=("Stad Gent", "Dienst Welzijn", "Botermarkt 1, 9000 Gent"),
        address=(name, "Kerkstraat 12 bus 3", "9000 Gent"),
        place_date=f"Gent, {date_words(__import__('datetime').date(2026, 1, 5))}",
        subject="Uw bon voor gratis huisvuilzakken 2026",
        greeting=f"Beste {name},",
        blocks=(
            *(("p", body) for _ in range(paragraphs)),
            ("ul", ("iemand in het gezin heeft de verhoogde tegemoetkoming",)),
        ),
        code=code,
        qr=f"https://stad.gent/bon/{code}" if code else None,
        footer="Automatisch opgemaakt.",
        reference="Kenmerk: garbage-bags 2026 / 1",
    )


NAMES = [
    "Şükrü Yılmaz",
    "Ağça Öztürk",
    "Łukasz Wiśniewski",
    "Jiří Dvořák",
    "Zoë Van de Velde-D'hondt",
    "Ștefan Ţurcanu",
    "François Lefèvre",
]


def test_names_amounts_and_codes_come_back_out(tmp_path: Path) -> None:
    path = tmp_path / "letters.pdf"
    letters = [letter(name, code=f"ABCD-EFGH-JKMN-{i:04d}") for i, name in enumerate(NAMES)]
    count, pages = write_letters(letters, path, title="test")
    assert (count, pages) == (len(NAMES), len(NAMES))
    texts = pdf_pages(path)
    assert len(texts) == len(NAMES)
    for i, (name, text) in enumerate(zip(NAMES, texts, strict=True)):
        assert name in text
        assert f"Beste {name}," in text
        assert "€ 84,00" in text and "€ 42,00" in text
        assert f"ABCD-EFGH-JKMN-{i:04d}" in text
        assert "5 januari 2026" in text and "Kenmerk: garbage-bags 2026 / 1" in text
    assert [p.name for p in tmp_path.iterdir()] == ["letters.pdf"]


def test_a_long_letter_flows_onto_a_second_page(tmp_path: Path) -> None:
    path = tmp_path / "long.pdf"
    count, pages = write_letters([letter("Jan Peeters", paragraphs=14)], path)
    assert count == 1 and pages == 2
    texts = pdf_pages(path)
    assert "ABCD-EFGH-JKMN-PQRS" in texts[1]


def test_the_qr_code_is_drawn_and_an_invitation_has_none() -> None:
    with_code = letter_pdf(letter("An Claes"))
    without = letter_pdf(letter("An Claes", code=None))
    assert with_code.startswith(b"%PDF-1.4") and with_code.rstrip().endswith(b"%%EOF")
    assert len(with_code) > len(without) + 300  # the QR modules
    assert b"/Count 1" in with_code and b"/Count 1" in without


def test_the_writer_makes_a_valid_cross_reference_table(tmp_path: Path) -> None:
    path = tmp_path / "plain.pdf"
    with path.open("wb") as handle:
        writer = PdfWriter(handle, title="Tést", compress=0)
        writer.add_letter(letter("Els Maes"))
        writer.add_letter(letter("Bart Jacobs", code=None))
        writer.close()
    data = path.read_bytes()
    start = int(data.rsplit(b"startxref\n", 1)[1].split(b"\n", 1)[0])
    assert data[start:].startswith(b"xref\n0 ")
    rows = data[start:].split(b"\n")[2:]
    for number, row in enumerate(rows[1:], start=1):
        if not row.endswith(b" n "):
            break
        offset = int(row[:10])
        assert data[offset:].startswith(b"%d 0 obj" % number)
    assert b"(Els Maes) Tj" in data


def test_the_own_reader_agrees_with_the_installed_one(tmp_path: Path) -> None:
    path = tmp_path / "letters.pdf"
    write_letters([letter(name) for name in NAMES], path)
    own = own_text(path)
    assert len(own) == len(NAMES)
    for name, text in zip(NAMES, own, strict=True):
        assert f"Beste {name}," in text and "€ 84,00" in text and "ABCD-EFGH-JKMN-PQRS" in text


def test_text_helpers() -> None:
    assert euro(84) == "€ 84,00" and euro(1234.5) == "€ 1.234,50" and euro(-3.1) == "-€ 3,10"
    assert encode("é€") == "é€".encode("cp1252")
    assert len(encode("ş")) == 1 and encode("ş") != encode("s")
    assert encode("Ț") == encode("Ţ")
    assert encode("ǅ") in (b"D", b"?")  # beyond the extra letters: the base letter
    assert text_width("ü", "F1", 10) == text_width("u", "F1", 10)
    lines = wrap("woord " * 200, "F1", 10, TEXT_WIDTH)
    assert len(lines) > 5 and all(text_width(x, "F1", 10) <= TEXT_WIDTH for x in lines)
    assert date_words(__import__("datetime").date(2026, 12, 31)) == "31 december 2026"


def test_a_bilingual_letter_prints_the_dutch_version_then_the_english_one(tmp_path: Path) -> None:
    dutch = letter("Şükrü Yılmaz", code="ABCD-EFGH-JKMN-0001")
    english = replace(
        dutch,
        greeting="Dear Şükrü Yılmaz,",
        subject="Your voucher for free garbage bags 2026",
        blocks=(("p", f"This year you get a voucher worth {euro_en(84)}."),),
        note="English translation, for your information.",
        closing=("Kind regards,", "Stad Gent"),
    )
    path = tmp_path / "letters.pdf"
    count, pages = write_letters([replace(dutch, translation=english), letter("Jan Peeters")], path)
    assert (count, pages) == (2, 3)
    first, second, third = pdf_pages(path)
    assert "Beste Şükrü Yılmaz," in first and "€ 84,00" in first
    assert "Dear" not in first and "English translation" not in first
    assert "Dear Şükrü Yılmaz," in second and "€84.00" in second and "€ 84,00" not in second
    assert "ABCD-EFGH-JKMN-0001" in second and "English translation" in second
    assert "Kind regards," in second and "Met vriendelijke groeten" not in second
    assert "Beste Jan Peeters," in third


@given(st.integers(min_value=-(10**9), max_value=10**9))
def test_dutch_and_english_money_say_the_same_amount(cents: int) -> None:
    dutch = euro(cents / 100).replace("€ ", "").replace(".", "").replace(",", ".")
    english = euro_en(cents / 100).replace("€", "").replace(",", "")
    assert dutch == english and round(float(english) * 100) == cents


def test_english_dates() -> None:
    assert date_words(date(2026, 1, 5), "en") == "5 January 2026"
    assert date_words(date(2026, 12, 31), "en") == "31 December 2026"


def test_a_failed_print_run_leaves_neither_a_file_nor_a_partial_one(tmp_path: Path) -> None:
    def letters() -> Iterator[Letter]:
        yield letter("An Claes")
        raise OSError(28, "No space left on device")

    path = tmp_path / "letters.pdf"
    with pytest.raises(OSError, match="No space"):
        write_letters(letters(), path)
    assert list(tmp_path.iterdir()) == []
