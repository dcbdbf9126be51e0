"""What a campaign letter says: the addressee from the register extract, the text in plain
Dutch from the campaign file around the fixed words of the catalogues (`letter.*`) — then the
same letter in English when the campaign's `letters.languages` is `[nl, en]` — never an income
or other raw value; one letter again as a PDF.

Why a bilingual letter and not a language per household: the register extract records no
language preference, and a Flemish city writes to its residents in Dutch (the language
legislation for administrative matters), so the Dutch letter is the official decision. An
English translation *after* it, on its own pages and marked as a translation, reaches the
residents who read no Dutch without making anyone guess who they are.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable, Collection
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from functools import cache, partial
from pathlib import Path
from typing import Any

import polars as pl

from entitle.decide.atomic import write_atomic
from entitle.decide.campaign.context import CampaignContext
from entitle.decide.campaign.definition import (
    Campaign,
    CouponLetter,
    CouponTranslation,
    Letters,
    Translation,
)
from entitle.decide.campaign.evaluate import undecided_conditions
from entitle.decide.campaign.missing import bring_list, owners_of
from entitle.decide.campaign.sources import RegisterExtract
from entitle.decide.letters import Letter, date_words, euro, euro_en, letter_pdf
from entitle.rules.catalogue import default_catalogue
from entitle.rules.expr import T
from entitle.rules.periods import period_of_label, period_words
from entitle.sources.access import Pseudonymiser
from entitle.store import campaigns as store
from entitle.texts import DEFAULT_LANGUAGE, Texts


@dataclass(frozen=True)
class Addressee:
    subject_id: str
    name: str
    first_name: str
    street: str
    postcode: str
    municipality: str

    def lines(self) -> tuple[str, ...]:
        return (self.name, self.street, f"{self.postcode} {self.municipality}".strip())


# the addressee's name and address, and their row in the extract's persons file
ADDRESSEE = ("first_name", "last_name", "street", "house_number", "postcode", "person_row")


def addressee_frame(
    campaign: Campaign, extract: RegisterExtract, pseudonymise: Pseudonymiser
) -> pl.DataFrame:
    """Who a letter about each subject goes to (the reference person of a household, or the
    person), with the address in the register extract: one row per subject with an address,
    keyed by the subject's `pseudonym`; `person_row` and `household_row` say where the
    addressee is in the extract's files (`write_address_index`)."""
    persons = extract.persons.with_row_index("person_row")
    if campaign.benefit.subject == "household":
        frame = (
            extract.households.with_row_index("household_row")
            .join(
                persons.select(
                    pl.col("person_id").alias("reference_person_id"),
                    "first_name",
                    "last_name",
                    "person_row",
                ),
                on="reference_person_id",
                how="inner",
            )
            .select(pl.col("household_id").alias("subject_id"), *ADDRESSEE, "household_row")
        )
    else:
        frame = persons.select(
            pl.col("person_id").alias("subject_id"),
            *ADDRESSEE,
            pl.lit(None, pl.UInt32()).alias("household_row"),
        )
    frame = frame.filter(pl.col("street").is_not_null() & (pl.col("street") != ""))
    ids = frame["subject_id"].to_list()
    return frame.with_columns(pl.Series("pseudonym", [pseudonymise(i) for i in ids], pl.String()))


def _addressee(campaign: Campaign, row: tuple[Any, ...]) -> Addressee:
    letters = campaign.spec.outputs.letters
    subject, first, last, street, number, postcode = row[:6]
    return Addressee(
        subject_id=subject,
        name=f"{first} {last}".strip(),
        first_name=first or "",
        street=f"{street} {number or ''}".strip(),
        postcode=postcode or "",
        municipality=letters.municipality_name if letters else "",
    )


def addressees(
    campaign: Campaign, extract: RegisterExtract, pseudonymise: Pseudonymiser
) -> dict[str, Addressee]:
    """Pseudonym → who a letter about that subject goes to (see `addressee_frame`)."""
    return addressee_map(campaign, addressee_frame(campaign, extract, pseudonymise))


def addressee_map(campaign: Campaign, frame: pl.DataFrame) -> dict[str, Addressee]:
    return {row[-1]: _addressee(campaign, row) for row in frame.iter_rows()}


# --------------------------------------------------------------------------- one letter

ADDRESS_INDEX = "addressees.parquet"  # in a run's folder: where its letters' addressees are
INDEX_ROW_GROUP = 4096  # a look-up reads one row group of the index (sorted by pseudonym)


