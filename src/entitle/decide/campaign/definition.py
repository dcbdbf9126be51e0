"""Campaign definitions: YAML files beside the benefits (`campaigns/<municipality>/<name>.yaml`).

A definition names the benefit, the target population, the schedule, the review rule and the
outputs (letters with their Dutch texts and, optionally, an English version; billing lists;
notifications). See docs/campaigns.md for every field.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Literal

from croniter import croniter  # type: ignore[import-untyped]
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from entitle.rules.folder import BenefitFolderError, find_benefit_file
from entitle.rules.loader import load_benefit
from entitle.rules.model import Benefit


class CampaignError(ValueError):
    """A campaign definition that cannot be used, or a campaign that cannot be found."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Target(_Strict):
    """Who the campaign looks at.

    - `households`: every household registered in `municipality_nis` (the register extract);
    - `persons`: every person registered there (optionally of at least `min_age` on the as-of date);
    - `pupils`: every pupil in the city's enrolment dataset for the as-of date's school year.
    """

    kind: Literal["households", "persons", "pupils"]
    municipality_nis: str = "44021"
    min_age: int | None = Field(default=None, ge=0, le=120)
    dataset: str = "school_enrolments"


class Schedule(_Strict):
    """When a campaign is due: a cron expression, fixed dates, or month-days of every school year
    (`school_year: ["09-20", …]`). Each schedule slot is run once."""

    cron: str | None = None
    dates: list[date] = Field(default_factory=list)
    school_year: list[str] = Field(default_factory=list)

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        if value is not None and not croniter.is_valid(value):
            raise ValueError(f"not a cron expression: {value!r}")
        return value

    @field_validator("school_year")
    @classmethod
    def _month_days(cls, values: list[str]) -> list[str]:
        for value in values:
            if not re.fullmatch(r"\d{2}-\d{2}", value):
                raise ValueError(f"school-year dates are MM-DD, not {value!r}")
            month, day = (int(x) for x in value.split("-"))
            date(2024, month, day)  # raises for an impossible day
        return values

    def last_slot(self, now: datetime) -> datetime | None:
        """The most recent scheduled moment at or before `now` (None: nothing due yet)."""
        slots: list[datetime] = []
        if self.cron:
            slots.append(croniter(self.cron, now + timedelta(seconds=1)).get_prev(datetime))
        slots += [datetime.combine(d, time()) for d in self.dates if d <= now.date()]
        for value in self.school_year:
            month, day = (int(x) for x in value.split("-"))
            for year in (now.year, now.year - 1):
                moment = datetime(year, month, day)
                if moment <= now:
                    slots.append(moment)
                    break
        return max(slots) if slots else None


class Review(_Strict):
    approvals: Literal[1, 2] = 1


class Cost(_Strict):
    """How a what-if prices a decision: the sum of money outputs, or an amount per band."""

    outputs: list[str] = Field(default_factory=list)
    per_band: dict[str, float] = Field(default_factory=dict)


class CouponLetter(_Strict):
    verify_url: str = "https://stad.gent/bon/{code}"
    subject: str
    what: str = ""
    what_by_band: dict[str, str] = Field(default_factory=dict)
    why_intro: str = "U krijgt dit omdat volgens de gegevens van de overheid:"
    why_conditions: list[str] = Field(default_factory=list)
    how: str
    objection: str
    # A partial decision's letter grants the certain part and then says what may be better
    # (`{better}`: the better levels, in words) and what would settle it: per missing fact, what
    # to bring, `{whose}` filled in ("uw partner"); a fact without a line here is named as such.
    open_part: str = (
        "Misschien hebt u recht op meer: {better}. Met de gegevens die we konden raadplegen, "
        "konden we dat nog niet zeker zeggen."
    )
    open_bring_intro: str = "Wilt u dat laten nakijken? Breng dan mee:"
    open_bring: dict[str, str] = Field(default_factory=dict)


class InvitationLetter(_Strict):
    subject: str
    body: str
    bring_intro: str = "Breng mee:"
    always_bring: list[str] = Field(default_factory=list)
    bring: dict[str, str] = Field(default_factory=dict)  # missing fact or unknown condition -> item
    objection: str = ""


