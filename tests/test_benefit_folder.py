"""One rule finds a benefit by id or path for every caller: the command line, campaigns,
partitioned runs and the desk read the same files and the same ids."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from entitle.rules.folder import (
    BenefitFolderError,
    benefit_paths,
    declared_id,
    find_benefit_file,
    load_benefits,
)
from entitle.rules.loader import load_benefit

REPO = Path(__file__).resolve().parents[1]
BENEFITS = REPO / "benefits"

ids = st.from_regex(r"[a-z]{1,8}\.[a-z][a-z-]{0,12}", fullmatch=True)


def test_every_benefit_of_the_repository_is_found_by_its_loaded_id() -> None:
    for municipality in sorted(p for p in BENEFITS.iterdir() if p.is_dir()):
        loaded = load_benefits(municipality)
        for benefit_id in loaded:
            found = find_benefit_file(benefit_id, BENEFITS)  # from the root of every town
            assert load_benefit(found).id == benefit_id


@given(ids, st.sampled_from(["{}", "'{}'", '"{}"', "{}  # the id"]))
def test_the_id_is_the_top_level_id_however_quoted(benefit_id: str, written: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "b.yaml"
        text = f"# a benefit\nname:\n  id: not-this\nid: {written.format(benefit_id)}\n"
        path.write_text(text, encoding="utf-8")
        assert declared_id(path) == benefit_id
        assert find_benefit_file(benefit_id, Path(folder)) == path


def test_test_files_are_not_benefits_and_the_first_file_wins(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "a.tests.yaml").write_text("id: x.y\n", encoding="utf-8")
    (tmp_path / "b" / "later.yaml").write_text("id: x.y\n", encoding="utf-8")
    (tmp_path / "a.yaml").write_text("id: x.y\n", encoding="utf-8")
    assert benefit_paths(tmp_path) == [tmp_path / "a.yaml", tmp_path / "b" / "later.yaml"]
    assert find_benefit_file("x.y", tmp_path) == tmp_path / "a.yaml"


def test_a_path_is_a_path_relative_to_its_base(tmp_path: Path) -> None:
    (tmp_path / "own.yml").write_text("id: own.one\n", encoding="utf-8")
    assert find_benefit_file("own.yml", BENEFITS, base=tmp_path) == tmp_path / "own.yml"
    with pytest.raises(BenefitFolderError, match=re.escape("benefit file own.yml not found")):
        find_benefit_file("own.yml", BENEFITS, base=BENEFITS)
    with pytest.raises(BenefitFolderError, match=re.escape("no benefit 'ghent.nope'")):
        find_benefit_file("ghent.nope", BENEFITS)