def write_address_index(folder: Path, frame: pl.DataFrame, pseudonyms: Collection[str]) -> Path:
    """Where in the register extract the addressee of each letter of a run is (pseudonym →
    row numbers; no name, address or register number), written when the run is issued, so that
    one letter is opened without pseudonymising the whole extract (`indexed_addressee`)."""
    index = (
        frame.filter(pl.col("pseudonym").is_in(list(pseudonyms)))
        .select("pseudonym", "person_row", "household_row")
        .sort("pseudonym")
    )
    buffer = io.BytesIO()
    index.write_parquet(buffer, statistics=True, row_group_size=INDEX_ROW_GROUP)
    path = folder / ADDRESS_INDEX
    write_atomic(path, buffer.getvalue())
    return path


def _one_row(path: Path, row: int, columns: list[str]) -> dict[str, Any] | None:
    found = pl.scan_parquet(path).slice(row, 1).select(columns).collect()
    return found.row(0, named=True) if found.height else None


def indexed_addressee(
    ctx: CampaignContext, campaign: Campaign, folder: Path, pseudonym: str
) -> Addressee | None:
    """The addressee of one letter through its run's address index: the index row, then that
    row of the extract's Parquet files — checked by pseudonymising the subject found (None
    when there is no index or the extract changed under it: then the address book)."""
    path, persons_file = folder / ADDRESS_INDEX, ctx.register / "persons.parquet"
    households_file = ctx.register / "households.parquet"
    if not path.is_file() or not persons_file.is_file():
        return None
    try:
        hit = pl.scan_parquet(path).filter(pl.col("pseudonym") == pseudonym).collect()
        if not hit.height:
            return None
        person_row, household_row = hit.row(0)[1:]
        names = ["person_id", "first_name", "last_name", "street", "house_number", "postcode"]
        person = _one_row(persons_file, person_row, names)
        if person is None:
            return None
        if campaign.benefit.subject == "household":
            if household_row is None or not households_file.is_file():
                return None
            place = ["household_id", "reference_person_id", "street", "house_number", "postcode"]
            home = _one_row(households_file, household_row, place)
            if home is None or str(home["reference_person_id"]) != str(person["person_id"]):
                return None
            subject = str(home["household_id"])
        else:
            home, subject = person, str(person["person_id"])
    except (OSError, pl.exceptions.PolarsError):
        return None
    if not home["street"] or ctx.pseudonymiser()(subject) != pseudonym:
        return None  # another extract: rows moved
    row = (subject, person["first_name"], person["last_name"], home["street"])
    return _addressee(campaign, (*row, home["house_number"], home["postcode"]))


_BOOKS: dict[tuple[Any, ...], pl.DataFrame] = {}
_BOOKS_LOCK = threading.Lock()
BOOKS_KEPT = 4  # address books kept per process (one per campaign and register extract)


def _book_key(ctx: CampaignContext, campaign: Campaign) -> tuple[Any, ...]:
    stamps = []
    for name in ("persons", "households"):
        for suffix in (".parquet", ".csv"):
            path = ctx.register / f"{name}{suffix}"
            stamps.append(path.stat().st_mtime_ns if path.exists() else None)
    return (str(ctx.register), str(ctx.state_dir), campaign.name, campaign.benefit.subject, *stamps)


def addressee_of(ctx: CampaignContext, campaign: Campaign, pseudonym: str) -> Addressee | None:
    """The addressee of one subject. The address book of the register extract is made once per
    process (pseudonymising every subject takes a second) and kept while the extract is
    unchanged, so opening one letter again is a lookup."""
    key = _book_key(ctx, campaign)
    with _BOOKS_LOCK:
        book = _BOOKS.get(key)
    if book is None:
        book = addressee_frame(campaign, RegisterExtract.load(ctx.register), ctx.pseudonymiser())
        with _BOOKS_LOCK:
            while len(_BOOKS) >= BOOKS_KEPT:
                _BOOKS.pop(next(iter(_BOOKS)))
            _BOOKS[key] = book
    found = book.filter(pl.col("pseudonym") == pseudonym)
    return _addressee(campaign, found.row(0)) if found.height else None


@dataclass(frozen=True)
class Phrases:
    """The fixed words of a letter in one language (`{name}` and `{authority}` still to fill
    in), and how it writes money and dates."""

    greeting: str
    reference: str
    how: str
    objection: str
    closing: str
    code_label: str
    code_hint: str
    footer: str
    note: str  # above the subject of a translation ("" for the official version)
    either: str  # "of": "A of B"
    money: Callable[[float | int | None], str]
    day: Callable[[date], str]