class CouponTranslation(_Strict):
    """The coupon letter's texts in another language (same placeholders as the Dutch ones)."""

    subject: str
    what: str = ""
    what_by_band: dict[str, str] = Field(default_factory=dict)
    why_intro: str = "You get this because, according to government records:"
    how: str
    objection: str
    open_part: str = (
        "You may be entitled to more: {better}. With the data we could consult, we could not yet "
        "say for sure."
    )
    open_bring_intro: str = "Would you like us to check? Then please bring:"
    open_bring: dict[str, str] = Field(default_factory=dict)


class InvitationTranslation(_Strict):
    subject: str
    body: str
    bring_intro: str = "Please bring:"
    always_bring: list[str] = Field(default_factory=list)
    bring: dict[str, str] = Field(default_factory=dict)
    objection: str = ""


class Translation(_Strict):
    """A letter's version in another language, printed after the Dutch one."""

    sender: list[str] = Field(default_factory=list)  # empty: the Dutch sender lines
    coupon: CouponTranslation
    invitation: InvitationTranslation | Literal[False] = False


Language = Literal["nl", "en"]


def _dutch() -> list[Language]:
    return ["nl"]


class Letters(_Strict):
    municipality_name: str = ""
    sender: list[str] = Field(default_factory=list)
    coupon: CouponLetter
    invitation: InvitationLetter | Literal[False] = False
    # The versions each letter has, Dutch first (the official one): [nl] or [nl, en].
    languages: list[Language] = Field(default_factory=_dutch)
    translations: dict[Language, Translation] = Field(default_factory=dict)


class BillingLists(_Strict):
    dataset: str = "school_enrolments"


Change = Literal["new", "changed", "ended"]


def _all_changes() -> list[Change]:
    return ["new", "changed", "ended"]


class Notifications(_Strict):
    """A notification file per issued run for the city's channel (e-mail, SMS, my-city inbox):
    one record per subject whose situation changed in these ways."""

    changes: list[Change] = Field(default_factory=_all_changes, min_length=1)


class Outputs(_Strict):
    letters: Letters | Literal[False] = False
    billing_lists: BillingLists | Literal[False] = False
    notifications: Notifications | Literal[False] = False


class Inscriptions(_Strict):
    """The KSZ inscriptions of the target (when the MAGDA settings require inscriptions):
    `sync_first` runs `entitle inscriptions sync` before each run."""

    sync_first: bool = False


class FollowUp(_Strict):
    """Weekly follow-up from mutation notifications (`entitle watch run`): when `weekly`,
    `entitle campaign schedule` runs it at `schedule` (cron) and sends each week's letters
    within the standing approval a manager gave with an approved run, `hold_hours` after the
    week was decided unless a manager holds the batch. Newly eligible: a coupon letter; newly
    undetermined: an invitation (as a run). `changed` (another amount or tariff) and `ended`
    (no longer eligible): `record` (stored, no letter) or `notify` (also a record in the
    week's notification file, when the campaign has notifications)."""

    weekly: bool = False
    schedule: str = "0 6 * * 1"
    hold_hours: int = Field(default=24, ge=0, le=24 * 14)
    changed: Literal["record", "notify"] = "record"
    ended: Literal["record", "notify"] = "record"

    @field_validator("schedule")
    @classmethod
    def _cron(cls, value: str) -> str:
        if not croniter.is_valid(value):
            raise ValueError(f"not a cron expression: {value!r}")
        return value


class CampaignFile(_Strict):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    title: dict[str, str]
    benefit: str
    target: Target
    schedule: Schedule = Schedule()
    review: Review = Review()
    band: str | None = None
    cost: Cost = Cost()
    chunk_size: int = Field(default=2000, ge=1, le=100_000)
    facts_from_register: list[str] = Field(default_factory=list)
    outputs: Outputs = Outputs()
    inscriptions: Inscriptions = Inscriptions()
    follow_up: FollowUp = FollowUp()


