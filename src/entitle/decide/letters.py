"""Letters as PDF: written directly, one merged print file per run, hundreds of letters a second.

A general PDF library lays out every page from scratch; a campaign prints thousands of letters
that differ in a name, an address, an amount and a code. So this module writes the PDF itself:

- the two standard fonts Helvetica and Helvetica-Bold (never embedded, defined once per file),
  WinAnsi encoding extended with the Central European and Turkish letters of Belgian names
  (`/Differences` on unused codes), so names print correctly and text extraction gives them back;
- paragraphs are wrapped once and reused (a cache keyed by text and width);
- the QR code is drawn as vector rectangles from segno's matrix, with a fixed mask (choosing the
  best mask costs five times more than the code itself, and every mask is a valid QR code);
- pages are streamed into the file as they are made (Flate-compressed), then the page tree and
  cross-reference table are written.

`Letter` holds what one letter says; the campaign layer fills it in plain Dutch, with an English
version after it (`Letter.translation`, its own pages) when the campaign asks for one.
"""

from __future__ import annotations

import io
import unicodedata
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import BinaryIO, Literal

import segno
from fpdf.fonts import CORE_FONTS_CHARWIDTHS

from entitle.decide.atomic import atomic_file
from entitle.texts import DEFAULT_LANGUAGE, texts

PAGE_WIDTH, PAGE_HEIGHT = 595.28, 841.89  # A4 in points
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_BOTTOM = 62.0, 56.0, 60.0
TEXT_WIDTH = PAGE_WIDTH - MARGIN_LEFT - MARGIN_RIGHT

# Letters outside WinAnsi that Belgian register names use, on codes WinAnsi leaves free.
_EXTRA_GLYPHS: tuple[tuple[str, str], ...] = (
    ("ı", "dotlessi"),
    ("İ", "Idotaccent"),
    ("ğ", "gbreve"),
    ("Ğ", "Gbreve"),
    ("ş", "scedilla"),
    ("Ş", "Scedilla"),
    ("ś", "sacute"),
    ("Ś", "Sacute"),
    ("ć", "cacute"),
    ("Ć", "Cacute"),
    ("č", "ccaron"),
    ("Č", "Ccaron"),
    ("ł", "lslash"),
    ("Ł", "Lslash"),
    ("ń", "nacute"),
    ("ż", "zdotaccent"),
    ("Ż", "Zdotaccent"),
    ("ź", "zacute"),
    ("ą", "aogonek"),
    ("ę", "eogonek"),
    ("ř", "rcaron"),
    ("Ř", "Rcaron"),
    ("ě", "ecaron"),
    ("ů", "uring"),
    ("ň", "ncaron"),
    ("ő", "ohungarumlaut"),
    ("ű", "uhungarumlaut"),
    ("ă", "abreve"),
    ("Ă", "Abreve"),
    ("ș", "scommaaccent"),
    ("Ș", "Scommaaccent"),
    ("ţ", "tcommaaccent"),
    ("Ţ", "Tcommaaccent"),
    ("đ", "dcroat"),
    ("Đ", "Dcroat"),
    ("ē", "emacron"),
)
# Same letter, other code point: Romanian t with comma below prints as t with cedilla (the
# standard fonts have no separate glyph).
_ALIASES = {"ț": "ţ", "Ț": "Ţ"}
_FREE_CODES = (*range(1, 32), 0x81, 0x8D, 0x8F, 0x90, 0x9D)
_EXTRA = {char: _FREE_CODES[i] for i, (char, _) in enumerate(_EXTRA_GLYPHS)}
_EXTRA.update({alias: _EXTRA[char] for alias, char in _ALIASES.items()})
_DIFFERENCES = " ".join(f"{_FREE_CODES[i]} /{name}" for i, (_, name) in enumerate(_EXTRA_GLYPHS))
_WIDTHS = {
    "F1": CORE_FONTS_CHARWIDTHS["helvetica"],
    "F2": CORE_FONTS_CHARWIDTHS["helveticaB"],
}
_ESCAPE = {
    **{b: b"\\%03o" % b for b in range(32)},
    0x28: b"\\(",
    0x29: b"\\)",
    0x5C: b"\\\\",
}
_ESCAPE_TABLE = [_ESCAPE.get(b, bytes([b])) for b in range(256)]


@lru_cache(maxsize=65536)
def encode(text: str) -> bytes:
    """Text in the letters' font encoding (WinAnsi + the extra letters; others lose accents)."""
    out = bytearray()
    for char in text:
        code = _EXTRA.get(char)
        if code is not None:
            out.append(code)
            continue
        try:
            out += char.encode("cp1252")
        except UnicodeEncodeError:
            base = unicodedata.normalize("NFKD", char)[:1]
            try:
                out += base.encode("cp1252") if base else b"?"
            except UnicodeEncodeError:
                out += b"?"
    return bytes(out)