MONEY: dict[str, Callable[[float | int | None], str]] = {"nl": euro, "en": euro_en}


@cache
def phrases_of(language: str) -> Phrases:
    """One language's fixed words of a letter, from the catalogue (`letter.*`)."""
    t = Texts(language)
    return Phrases(
        greeting=t("letter.greeting"),
        reference=t("letter.reference"),
        how=t("letter.how"),
        objection=t("letter.objection"),
        closing=t("letter.closing"),
        code_label=t("letter.code_label"),
        code_hint=t("letter.code_hint"),
        footer=t("letter.footer"),
        # the Dutch letter is the official decision; a translation says so above its subject
        note="" if language == DEFAULT_LANGUAGE else t("letter.translation_note"),
        either=t("letter.or"),
        money=MONEY[language],
        day=partial(date_words, lang=language),
    )


def _values(campaign: Campaign, outputs: dict[str, Any], phrases: Phrases) -> dict[str, str]:
    out = {}
    for name, spec in campaign.benefit.outputs.items():
        value = outputs.get(name)
        out[name] = (
            phrases.money(value) if spec.type == T.MONEY else ("" if value is None else str(value))
        )
    return out


def build_letter(
    campaign: Campaign,
    letter: store.LetterView,
    decision: Any,
    to: Addressee,
    *,
    on: date,
) -> Letter:
    """The text of one letter in plain Dutch, followed by its version in each other language
    of the campaign (`languages: [nl, en]`). No income or other raw value is ever quoted."""
    spec = campaign.spec.outputs.letters
    assert spec
    versions = [
        _version(campaign, letter, decision, to, on, language, spec.translations[language])
        for language in spec.languages[1:]
    ]
    out = _version(campaign, letter, decision, to, on, "nl", spec)
    for version in reversed(versions):  # nl, then each other language in the listed order
        out = replace(out, translation=replace(version, translation=out.translation))
    return out


def _version(
    campaign: Campaign,
    letter: store.LetterView,
    decision: Any,
    to: Addressee,
    on: date,
    language: str,
    texts: Letters | Translation,
) -> Letter:
    """One language's version of a letter (`texts`: the Dutch letter texts or a translation)."""
    spec = campaign.spec.outputs.letters
    assert spec
    phrases = phrases_of(language)
    benefit = campaign.benefit
    valid_until = letter.valid_until
    sender = tuple(texts.sender or spec.sender) or (benefit.authority,)
    place = f"{spec.municipality_name or benefit.authority}, {phrases.day(on)}"
    # the run and the letter's number find it again (no English campaign slug on a Dutch
    # letter), and the period in words: "schooljaar 2025-2026" (`periods.period_words`)
    period = period_words(period_of_label(benefit.validity, letter.period), language, phrases.day)
    reference = f"{phrases.reference}: {letter.run_id}/{letter.seq} ({period})"
    greeting = phrases.greeting.format(name=to.name)
    title = benefit.title.get(language) or benefit.title.get("nl", benefit.id)
    common: dict[str, Any] = {
        "sender": sender,
        "address": to.lines(),
        "place_date": place,
        "greeting": greeting,
        "footer": f"{title}. {phrases.footer.format(authority=sender[0])}",
        "reference": reference,
        "closing": (phrases.closing, *sender[:1]),
        "note": phrases.note,
    }
    if letter.kind == "coupon":
        coupon = texts.coupon
        fields = {
            **_values(campaign, letter.value, phrases),
            "year": str(decision.valid_until.year if decision.valid_until else on.year),
            "period": letter.period,
            "period_words": period,
            "valid_until": phrases.day(valid_until) if valid_until else "",
            "code": letter.code or "",
        }
        what = coupon.what_by_band.get(letter.band or "", coupon.what) or coupon.what
        why = tuple(
            benefit.conditions[name].text.get(language)
            or benefit.conditions[name].text.get("nl", name)
            for name in spec.coupon.why_conditions
            if (decision.conditions or {}).get(name) is True
        )
        blocks: list[Any] = [("p", what.format(**fields))]
        blocks += _open_part(campaign, decision, letter, coupon, texts, language)
        if why:
            blocks += [("p", coupon.why_intro), ("ul", why)]
        blocks += [
            ("h", phrases.how),
            ("p", coupon.how.format(**fields)),
            ("h", phrases.objection),
            ("p", coupon.objection.format(**fields)),
        ]
        return Letter(
            subject=coupon.subject.format(**fields),
            blocks=tuple(blocks),
            code=letter.code,
            qr=spec.coupon.verify_url.format(code=letter.code or ""),
            code_label=phrases.code_label,
            code_hint=phrases.code_hint,
            **common,
        )
    invitation = texts.invitation
    assert invitation
    # whose certificate: "het attest van het ziekenfonds van uw partner" (never a value)
    missing = getattr(decision, "missing", None)  # none in a row stored before they were kept
    bring = bring_list(invitation.bring, missing, decision.facts_missing or [], language)
    if not decision.facts_missing:
        for name in undecided_conditions(
            benefit, decision.conditions or {}, decision.facts_used or []
        ):
            item = invitation.bring.get(name)
            if item and item not in bring:
                bring.append(item)
    bring += [item for item in invitation.always_bring if item not in bring]
    blocks = [("p", invitation.body)]
    if bring:
        blocks += [("h", invitation.bring_intro), ("ul", tuple(bring))]
    if invitation.objection:
        blocks.append(("p", invitation.objection))
    return Letter(subject=invitation.subject, blocks=tuple(blocks), **common)


