"""The figures in words, in the page's language (`Words`), and a run's sample decisions as
the pages show them: by pseudonym, outcome, conditions (those reading income or health data as
"protected") and the missing facts' kinds — never a value read from a source."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from entitle.decide.campaign.definition import Campaign
from entitle.decide.campaign.figures import RUN_OUTCOMES, shown_change
from entitle.decide.campaign.missing import whose_words
from entitle.decide.campaign.reasons import NOT_IN_REGISTER_CODE, PENDING
from entitle.decide.campaign.sources import NOT_IN_REGISTER
from entitle.decide.reasons import NO_DATA, MissingReason
from entitle.rules.catalogue import Catalogue
from entitle.rules.expr import T
from entitle.web.desk import HOUSEHOLD_MEMBERS, household_members_text, missing_kind_words
from entitle.web.i18n import Translator
from entitle.web.visibility import protected_conditions


@dataclass(frozen=True)
class Words:
    """Labels for the figures, in the page's language (the templates only call these)."""

    t: Translator
    campaign: Campaign | None
    catalogue: Catalogue

    def status(self, status: str) -> str:
        return self.t(f"campaign.status.{status}")

    def change(self, change: str) -> str:
        return self.t(f"campaign.change.{change}")

    def outcome(self, outcome: str) -> str:
        if outcome == PENDING:
            return self.t("campaign.outcome.pending")
        return self.t(f"card.outcome.{outcome}") if outcome in RUN_OUTCOMES else outcome

    def target(self, kind: str) -> str:
        return self.t(f"campaign.target.{kind}")

    def noun(self, kind: str) -> str:
        return self.t(f"whatif.noun.{kind}")

    def count(self, value: float | None) -> str:
        return self.t.number(value or 0)

    def signed(self, value: float) -> str:
        return _signed(self.t.number(abs(value)), value)

    def money(self, value: float | None) -> str:
        return self.t.money(value or 0.0)

    def signed_money(self, value: float) -> str:
        return _signed(self.t.money(abs(value)), value)

    def share(self, value: float | None) -> str:
        return f"{self.t.number(round((value or 0.0) * 100, 1))} %"

    def day(self, value: str | date | None) -> str:
        if value is None:
            return ""
        return self.t.day(date.fromisoformat(value) if isinstance(value, str) else value)

    def moment(self, value: str | None) -> str:
        return self.t.moment(value)

    def band(self, band: str | None) -> str:
        """A band as people read it: money bands in euro, others as named."""
        if band is None or band == "-":
            return "–"
        campaign = self.campaign
        name = campaign.spec.band if campaign else None
        if campaign is not None and name is not None:
            output = campaign.benefit.outputs.get(name)
            if output is not None and output.type == T.MONEY:
                try:
                    return self.t.money(float(band))
                except ValueError:
                    return band
        return self.t.value(band)

    def fact(self, name: str) -> str:
        if name == HOUSEHOLD_MEMBERS:
            return self.t.text(household_members_text())
        spec = self.catalogue.get(name)
        return self.t.text(spec.description) if spec is not None and spec.description else name

    def whose_fact(self, item: dict[str, Any]) -> str:
        """A stored missing fact with its owner by relation ("… (van: uw partner)")."""
        whose = self.t.text({lang: whose_words(item, lang) for lang in ("nl", "en")})
        return self.t("campaign.missing_of", fact=self.fact(item["fact"]), whose=whose)

    def condition(self, name: str) -> str:
        campaign = self.campaign
        if campaign is not None and name in campaign.benefit.conditions:
            return self.t.text(campaign.benefit.conditions[name].text) or name
        return name

    def missing_kind(self, reason: Any) -> str:
        """Why a fact is missing, by kind only (never the source's own message)."""
        why = MissingReason.parse(reason or NO_DATA.kind)
        if reason == NOT_IN_REGISTER or why.code == NOT_IN_REGISTER_CODE:
            return self.t("run.reason_not_in_register")
        return missing_kind_words(self.t, why)

    def reason(self, key: str) -> str:
        """An undetermined reason of the summary (`fact (kind)`, `condition NAME`, …)."""
        if key.startswith("condition "):
            return self.t("run.reason_condition", text=self.condition(key[len("condition ") :]))
        if key == "outputs unknown":
            return self.t("run.reason_outputs")
        found = re.fullmatch(r"(\S+) \((.*)\)", key)
        if found:
            return f"{self.fact(found.group(1))}: {self.missing_kind(found.group(2))}"
        return key

    def pending_reasons(self, reasons: dict[str, int] | None) -> str:
        """A run's failures of ours (`fact (code)` keys) as the fact in words and its code."""
        shown = []
        for key in reasons or {}:
            found = re.fullmatch(r"(\S+) \((.*)\)", key)
            shown.append(f"{self.fact(found.group(1))} ({found.group(2)})" if found else key)
        return ", ".join(shown)

    def output(self, name: str, value: Any) -> tuple[str, str]:
        campaign = self.campaign
        output = campaign.benefit.outputs.get(name) if campaign else None
        label = self.t.text(output.text) if output is not None and output.text else name
        if output is not None and output.type == T.MONEY and isinstance(value, int | float):
            return label, self.t.money(float(value))
        return label, "" if value is None else self.t.value(value)


def _signed(text: str, value: float) -> str:
    """A difference's figure in words with its sign (a minus sign, not a hyphen)."""
    return f"+{text}" if value > 0 else (f"−{text}" if value < 0 else text)


def band_order(bands: Iterable[str]) -> list[str]:
    """Bands in their natural order: amounts by value, names alphabetically."""

    def key(band: str) -> tuple[int, float, str]:
        try:
            return (0, float(band), band)
        except ValueError:
            return (1, 0.0, band)

    return sorted(bands, key=key)


@dataclass(frozen=True)
class SampleRow:
    subject: str
    outcome: str
    change: str
    band: str
    previous_band: str | None
    grants: list[tuple[str, str]]
    conditions: list[tuple[str, str]]  # (mark, text)
    missing: list[tuple[str, str]]  # (fact, why)


def sample_rows(words: Words, rows: Sequence[dict[str, Any]]) -> list[SampleRow]:
    campaign = words.campaign
    protected = (
        protected_conditions(campaign.benefit, words.catalogue) if campaign is not None else set()
    )
    out = []
    for row in rows:
        conditions = []
        for name, value in (row.get("conditions") or {}).items():
            if value is None:
                mark = "unknown"
            elif name in protected:
                mark = "protected"
            else:
                mark = "yes" if value else "no"
            conditions.append((mark, words.condition(name)))
        reasons = row.get("reasons") or {}
        missing = [
            (words.fact(fact), words.missing_kind(reasons.get(fact)))
            for fact in row.get("facts_missing") or []
        ]
        if row.get("missing"):  # whose each fact is: whose certificate to ask for
            missing = [
                (words.whose_fact(item), words.missing_kind(reasons.get(item["fact"])))
                for item in row["missing"]
            ]
        grants = (
            [words.output(name, value) for name, value in (row.get("outputs") or {}).items()]
            if row.get("outcome") == "eligible"
            else []
        )
        previous = row.get("previous_band")
        out.append(
            SampleRow(
                subject=str(row.get("subject", ""))[:12],
                outcome=str(row.get("outcome", "")),
                change=shown_change(str(row.get("outcome", "")), str(row.get("change", ""))),
                band=words.band(row.get("band")),
                previous_band=words.band(previous) if previous else None,
                grants=grants,
                conditions=conditions,
                missing=missing,
            )
        )
    return out
