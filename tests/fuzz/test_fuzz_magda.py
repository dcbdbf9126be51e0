"""Fuzzing the MAGDA reply parser with mutated copies of the mock replies (read from
../shared/magda-mock/responses, never copied here): a document either parses to a
`MagdaResponse` whose JSON form and facts can be used, or raises `MagdaParseError` (or one of
its subclasses) with a message; nothing else escapes."""

from __future__ import annotations

import json
from datetime import date
from functools import cache
from pathlib import Path

import pytest
from fuzz_budget import FUZZ, MAGDA_RESPONSES
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree  # type: ignore[import-untyped,unused-ignore]
from mutations import mutated, mutated_bytes

from entitle.sources.magda import MagdaParseError, parse_response
from entitle.sources.magda.facts import facts_for_service, map_facts
from entitle.sources.magda.services import SERVICES

if not MAGDA_RESPONSES.is_dir():
    pytest.skip(f"MAGDA mock replies not found at {MAGDA_RESPONSES}", allow_module_level=True)

FILES = sorted(MAGDA_RESPONSES.rglob("*.xml"))
XML_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=["Cc", "Cs"]), max_size=12)
HINTS = st.sampled_from([None, "GeefPersoon", "GeefDossierHandicap", "Onbekend", ""])


@cache
def content(path: Path) -> bytes:
    return path.read_bytes()


def assert_parses_or_refuses(data: bytes | str, hint: str | None = None) -> None:
    try:
        response = parse_response(data, service_hint=hint)
    except MagdaParseError as error:
        assert str(error).strip()
        return
    json.dumps(response.to_json())
    assert response.outcome
    if response.service is None:
        return
    for answer in response.answers:
        subject = answer.insz or "00000000000"
        for name, outcome in map_facts(
            response.service.naam, answer, subject=subject, as_of=date(2025, 9, 1)
        ).items():
            assert name in facts_for_service(response.service.naam)
            assert outcome is not None


@st.composite
def tree_edits(draw: st.DrawFn, data: bytes) -> bytes:
    """Element-level edits: drop, repeat or move an element, or change its text or name."""
    root = etree.fromstring(data)
    for _ in range(draw(st.integers(1, 4))):
        nodes = [n for n in root.iter() if isinstance(n.tag, str)]
        node = nodes[draw(st.integers(0, len(nodes) - 1))]
        parent = node.getparent()
        kind = draw(st.sampled_from(["drop", "repeat", "move", "text", "rename", "empty"]))
        if parent is None or kind == "text":
            node.text = draw(st.one_of(XML_TEXT, st.sampled_from(["", "0", "1", "9" * 30, "x"])))
        elif kind == "drop":
            parent.remove(node)
        elif kind == "repeat":
            parent.insert(parent.index(node), etree.fromstring(etree.tostring(node)))
        elif kind == "move":
            target = nodes[draw(st.integers(0, len(nodes) - 1))]
            if node not in target.iterancestors() and node is not target:
                parent.remove(node)
                target.append(node)
        elif kind == "rename":
            others = sorted({etree.QName(n).localname for n in nodes})
            node.tag = draw(st.sampled_from(others))
        else:
            for item in list(node):
                node.remove(item)
    return bytes(etree.tostring(root))


files = st.integers(0, len(FILES) - 1).map(lambda i: content(FILES[i]))


@FUZZ
@given(files.flatmap(tree_edits), HINTS)
def test_element_edits(data: bytes, hint: str | None) -> None:
    assert_parses_or_refuses(data, hint)


@FUZZ
@given(files.flatmap(lambda data: mutated_bytes(data, 3)))
def test_byte_edits(data: bytes) -> None:
    assert_parses_or_refuses(data)


@FUZZ
@given(files.flatmap(lambda data: mutated(data.decode("utf-8"), 3)))
def test_character_edits(text: str) -> None:
    assert_parses_or_refuses(text.encode("utf-8", "surrogatepass"))


@FUZZ
@given(st.one_of(st.binary(max_size=300), st.text(max_size=300)), HINTS)
def test_anything(data: bytes | str, hint: str | None) -> None:
    assert_parses_or_refuses(data, hint)


def test_every_service_is_in_the_mock_replies() -> None:
    """The structure-aware tests start from replies of every service the parser reads."""
    names = {path.relative_to(MAGDA_RESPONSES).parts[1] for path in FILES}
    assert set(SERVICES) - WITHOUT_MOCK_REPLY <= names


# Services MAGDA-Mock holds no reply of: the generic mutations feed (Algemeen 02.01), whose shape
# is our reading (docs/magda.md); tests/test_magda_mutations.py parses our simulator's replies.
WITHOUT_MOCK_REPLY = {"GeefMutatiesNotificaties"}