def _open_part(
    campaign: Campaign,
    decision: Any,
    letter: store.LetterView,
    coupon: CouponLetter | CouponTranslation,
    texts: Letters | Translation,
    language: str,
) -> list[Any]:
    """The blocks of a partial decision's letter about its open part: what may be better (the
    levels above the certain one granted) and what to bring for it, whose by relation. None for
    a complete decision."""
    outputs = decision.outputs or {}
    open_ = [name for name, value in outputs.items() if value is None]
    if decision.outcome != "eligible" or not open_:
        return []
    least = dict(getattr(decision, "at_least", None) or {})
    band = campaign.spec.band
    if not least and band in open_ and letter.band is not None:
        least = {band: letter.band}
    better: list[str] = []
    for name, level in least.items():
        output = campaign.benefit.outputs.get(name)
        if output is None or level not in output.levels:
            continue
        for above in output.levels[output.levels.index(level) + 1 :]:
            words = output.level_text.get(above, {})
            better.append(words.get(language) or words.get("nl") or str(above))
    joiner = f" {phrases_of(language).either} "
    blocks: list[Any] = [("p", coupon.open_part.format(better=joiner.join(better)))]
    invitation = texts.invitation
    known = {**(invitation.bring if invitation else {}), **coupon.open_bring}
    items = getattr(decision, "missing", None)
    bring = bring_list(known, items, decision.facts_missing or [], language)
    facts = {i["fact"] for i in items or []} or set(decision.facts_missing or [])
    for fact in sorted(facts - set(known)):  # no line in the campaign file: name the fact
        bring += [f"{_fact_words(fact, language)} ({w})" for w in owners_of(items, fact, language)]
    if bring:
        blocks += [("p", coupon.open_bring_intro), ("ul", tuple(dict.fromkeys(bring)))]
    return blocks


def _fact_words(fact: str, language: str) -> str:
    spec = default_catalogue().get(fact)
    words = dict(spec.description) if spec is not None else {}
    return words.get(language) or words.get("nl") or fact


def render_letter(ctx: CampaignContext, campaign: Campaign, run_id: int, seq: int) -> bytes:
    """One issued letter as its own PDF (to show or send again); KeyError if there is none.
    Reads only that letter and its decision (no letter there: KeyError at once)."""
    with ctx.factory() as session:
        letter = store.letter_by_seq(session, run_id, seq)
        if letter is None:
            raise KeyError(f"run {run_id} has no letter {seq}")
        run = store.get_run(session, run_id)
        decision = store.decision_of(session, run_id, letter.subject_pseudonym)
    if run is None or decision is None:
        raise KeyError(f"run {run_id} has no letter {seq}")
    folder = (run.outputs or {}).get("folder")
    addressee = None
    if folder:  # the run's index: a few rows read, not the whole extract pseudonymised
        addressee = indexed_addressee(ctx, campaign, Path(str(folder)), letter.subject_pseudonym)
    if addressee is None:
        addressee = addressee_of(ctx, campaign, letter.subject_pseudonym)
    if addressee is None:
        raise KeyError(f"letter {seq}: the addressee is no longer in the register extract")
    on = (run.decided or datetime.now(UTC)).date()
    return letter_pdf(build_letter(campaign, letter, decision, addressee, on=on))
