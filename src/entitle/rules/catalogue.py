"""The fact catalogue's schema: what a fact is, and how the catalogue file is read.

The catalogue itself is data (`entitle/facts/catalogue.yaml`); this module only knows its shape,
so the rules package stays free of any source or registry code.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from entitle.rules.expr import T

SENSITIVITY_LABELS = {
    1: "identification and residence",
    2: "social status",
    3: "income and health (special category)",
}


@dataclass(frozen=True)
class FactSpec:
    """One fact a rule can read."""

    name: str  # e.g. person.increased_allowance
    type: T
    source: dict[str, str]
    sensitivity: int
    cost: int
    description: dict[str, str]
    domain: tuple[float, float] = (-math.inf, math.inf)  # every value lies in it (engine units)
    share_true: float = 0.5  # booleans: how often the fact holds (orders fetches only)

    @property
    def entity(self) -> str:
        """`person` or `household`."""
        return self.name.split(".", 1)[0]

    @property
    def field(self) -> str:
        """The name without its entity, as used for table columns."""
        return self.name.split(".", 1)[1]

    @property
    def source_label(self) -> str:
        """A short human-readable source: a MAGDA service or a local dataset."""
        if self.source.get("kind") == "magda":
            return f"MAGDA {self.source['service']}"
        return f"local dataset {self.source.get('dataset', '?')}"


Catalogue = dict[str, FactSpec]


def parse_catalogue(data: dict[str, Any]) -> Catalogue:
    """Build a catalogue from its parsed YAML mapping."""
    catalogue: Catalogue = {}
    for name, raw in data["facts"].items():
        entity = name.split(".", 1)[0]
        if entity not in ("person", "household") or "." not in name:
            raise ValueError(f"fact {name!r}: names start with person. or household.")
        catalogue[name] = FactSpec(
            name=name,
            type=T(raw["type"]),
            source={k: str(v) for k, v in raw["source"].items()},
            sensitivity=int(raw["sensitivity"]),
            cost=int(raw["cost"]),
            description=dict(raw.get("description", {})),
            domain=_domain(name, T(raw["type"]), raw.get("domain")),
            share_true=_share(name, raw.get("share_true", 0.5)),
        )
    return catalogue


def _domain(name: str, vtype: T, raw: Any) -> tuple[float, float]:
    """A fact's declared domain `{min: …, max: …}` in engine units (money in cents).

    Only numbers (int, number, money) take a domain; the engines use it to bound unknown values.
    """
    if raw is None:
        return (-math.inf, math.inf)
    if vtype not in (T.INT, T.NUMBER, T.MONEY) or not isinstance(raw, dict):
        raise ValueError(f"fact {name!r}: a domain is {{min: …, max: …}} on a number fact")
    unknown_keys = set(raw) - {"min", "max"}
    if unknown_keys:
        raise ValueError(f"fact {name!r}: unknown domain key(s) {sorted(unknown_keys)}")
    scale = 100 if vtype == T.MONEY else 1
    bounds = []
    for key, default in (("min", -math.inf), ("max", math.inf)):
        value = raw.get(key)
        if value is None:
            bounds.append(default)
        elif isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"fact {name!r}: domain {key} {value!r} is not a number")
        else:
            bounds.append(float(value) * scale)
    if bounds[0] > bounds[1]:
        raise ValueError(f"fact {name!r}: domain min is above its max")
    return (bounds[0], bounds[1])


def _share(name: str, raw: Any) -> float:
    """A boolean fact's `share_true`: the rough share of residents for whom it holds, 0 to 1."""
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not 0 <= raw <= 1:
        raise ValueError(f"fact {name!r}: share_true {raw!r} is not a number from 0 to 1")
    return float(raw)


def load_catalogue(path: Path) -> Catalogue:
    """Read a catalogue YAML file."""
    return parse_catalogue(YAML(typ="safe").load(path.read_text(encoding="utf-8")))


@cache
def default_catalogue() -> Catalogue:
    """The catalogue shipped with Entitle (`entitle/facts/catalogue.yaml`)."""
    text = resources.files("entitle.facts").joinpath("catalogue.yaml").read_text(encoding="utf-8")
    return parse_catalogue(YAML(typ="safe").load(text))


def assessment_years(as_of: date) -> tuple[int, int]:
    """The income years whose tax assessment `person.taxable_income` reads, newest first.

    Income year N is assessed during N+1 and N+2; an assessment counts from 1 July N+1. The fact is
    the most recent assessment of the two latest income years that count (older ones are stale).
    """
    latest = as_of.year - 1 if as_of.month >= 7 else as_of.year - 2
    return latest, latest - 1
