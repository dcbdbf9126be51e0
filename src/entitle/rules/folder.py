"""A folder of benefit files: which files are benefits, finding one by id, loading them all.

One rule for every caller (the command line, campaigns, partitioned runs, the desk): a benefit
file is a `*.yaml` file under the folder, at any depth, that is not a test file (`*.tests.yaml`);
its id is its top-level `id:`. A name ending in `.yaml` or `.yml` is a file path instead.
"""

from __future__ import annotations

from pathlib import Path

from entitle.rules.loader import RuleFileError, load_benefit
from entitle.rules.model import Benefit


class BenefitFolderError(ValueError):
    """A benefit that is not there, a folder without benefits, or one that is not valid."""


def benefit_paths(folder: Path) -> list[Path]:
    """The benefit files under `folder`, in path order (test files excluded)."""
    return sorted(p for p in folder.rglob("*.yaml") if not p.name.endswith(".tests.yaml"))


def declared_id(path: Path) -> str | None:
    """A benefit file's top-level `id:` (without quotes), read without parsing the whole file."""
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("id:"):
            return line[3:].split(" #", 1)[0].strip().strip("'\"")
    return None


def find_benefit_file(name: str, folder: Path, base: Path | None = None) -> Path:
    """A benefit file from a path (`.yaml`/`.yml`, relative to `base`, default the working
    folder) or from a benefit id such as ghent.uitpas (the first file under `folder` with it)."""
    if name.endswith((".yaml", ".yml")):
        path = (base / name).resolve() if base is not None else Path(name)
        if path.is_file():
            return path
        raise BenefitFolderError(f"benefit file {name} not found")
    for path in benefit_paths(folder):
        if declared_id(path) == name:
            return path
    raise BenefitFolderError(f"no benefit {name!r} in {folder}")


def load_benefits(folder: Path) -> dict[str, Benefit]:
    """Every benefit under `folder`, by id; each must be valid and its id defined once."""
    if not folder.is_dir():
        raise BenefitFolderError(f"benefits folder {folder} does not exist (ENTITLE_BENEFITS)")
    found: dict[str, Benefit] = {}
    for path in benefit_paths(folder):
        try:
            benefit = load_benefit(path)
        except RuleFileError as exc:
            raise BenefitFolderError(f"benefit file {path} is not valid:\n{exc}") from None
        if benefit.id in found:
            raise BenefitFolderError(f"benefit {benefit.id} is defined twice (in {path})")
        found[benefit.id] = benefit
    if not found:
        raise BenefitFolderError(f"no benefit files in {folder}")
    return found
