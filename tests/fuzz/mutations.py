"""Structure-blind mutations of a valid input: the fuzz tests start from real documents (valid
INSZ numbers, the benefits' expressions and files, MAGDA replies) and break them a little, so
that most inputs get past the first checks and reach the deeper code."""

from __future__ import annotations

from hypothesis import strategies as st

# Characters that matter to the parsers under test, plus some that should never appear.
INTERESTING = [
    *"0123456789.-/ \t\n\r\"'()[],:#&*!|>{}<=+_aZ\\",
    "\x00",
    "\x07",
    "\ufeff",
    "\u00a0",
    "é",
    "١",
    "９",
    "\ud7ff",
]
pieces = st.one_of(
    st.sampled_from(INTERESTING),
    st.text(min_size=1, max_size=8),
    st.text(alphabet=st.sampled_from(INTERESTING), min_size=1, max_size=12),
)


@st.composite
def mutated(draw: st.DrawFn, base: str, max_edits: int = 4) -> str:
    """`base` with 1 to `max_edits` edits: delete, insert, replace, duplicate or move a slice."""
    text = base
    for _ in range(draw(st.integers(1, max_edits))):
        size = len(text)
        start = draw(st.integers(0, size))
        end = draw(st.integers(start, min(size, start + 12)))
        edit = draw(st.sampled_from(["delete", "insert", "replace", "duplicate", "move"]))
        if edit == "delete":
            text = text[:start] + text[end:]
        elif edit == "insert":
            text = text[:start] + draw(pieces) + text[start:]
        elif edit == "replace":
            text = text[:start] + draw(pieces) + text[end:]
        elif edit == "duplicate":
            text = text[:end] + text[start:end] + text[end:]
        else:
            cut, rest = text[start:end], text[:start] + text[end:]
            at = draw(st.integers(0, len(rest)))
            text = rest[:at] + cut + rest[at:]
    return text


@st.composite
def mutated_bytes(draw: st.DrawFn, base: bytes, max_edits: int = 4) -> bytes:
    """`base` with 1 to `max_edits` byte-level edits (delete, insert, flip)."""
    data = bytearray(base)
    for _ in range(draw(st.integers(1, max_edits))):
        at = draw(st.integers(0, len(data)))
        edit = draw(st.sampled_from(["delete", "insert", "flip"]))
        if edit == "delete":
            del data[at : at + draw(st.integers(1, 16))]
        elif edit == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif at < len(data):
            data[at] ^= 1 << draw(st.integers(0, 7))
    return bytes(data)
