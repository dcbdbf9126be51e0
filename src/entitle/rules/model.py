"""A benefit definition: the file schema (Pydantic, published as JSON Schema) and the checked
model."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from entitle.rules import periods
from entitle.rules.expr import Node, T

# --------------------------------------------------------------------------- file schema


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Text(_Strict):
    """A text in Dutch (first) and English."""

    nl: str
    en: str


class LegalBasis(_Strict):
    text: Text | str
    url: str | None = None


class Period(_Strict):
    """A parameter value in force from `from` up to and including `until`."""

    from_: date = Field(alias="from")
    until: date | None = None
    value: Any


class ParameterSpec(_Strict):
    type: Literal["money", "number", "int", "text", "bool", "date", "table", "bands"]
    key: Literal["int", "text"] | None = None
    value: Literal["money", "number", "int", "text", "bool"] | None = None
    unit: str | None = None
    description: Text | str | None = None
    values: dict[date, Any] | list[Period]


class ConditionGuidance(_Strict):
    """What the officer does about one condition: when it is not met, when it is unknown."""

    no: Text | None = None
    unknown: Text | None = None


class ConditionSpec(_Strict):
    when: str
    text: Text
    guidance: ConditionGuidance | None = None  # shown at the desk, per condition


class LevelSpec(_Strict):
    """One level of an output, with its words."""

    value: str | int
    text: Text


class OutputSpec(_Strict):
    value: str
    type: Literal["money", "number", "int", "text", "bool", "date"] | None = None
    text: Text | None = None
    levels: list[str | int | LevelSpec] | None = None  # least favourable first: certain minimum


class Guidance(_Strict):
    eligible: Text | None = None
    not_eligible: Text | None = None
    undetermined: Text | None = None


class ValidityMonths(_Strict):
    months: int = Field(gt=0)


class ValidityYears(_Strict):
    years: int = Field(gt=0)


class BenefitFile(_Strict):
    """The YAML file of one benefit."""

    id: str = Field(pattern=r"^[a-z0-9]+(?:[.-][a-z0-9]+)*$")
    version: str
    title: Text
    description: Text | None = None
    authority: str
    legal_basis: LegalBasis
    purpose: str = Field(pattern=r"^[a-z0-9]+(?:[.-][a-z0-9]+)*$")
    subject: Literal["person", "household"]
    validity: Literal["calendar-year", "school-year"] | ValidityMonths | ValidityYears
    parameters: dict[str, ParameterSpec] = Field(default_factory=dict)
    conditions: dict[str, ConditionSpec | str]
    eligible: str
    outputs: dict[str, OutputSpec | str] = Field(default_factory=dict)
    guidance: Guidance = Field(default_factory=Guidance)


def benefit_json_schema() -> dict[str, Any]:
    """The JSON Schema of benefit files, for editors."""
    schema = BenefitFile.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Entitle benefit"
    return schema


# --------------------------------------------------------------------------- checked model


@dataclass(frozen=True)
class DatedValue:
    start: date
    end: date | None  # inclusive
    value: Any


@dataclass(frozen=True)
class Parameter:
    """A parameter with values in force over dated periods."""

    name: str
    kind: str  # scalar | table | bands
    type: T  # the value type
    key: T | None
    unit: str | None
    description: dict[str, str]
    values: tuple[DatedValue, ...]  # sorted by start

    def at(self, as_of: date) -> Any:
        """The value in force on `as_of`, or None when no period covers it."""
        for item in reversed(self.values):
            if item.start <= as_of and (item.end is None or as_of <= item.end):
                return item.value
        return None


@dataclass(frozen=True)
class Condition:
    name: str
    source: str
    node: Node
    text: dict[str, str]
    # per mark ("no", "unknown"): what the officer does, in Dutch and English
    guidance: dict[str, dict[str, str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Output:
    name: str
    source: str
    node: Node
    type: T
    text: dict[str, str]
    levels: tuple[Any, ...] = ()  # least favourable first; an open output's certain minimum
    level_text: dict[Any, dict[str, str]] = field(default_factory=dict)  # level -> words

    def present(self, raw: Any) -> Any:
        """The value as shown to people: money in euros (computed in cents)."""
        if raw is None or self.type != T.MONEY:
            return raw
        return raw / 100 if self.node.type == T.MONEY else raw


@dataclass
class Benefit:
    """A checked benefit, ready for both engines."""

    id: str
    version: str
    title: dict[str, str]
    description: dict[str, str]
    authority: str
    legal_basis: dict[str, Any]
    purpose: str
    subject: str
    validity: str | dict[str, int]
    parameters: dict[str, Parameter]
    conditions: dict[str, Condition]  # in dependency order
    eligible_source: str
    eligible: Node
    outputs: dict[str, Output]
    guidance: dict[str, dict[str, str]]
    path: str = ""
    compiled: dict[str, Any] = field(default_factory=dict, repr=False)  # engine caches

    def params_at(self, as_of: date) -> dict[str, Any]:
        """Every parameter's value on the as-of date."""
        return {name: param.at(as_of) for name, param in self.parameters.items()}

    def valid_until(self, as_of: date) -> date:
        """The last day a decision made on `as_of` stays valid (`periods.valid_until`)."""
        return periods.valid_until(self.validity, as_of)

    def period(self, as_of: date) -> periods.Period:
        """The period a decision made on `as_of` is for (`periods.decision_period`)."""
        return periods.decision_period(self.validity, as_of)