def _base_width(code: int, font: str) -> int:
    widths = _WIDTHS[font]
    if code in _FREE_CODES:
        char = _EXTRA_GLYPHS[_FREE_CODES.index(code)][0]
        base = unicodedata.normalize("NFKD", char)[:1]
        if char in "ıł":
            base = "i" if char == "ı" else "l"
        if char in "Ł":
            base = "L"
        if char in "đĐ":
            base = "d" if char == "đ" else "D"
        return widths.get(chr(base.encode("cp1252")[0]), 556) if base else 556
    return widths.get(chr(code), 556)


_CODE_WIDTHS = {font: [_base_width(code, font) for code in range(256)] for font in _WIDTHS}


def text_width(text: str, font: str, size: float) -> float:
    widths = _CODE_WIDTHS[font]
    return sum(widths[b] for b in encode(text)) * size / 1000


def _escape(data: bytes) -> bytes:
    return b"".join(_ESCAPE_TABLE[b] for b in data)


@lru_cache(maxsize=65536)
def _literal(text: str) -> bytes:
    """Text as the inside of a PDF string (most lines recur from letter to letter)."""
    return _escape(encode(text))


@lru_cache(maxsize=8192)
def wrap(text: str, font: str, size: float, width: float) -> tuple[str, ...]:
    """Greedy word wrap to `width` points."""
    lines: list[str] = []
    space = text_width(" ", font, size)
    current: list[str] = []
    used = 0.0
    for word in text.split():
        w = text_width(word, font, size)
        if current and used + space + w > width:
            lines.append(" ".join(current))
            current, used = [word], w
        else:
            used = used + space + w if current else w
            current.append(word)
    if current:
        lines.append(" ".join(current))
    return tuple(lines)


# --------------------------------------------------------------------------- the letter


Block = tuple[Literal["p", "ul", "h", "small"], str | tuple[str, ...]]


@dataclass(frozen=True)
class Letter:
    """What one letter says (plain text; the layout is fixed)."""

    sender: tuple[str, ...]
    address: tuple[str, ...]  # name, street and number, postcode and municipality
    place_date: str
    subject: str
    greeting: str
    blocks: tuple[Block, ...]
    code: str | None = None  # coupon code, printed in a box with the QR code
    qr: str | None = None  # what the QR code holds (the verification URL)
    code_label: str = "Uw persoonlijke code"
    code_hint: str = "Scan de QR-code om de code te controleren."
    closing: tuple[str, ...] = ()  # () : "Met vriendelijke groeten," and the sender's first line
    footer: str = ""
    reference: str = ""
    note: str = ""  # printed above the subject (a translation says it is one)
    translation: Letter | None = None  # the same letter in another language, on its own pages


def date_words(day: date, lang: str = DEFAULT_LANGUAGE) -> str:
    """A date as a letter writes it: "5 januari 2026", "5 January 2026" (the catalogues'
    `month.<n>`)."""
    t = texts(lang)
    return f"{day.day} {t(f'month.{day.month}')} {day.year}"


def euro_en(amount: float | int | None) -> str:
    """Money as English text: €1,234.50."""
    if amount is None:
        return "€–"
    cents = round(float(amount) * 100)
    whole, rest = divmod(abs(cents), 100)
    return f"{'-' if cents < 0 else ''}€{whole:,}.{rest:02d}"


def euro(amount: float | int | None) -> str:
    """Money as Dutch text: € 1.234,50."""
    if amount is None:
        return "€ –"
    cents = round(float(amount) * 100)
    whole, rest = divmod(abs(cents), 100)
    grouped = f"{whole:,}".replace(",", ".")
    return f"{'-' if cents < 0 else ''}€ {grouped},{rest:02d}"


@dataclass
class _Page:
    ops: list[bytes] = field(default_factory=list)

    def text(self, x: float, y: float, text: str, font: str = "F1", size: float = 10) -> None:
        self.ops.append(
            b"BT /%s %.1f Tf %.2f %.2f Td (%s) Tj ET" % (font.encode(), size, x, y, _literal(text))
        )

    def lines(
        self, x: float, y: float, lines: Sequence[str], font: str, size: float, leading: float
    ) -> None:
        if not lines:
            return
        parts = [b"BT /%s %.1f Tf %.2f TL %.2f %.2f Td" % (font.encode(), size, leading, x, y)]
        for i, line in enumerate(lines):
            parts.append(b"(%s) %s" % (_literal(line), b"Tj" if i == 0 else b"'"))
        parts.append(b"ET")
        self.ops.append(b" ".join(parts))

    def rect(self, x: float, y: float, w: float, h: float, *, fill: bool = False) -> None:
        self.ops.append(b"%.2f %.2f %.2f %.2f re %s" % (x, y, w, h, b"f" if fill else b"S"))

    def qr(self, content: str, x: float, y: float, size: float) -> None:
        """A QR code as filled rectangles, `size` points wide, top-left corner at (x, y)."""
        self.ops.append(b"q 1 0 0 1 %.2f %.2f cm\n%s\nQ" % (x, y, _qr_drawing(content, size)))

    def content(self) -> bytes:
        return b"\n".join(self.ops)