class Campaign:
    """A loaded definition with its benefit."""

    def __init__(
        self, spec: CampaignFile, benefit: Benefit, path: Path, benefits_dir: Path | None = None
    ) -> None:
        self.spec = spec
        self.benefit = benefit
        self.path = path
        self.benefits_dir = benefits_dir or Path(benefit.path).parent
        self._check()

    @property
    def name(self) -> str:
        return self.spec.name

    def _check(self) -> None:
        spec, benefit = self.spec, self.benefit
        where = str(self.path)
        if spec.target.kind == "households" and benefit.subject != "household":
            raise CampaignError(f"{where}: target households needs a household benefit")
        if spec.target.kind in ("persons", "pupils") and benefit.subject != "person":
            raise CampaignError(f"{where}: target {spec.target.kind} needs a person benefit")
        if spec.band is not None and spec.band not in benefit.outputs:
            raise CampaignError(f"{where}: band {spec.band!r} is not an output of {benefit.id}")
        for name in spec.cost.outputs:
            if name not in benefit.outputs:
                raise CampaignError(f"{where}: cost output {name!r} is not an output")
        from entitle.decide.campaign.sources import REGISTER_FACTS

        for fact in spec.facts_from_register:
            if fact not in REGISTER_FACTS:
                known = ", ".join(sorted(REGISTER_FACTS))
                raise CampaignError(
                    f"{where}: facts_from_register: {fact!r} is not in the register extract "
                    f"({known})"
                )
        letters = spec.outputs.letters
        if letters:
            for name in letters.coupon.why_conditions:
                if name not in benefit.conditions:
                    raise CampaignError(f"{where}: why_conditions: no condition {name!r}")
            if not letters.coupon.what and not letters.coupon.what_by_band:
                raise CampaignError(f"{where}: a coupon letter needs 'what' or 'what_by_band'")
            self._check_languages(letters)
        if spec.outputs.billing_lists and spec.target.kind != "pupils":
            raise CampaignError(f"{where}: billing lists are made for pupil campaigns")

    def _check_languages(self, letters: Letters) -> None:
        where = str(self.path)
        languages = letters.languages
        if not languages or languages[0] != "nl" or len(set(languages)) != len(languages):
            raise CampaignError(
                f"{where}: letters.languages starts with nl (the official version) and names "
                f"each language once, not {languages}"
            )
        for language in languages[1:]:
            translation = letters.translations.get(language)
            if translation is None:
                raise CampaignError(f"{where}: letters.translations has no {language!r} version")
            coupon = translation.coupon
            if not coupon.what and not coupon.what_by_band:
                raise CampaignError(f"{where}: translations.{language}.coupon needs 'what'")
            if letters.invitation and not translation.invitation:
                raise CampaignError(f"{where}: translations.{language} needs an 'invitation'")

    def period(self, as_of: date) -> str:
        """The period a decision on `as_of` covers: one letter per subject per period."""
        return self.benefit.period(as_of).label

    @property
    def approvals_required(self) -> int:
        return int(self.spec.review.approvals)


def _read(path: Path) -> Any:
    try:
        return YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    except (OSError, YAMLError) as exc:
        raise CampaignError(f"{path}: {exc}") from None


def load_campaign(path: Path, benefits_dir: Path) -> Campaign:
    """Load and check one campaign file."""
    data = _read(path)
    try:
        spec = CampaignFile.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise CampaignError(f"{path}: {problems}") from None
    try:
        benefit_file = find_benefit_file(spec.benefit, benefits_dir, path.parent)
    except BenefitFolderError as exc:
        raise CampaignError(str(exc)) from None
    benefit = load_benefit(benefit_file)
    return Campaign(spec, benefit, path, benefits_dir)


def campaign_files(campaigns_dir: Path) -> list[Path]:
    return sorted(p for p in campaigns_dir.rglob("*.yaml") if p.is_file())


def find_campaign(name: str, campaigns_dir: Path, benefits_dir: Path) -> Campaign:
    """A campaign by name, by the id of its benefit (when one campaign has it), or by path."""
    direct = Path(name)
    if direct.suffix in (".yaml", ".yml") and direct.is_file():
        return load_campaign(direct, benefits_dir)
    by_benefit = []
    for path in campaign_files(campaigns_dir):
        data = _read(path)
        if isinstance(data, dict) and data.get("name") == name:
            return load_campaign(path, benefits_dir)
        if isinstance(data, dict) and data.get("benefit") == name:
            by_benefit.append(path)
    if len(by_benefit) == 1:  # a benefit id names its only campaign
        return load_campaign(by_benefit[0], benefits_dir)
    raise CampaignError(f"no campaign {name!r} in {campaigns_dir}")


def load_campaigns(campaigns_dir: Path, benefits_dir: Path) -> list[Campaign]:
    return [load_campaign(path, benefits_dir) for path in campaign_files(campaigns_dir)]
