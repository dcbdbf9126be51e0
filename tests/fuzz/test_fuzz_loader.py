"""Fuzzing the benefit loader with mutated copies of the real benefit files: a file either loads
or raises `RuleFileError` whose every problem is ``file:line:column: message`` with the line and
column inside the file; nothing else escapes (no UnicodeDecodeError, ReaderError, KeyError …)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fuzz_budget import FUZZ, benefit_files
from hypothesis import given
from hypothesis import strategies as st
from mutations import mutated, mutated_bytes

from entitle.rules.loader import RuleFileError, load_benefit

SOURCES = {path.name: path.read_text(encoding="utf-8") for path in benefit_files()}
PROBLEM = re.compile(r"^(?P<path>.+):(?P<line>\d+):(?P<col>\d+): (?P<message>\S.*)$", re.DOTALL)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz-benefits")


def assert_loads_or_points_at_the_mistake(path: Path, data: bytes) -> None:
    path.write_bytes(data)
    try:
        load_benefit(path)
    except RuleFileError as error:
        lines = data.count(b"\n") + 2  # a mistake may point just past the last line
        assert error.problems and str(error) == "\n".join(map(str, error.problems))
        for problem in error.problems:
            assert problem.path == str(path)
            assert 1 <= problem.line <= lines, (problem, lines)
            assert problem.column >= 1 and problem.message.strip()
            found = PROBLEM.match(str(problem))
            assert found and (int(found["line"]), int(found["col"])) == (
                problem.line,
                problem.column,
            )


def _lines(text: str) -> st.SearchStrategy[str]:
    """Line-level edits: drop, repeat, swap, re-indent lines, or blank a value."""

    @st.composite
    def edit(draw: st.DrawFn) -> str:
        lines = text.split("\n")
        for _ in range(draw(st.integers(1, 3))):
            i = draw(st.integers(0, len(lines) - 1))
            kind = draw(st.sampled_from(["drop", "repeat", "swap", "indent", "dedent", "value"]))
            if kind == "drop":
                del lines[i]
            elif kind == "repeat":
                lines.insert(i, lines[i])
            elif kind == "swap":
                j = draw(st.integers(0, len(lines) - 1))
                lines[i], lines[j] = lines[j], lines[i]
            elif kind == "indent":
                lines[i] = "  " + lines[i]
            elif kind == "dedent":
                lines[i] = lines[i][2:] if lines[i].startswith("  ") else lines[i]
            else:
                key, sep, _value = lines[i].partition(": ")
                value = draw(st.sampled_from(["", "~", "[]", "{}", "x", "-1", "2024-02-30", "&a"]))
                lines[i] = key + sep + value if sep else lines[i]
            if not lines:
                lines = [""]
        return "\n".join(lines)

    return edit()


@FUZZ
@given(st.sampled_from(sorted(SOURCES)).flatmap(lambda name: _lines(SOURCES[name])))
def test_line_edits(folder: Path, text: str) -> None:
    assert_loads_or_points_at_the_mistake(folder / "benefit.yaml", text.encode("utf-8"))


@FUZZ
@given(st.sampled_from(sorted(SOURCES)).flatmap(lambda name: mutated(SOURCES[name], 3)))
def test_character_edits(folder: Path, text: str) -> None:
    assert_loads_or_points_at_the_mistake(
        folder / "benefit.yaml", text.encode("utf-8", "surrogatepass")
    )


@FUZZ
@given(
    st.sampled_from(sorted(SOURCES)).flatmap(
        lambda name: mutated_bytes(SOURCES[name].encode("utf-8"), 3)
    )
)
def test_byte_edits(folder: Path, data: bytes) -> None:
    assert_loads_or_points_at_the_mistake(folder / "benefit.yaml", data)


@FUZZ
@given(st.binary(max_size=200))
def test_any_bytes(folder: Path, data: bytes) -> None:
    assert_loads_or_points_at_the_mistake(folder / "benefit.yaml", data)


@pytest.mark.parametrize(
    ("old", "new", "where", "message"),
    [
        ("authority:", "\x07authority:", None, "U+0007 is not allowed"),
        ("authority:", "authority: \udcff", None, "not UTF-8 text"),
        ("conditions:\n", "conditions:\n  <<: {x: 1}\n", None, "conditions.x"),
        ("2020-01-01", "2020-02-30", "2020-02-30", "day is out of range"),
        ("2020-01-01", "9" * 5000, "9" * 5000, "has 5000 digits"),
        ("authority: Stad", "authority: !!bool Stad", "!!bool", "'Stad Gent' cannot be read"),
        ("authority: Stad Gent", "authority: !!int ''", "!!int", "cannot be read"),
        ("authority:", "Authority:", "Authority", "unknown field"),
    ],
)
def test_what_fuzzing_found(
    folder: Path, old: str, new: str, where: str | None, message: str
) -> None:
    """Mistakes that once escaped as UnicodeDecodeError, ReaderError, KeyError, ValueError or
    IndexError (a capitalised top-level key, a YAML tag such as `!!bool` on a wrong value)."""
    text = SOURCES["uitpas.yaml"].replace(old, new, 1)
    path = folder / "found.yaml"
    path.write_bytes(text.encode("utf-8", "surrogateescape"))
    with pytest.raises(RuleFileError) as raised:
        load_benefit(path)
    problem = next((p for p in raised.value.problems if message in p.message), None)
    assert problem is not None, raised.value.problems
    if where is not None:
        at = text.index(where)
        line, column = text.count("\n", 0, at) + 1, at - text.rfind("\n", 0, at)
        assert (problem.line, problem.column) == (line, column)