@lru_cache(maxsize=8)  # a letter's versions in other languages show the same code
def _qr_drawing(content: str, size: float) -> bytes:
    """The QR code's rectangles with its top-left corner at the origin."""
    return _qr_ops(_qr_matrix(content), 0.0, 0.0, size)


def _qr_matrix(content: str) -> tuple[bytes, ...]:
    code = segno.make(content, error="m", mask=2, micro=False, boost_error=False)
    return tuple(bytes(row) for row in code.matrix)


def _qr_ops(matrix: tuple[bytes, ...], x: float, y: float, size: float) -> bytes:
    n = len(matrix) + 8  # four modules of quiet zone on each side
    module = size / n
    parts = [b"0 g"]
    for r, row in enumerate(matrix):
        top = y - (r + 4 + 1) * module
        c, width = 0, len(row)
        while c < width:
            if row[c]:
                start = c
                while c < width and row[c]:
                    c += 1
                parts.append(
                    b"%.2f %.2f %.2f %.2f re"
                    % (x + (start + 4) * module, top, (c - start) * module, module)
                )
            else:
                c += 1
    parts.append(b"f")
    return b"\n".join(parts)


def _layout(letter: Letter) -> list[_Page]:
    """The letter's pages (usually one)."""
    pages = [_Page()]
    page = pages[0]
    y = PAGE_HEIGHT - 62
    for i, line in enumerate(letter.sender):
        page.text(MARGIN_LEFT, y - i * 12, line, "F2" if i == 0 else "F1", 10 if i == 0 else 8.5)
    # the address, in the window of a DL/C5 envelope with the window on the right
    page.lines(320, PAGE_HEIGHT - 165, letter.address, "F1", 11, 14)
    y = PAGE_HEIGHT - 250
    page.text(MARGIN_LEFT, y, letter.place_date, "F1", 10)
    if letter.reference:
        page.text(MARGIN_LEFT, y - 13, letter.reference, "F1", 8.5)
    y -= 40
    if letter.note:
        note = wrap(letter.note, "F2", 8.5, TEXT_WIDTH)
        page.lines(MARGIN_LEFT, y + 8, note, "F2", 8.5, 11)
        y -= 11 * len(note) + 6
    subject_lines = wrap(letter.subject, "F2", 13, TEXT_WIDTH)
    page.lines(MARGIN_LEFT, y, subject_lines, "F2", 13, 16)
    y -= 16 * len(subject_lines) + 12
    page.text(MARGIN_LEFT, y, letter.greeting, "F1", 10)
    y -= 22

    def room(needed: float) -> None:
        nonlocal page, y
        if y - needed < MARGIN_BOTTOM:
            page = _Page()
            pages.append(page)
            y = PAGE_HEIGHT - 70

    for kind, value in letter.blocks:
        if kind == "ul":
            assert isinstance(value, tuple)
            for item in value:
                lines = wrap(item, "F1", 10, TEXT_WIDTH - 16)
                room(13 * len(lines))
                page.text(MARGIN_LEFT + 4, y, "•", "F1", 10)
                page.lines(MARGIN_LEFT + 16, y, lines, "F1", 10, 13)
                y -= 13 * len(lines) + 2
            y -= 6
            continue
        assert isinstance(value, str)
        font, size, leading = {
            "p": ("F1", 10.0, 13.0),
            "h": ("F2", 10.5, 14.0),
            "small": ("F1", 8.0, 10.0),
        }[kind]
        lines = wrap(value, font, size, TEXT_WIDTH)
        room(leading * len(lines))
        page.lines(MARGIN_LEFT, y, lines, font, size, leading)
        y -= leading * len(lines) + (4 if kind == "h" else 8)
    if letter.code:
        box = 112.0
        room(box + 10)
        top = y + 4
        page.ops.append(b"0.6 w")
        page.rect(MARGIN_LEFT, top - box, TEXT_WIDTH, box)
        page.text(MARGIN_LEFT + 14, top - 28, letter.code_label, "F1", 10)
        page.text(MARGIN_LEFT + 14, top - 56, letter.code, "F2", 20)
        hint = wrap(letter.code_hint, "F1", 8.5, TEXT_WIDTH - 140)
        page.lines(MARGIN_LEFT + 14, top - 80, hint, "F1", 8.5, 10)
        if letter.qr:
            page.qr(letter.qr, MARGIN_LEFT + TEXT_WIDTH - 108, top - 2, 104)
        y = top - box - 22
    closing = letter.closing or ("Met vriendelijke groeten,", *letter.sender[:1])
    room(14 * len(closing) + 6)
    page.lines(MARGIN_LEFT, y, closing, "F1", 10, 14)
    if letter.footer:
        footer = wrap(letter.footer, "F1", 7, TEXT_WIDTH)
        pages[-1].lines(MARGIN_LEFT, 26 + 9 * (len(footer) - 1), footer, "F1", 7, 9)
    return pages


