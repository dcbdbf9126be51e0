"""Which municipality Entitle runs for: `municipalities/<id>.yaml`, selected by configuration.

A definition names the municipality (Dutch and English), its NIS code, who signs its letters, where
its benefits and campaigns are, the order of the benefits at the desk (and the purposes whose
benefits the desk checks without a click) and what the demo shows.
``ENTITLE_MUNICIPALITY`` (or ``--municipality``) selects one; Ghent is the default. The folder of
definitions is ``ENTITLE_MUNICIPALITIES``, else ``./municipalities``, else the one of this source
checkout. See docs/municipalities.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from entitle.settings import settings

DEFAULT_MUNICIPALITY = "ghent"
_ID = re.compile(r"^[a-z][a-z0-9-]*$")


class MunicipalityError(ValueError):
    """A municipality that is not defined, or a definition that cannot be used."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Letters(_Strict):
    sender: list[str] = Field(min_length=1)  # first line: the authority that signs


class _Demo(_Strict):
    persons: int = Field(ge=1)
    campaigns: list[str] = Field(default_factory=list)
    # a campaign run as of another date than today (e.g. the school year the city holds)
    campaign_dates: dict[str, date] = Field(default_factory=dict)
    examples: list[str] = Field(default_factory=list)


class _File(_Strict):
    id: str = Field(pattern=_ID.pattern)
    name: dict[str, str]
    nis: str = Field(pattern=r"^\d{5}$")
    fictional: bool = False
    letters: _Letters
    benefits: str
    campaigns: str
    desk_order: list[str] = Field(default_factory=list)
    # purposes whose benefits the desk checks without a click after another check
    desk_checks_automatically: list[str] = Field(default_factory=list)
    demo: _Demo


@dataclass(frozen=True)
class Municipality:
    """A loaded definition; folders are resolved against the definition's own folder."""

    id: str
    name: dict[str, str]  # nl, en
    nis: str
    fictional: bool
    sender: tuple[str, ...]
    benefits: Path
    campaigns: Path
    desk_order: tuple[str, ...]
    desk_auto_purposes: tuple[str, ...]
    demo_persons: int
    demo_campaigns: tuple[str, ...]
    demo_campaign_dates: dict[str, date]
    demo_examples: tuple[str, ...]
    path: Path

    @property
    def authority(self) -> str:
        """Who signs the letters (the sender's first line), e.g. "Stad Gent"."""
        return self.sender[0]


def municipalities_dir() -> Path:
    """ENTITLE_MUNICIPALITIES, else ./municipalities, else this checkout's municipalities/."""
    configured = settings().municipalities
    if configured is not None:
        return configured
    here = Path("municipalities")
    if here.is_dir():
        return here
    return Path(__file__).resolve().parents[2] / "municipalities"


def selected_id() -> str:
    """The municipality the configuration selects: ENTITLE_MUNICIPALITY, else Ghent."""
    return settings().municipality or DEFAULT_MUNICIPALITY


def known_ids(folder: Path | None = None) -> list[str]:
    """The ids of the defined municipalities."""
    where = folder or municipalities_dir()
    return sorted(path.stem for path in where.glob("*.yaml")) if where.is_dir() else []


def load_municipality(key: str | None = None, folder: Path | None = None) -> Municipality:
    """The definition of `key` (default: the selected one) from `folder` (default: the
    configured folder). MunicipalityError says what is wrong."""
    key = key or selected_id()
    where = folder or municipalities_dir()
    if not _ID.match(key):
        raise MunicipalityError(f"municipality {key!r}: an id is lower case, e.g. ghent")
    path = where / f"{key}.yaml"
    if not path.is_file():
        known = ", ".join(known_ids(where)) or "none"
        raise MunicipalityError(f"no municipality {key!r} in {where} (defined: {known})")
    try:
        data: Any = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    except (OSError, YAMLError) as exc:
        raise MunicipalityError(f"{path}: {exc}") from None
    try:
        spec = _File.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'file'}: {err['msg']}"
            for err in exc.errors()
        )
        raise MunicipalityError(f"{path}: {problems}") from None
    if spec.id != key:
        raise MunicipalityError(f"{path}: id {spec.id!r} differs from the file name {key!r}")
    undated = sorted(set(spec.demo.campaign_dates) - set(spec.demo.campaigns))
    if undated:
        raise MunicipalityError(
            f"{path}: demo.campaign_dates names campaigns the demo does not run: "
            + ", ".join(undated)
        )
    missing = [lang for lang in ("nl", "en") if not spec.name.get(lang)]
    if missing:
        raise MunicipalityError(f"{path}: name needs {' and '.join(missing)}")
    base = path.resolve().parent
    return Municipality(
        id=spec.id,
        name=dict(spec.name),
        nis=spec.nis,
        fictional=spec.fictional,
        sender=tuple(spec.letters.sender),
        benefits=(base / spec.benefits).resolve(),
        campaigns=(base / spec.campaigns).resolve(),
        desk_order=tuple(spec.desk_order),
        desk_auto_purposes=tuple(spec.desk_checks_automatically),
        demo_persons=spec.demo.persons,
        demo_campaigns=tuple(spec.demo.campaigns),
        demo_campaign_dates=dict(spec.demo.campaign_dates),
        demo_examples=tuple(spec.demo.examples),
        path=path,
    )


def configured_municipality() -> Municipality | None:
    """The selected municipality; None when none was asked for (no ENTITLE_MUNICIPALITY) and the
    default's definition is not at hand (a deployment with only a benefits folder)."""
    if (
        not settings().municipality
        and not (municipalities_dir() / f"{DEFAULT_MUNICIPALITY}.yaml").is_file()
    ):
        return None
    return load_municipality()