# --------------------------------------------------------------------------- the file


class PdfWriter:
    """Writes a PDF page by page to a binary stream; `close()` writes the trailer."""

    CATALOG, PAGES, FONT1, FONT2, ENCODING, INFO = 1, 2, 3, 4, 5, 6

    def __init__(self, out: BinaryIO, *, title: str = "", compress: int = 6) -> None:
        self.out = out
        self.compress = compress
        self.offsets: dict[int, int] = {}
        self.position = 0
        self.next_id = 7
        self.page_ids: list[int] = []
        self._write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
        self._object(
            self.ENCODING,
            b"<< /Type /Encoding /BaseEncoding /WinAnsiEncoding /Differences [%s] >>"
            % _DIFFERENCES.encode(),
        )
        for number, name in ((self.FONT1, b"Helvetica"), (self.FONT2, b"Helvetica-Bold")):
            self._object(
                number,
                b"<< /Type /Font /Subtype /Type1 /BaseFont /%s /Encoding %d 0 R >>"
                % (name, self.ENCODING),
            )
        self._object(
            self.INFO,
            b"<< /Title (%s) /Producer (Entitle) >>" % _escape(encode(title or "Entitle")),
        )

    def _write(self, data: bytes) -> None:
        self.out.write(data)
        self.position += len(data)

    def _object(self, number: int, body: bytes) -> None:
        self.offsets[number] = self.position
        self._write(b"%d 0 obj\n%s\nendobj\n" % (number, body))

    def _stream(self, number: int, data: bytes) -> None:
        if self.compress:
            data = zlib.compress(data, self.compress)
            head = b"<< /Length %d /Filter /FlateDecode >>" % len(data)
        else:
            head = b"<< /Length %d >>" % len(data)
        self.offsets[number] = self.position
        self._write(b"%d 0 obj\n%s\nstream\n%s\nendstream\nendobj\n" % (number, head, data))

    def add_page(self, content: bytes) -> None:
        stream_id, page_id = self.next_id, self.next_id + 1
        self.next_id += 2
        self._stream(stream_id, content)
        self._object(
            page_id,
            b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 %.2f %.2f] "
            b"/Resources << /Font << /F1 %d 0 R /F2 %d 0 R >> >> /Contents %d 0 R >>"
            % (self.PAGES, PAGE_WIDTH, PAGE_HEIGHT, self.FONT1, self.FONT2, stream_id),
        )
        self.page_ids.append(page_id)

    def add_letter(self, letter: Letter) -> int:
        """The letter's pages, then its translation's (a version per language); returns the
        number of pages."""
        pages: list[_Page] = []
        version: Letter | None = letter
        while version is not None:
            pages += _layout(version)
            version = version.translation
        for page in pages:
            self.add_page(page.content())
        return len(pages)

    def close(self) -> None:
        kids = b" ".join(b"%d 0 R" % i for i in self.page_ids)
        self._object(
            self.PAGES, b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, len(self.page_ids))
        )
        self._object(self.CATALOG, b"<< /Type /Catalog /Pages %d 0 R >>" % self.PAGES)
        xref = self.position
        count = self.next_id
        entries = [b"0000000000 65535 f \n"]
        for number in range(1, count):
            offset = self.offsets.get(number)
            entries.append(
                b"%010d 00000 n \n" % offset if offset is not None else b"0000000000 65535 f \n"
            )
        self._write(b"xref\n0 %d\n%s" % (count, b"".join(entries)))
        self._write(
            b"trailer\n<< /Size %d /Root %d 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n"
            % (count, self.CATALOG, self.INFO, xref)
        )


def write_letters(letters: Iterable[Letter], path: Path, *, title: str = "") -> tuple[int, int]:
    """One merged print file (written to a temporary name, then moved into place).

    Returns (letters, pages)."""
    count = pages = 0
    with atomic_file(path) as handle:
        writer = PdfWriter(handle, title=title)
        for letter in letters:
            pages += writer.add_letter(letter)
            count += 1
        writer.close()
    return count, pages


def letter_pdf(letter: Letter) -> bytes:
    """One letter as a PDF of its own (to show or re-send a single letter)."""
    buffer = io.BytesIO()
    writer = PdfWriter(buffer, title=letter.subject)
    writer.add_letter(letter)
    writer.close()
    return buffer.getvalue()
