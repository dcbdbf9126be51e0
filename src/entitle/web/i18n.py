"""Dutch first, English second: a small message catalogue and Babel's date and money formats.

The interface's own words live here (`MESSAGES`); the benefits' words (titles, condition texts,
guidance) come from the benefit files in both languages. A missing English message falls back to
Dutch, a missing Dutch one to its key (a test checks that both catalogues have the same keys).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from babel.numbers import format_currency, format_decimal

BRUSSELS = ZoneInfo("Europe/Brussels")

LANGUAGES = ("nl", "en")
DEFAULT_LANGUAGE = "nl"
LOCALES = {"nl": "nl_BE", "en": "en_BE"}
LANG_COOKIE = "entitle_lang"

MESSAGES: dict[str, dict[str, str]] = {
    "nl": {
        "app.name": "Entitle",
        "app.tagline": "Sociale voordelen, proactief toegekend",
        "skip": "Naar de inhoud",
        "nav.desk": "Balie",
        "nav.audit": "Auditlog",
        "nav.subject": "Inzageverslag",
        "nav.alerts": "Waarschuwingen",
        "nav.logout": "Afmelden",
        "nav.language": "Taal",
        "nav.signed_in_as": "Aangemeld als {user} ({role})",
        "role.desk_officer": "baliemedewerker",
        "role.campaign_manager": "campagnebeheerder",
        "role.administrator": "beheerder",
        "role.auditor": "auditor",
        "login.title": "Aanmelden",
        "login.username": "Gebruikersnaam",
        "login.password": "Wachtwoord",
        "login.submit": "Aanmelden",
        "login.failed": "Onbekende gebruikersnaam of fout wachtwoord.",
        "login.locked": (
            "Te veel mislukte pogingen: dit account is 15 minuten geblokkeerd. Probeer later "
            "opnieuw of vraag de beheerder om hulp."
        ),
        "login.disabled": "Dit account is uitgeschakeld. Vraag de beheerder om hulp.",
        "login.expired": "Uw formulier was verlopen. Meld u opnieuw aan.",
        "login.logged_out": "U bent afgemeld.",
        "desk.title": "Controle aan de balie",
        "desk.insz": "Rijksregisternummer (INSZ)",
        "desk.insz_hint": (
            "11 cijfers, met of zonder punten en streepje (bv. 85.07.30-033.28), of lees de "
            "eID in met de kaartlezer."
        ),
        "desk.benefit": "Voordeel",
        "desk.purpose": "doel",
        "desk.submit": "Controleren",
        "desk.insz_invalid": "Dit rijksregisternummer is niet geldig: {why}",
        "desk.benefit_unknown": "Kies een voordeel.",
        "desk.purpose_wrong": "Het doel {purpose} hoort niet bij dit voordeel.",
        "desk.rate_limited": (
            "U hebt de voorbije minuut te veel controles gedaan ({limit} per minuut). Wacht even "
            "en probeer opnieuw."
        ),
        "desk.config_error": (
            "De registers zijn niet correct ingesteld ({why}). Meld dit aan de beheerder."
        ),
        "card.title": "Resultaat",
        "card.person": "Rijksregisternummer",
        "card.subject_household": "Beslist voor het gezin van deze persoon",
        "card.as_of": "Datum",
        "card.purpose": "Doel",
        "card.valid_until": "Geldig tot en met",
        "card.valid_until_none": "niet van toepassing",
        "card.outcome.eligible": "Recht",
        "card.outcome.not_eligible": "Geen recht",
        "card.outcome.undetermined": "Onbepaald",
        "card.outcome_icon.eligible": "✔",
        "card.outcome_icon.not_eligible": "✘",
        "card.outcome_icon.undetermined": "?",
        "card.outcome_explain.eligible": "De burger heeft recht volgens de gegevens.",
        "card.outcome_explain.not_eligible": "Geen recht volgens de gegevens.",
        "card.outcome_explain.undetermined": (
            "Niet te beslissen: er ontbreken gegevens. Dit is geen weigering."
        ),
        "card.overridden": "Overschreven door een medewerker",
        "card.computed": "Volgens de gegevens",
        "card.override_by": (
            "{outcome} — reden: {reason}; door {actor} op {created}; geldig tot en met {until}."
        ),
        "card.note": "Toelichting",
        "card.reasons": "Voorwaarden",
        "card.mark.yes": "voldaan",
        "card.mark.no": "niet voldaan",
        "card.mark.unknown": "onbekend",
        "card.mark.skipped": "niet nodig (niet opgevraagd)",
        "card.mark.protected": "beschermd gegeven: niet getoond",
        "card.outputs": "Toe te kennen",
        "card.missing": "Wat ontbreekt",
        "card.sources": "Geraadpleegde bronnen",
        "card.sources_none": "geen",
        "card.guidance": "Wat nu?",
        "card.questions": "{n} vragen aan de bronnen",
        "card.decision_id": "Beslissing nr. {id}",
        "override.title": "Beslissing overschrijven",
        "override.intro": (
            "Enkel op basis van een bewijs of een vaststelling. De beslissing blijft zichtbaar bij "
            "elke volgende controle van deze persoon voor dit voordeel, tot de einddatum."
        ),
        "override.outcome": "Nieuwe uitkomst",
        "override.reason": "Reden",
        "override.reason.registry_lag": "Register loopt achter (recht nog niet zichtbaar)",
        "override.reason.household_situation": "Gezinssituatie (bv. gescheiden ouders, samenwonen)",
        "override.reason.document_shown": "Attest of bewijs voorgelegd",
        "override.reason.other": "Andere",
        "override.note": "Toelichting (verplicht; geen medische of inkomensgegevens)",
        "override.valid_until": "Geldig tot en met",
        "override.submit": "Overschrijven",
        "override.done": "De beslissing is overschreven.",
        "override.invalid_outcome": "Kies een uitkomst.",
        "override.invalid_reason": "Kies een reden.",
        "override.invalid_note": "Geef een toelichting (maximaal 500 tekens).",
        "override.invalid_until": "Kies een einddatum vanaf vandaag en binnen het jaar.",
        "override.forbidden": "U mag geen beslissingen overschrijven.",
        "audit.title": "Auditlog doorzoeken",
        "audit.actor": "Medewerker",
        "audit.subject": "Rijksregisternummer (optioneel)",
        "audit.kind": "Soort",
        "audit.kind_any": "alle",
        "audit.since": "Vanaf",
        "audit.until": "Tot",
        "audit.search": "Zoeken",
        "audit.results": "{n} regels",
        "audit.none": "Geen regels gevonden.",
        "audit.col.time": "Tijdstip",
        "audit.col.kind": "Soort",
        "audit.col.actor": "Wie",
        "audit.col.purpose": "Doel",
        "audit.col.subject": "Persoon (pseudoniem)",
        "audit.col.outcome": "Uitkomst",
        "audit.col.details": "Details",
        "audit.verify_ok": "De keten van het auditlog is intact ({n} regels).",
        "audit.verify_bad": "De keten van het auditlog is verbroken bij regel {n}: {problem}",
        "audit.bad_date": "Ongeldige datum.",
        "subject.title": "Inzageverslag voor een burger",
        "subject.intro": (
            "Elke controle die op deze persoon werd gedaan (recht op inzage, AVG artikel 15). "
            "Het opvragen van dit verslag wordt zelf ook gelogd."
        ),
        "subject.insz": "Rijksregisternummer",
        "subject.submit": "Verslag maken",
        "subject.download": "Downloaden (CSV)",
        "subject.report": (
            "{checks} controles gevonden; {total} regels in het log over deze persoon"
        ),
        "alerts.title": "Ongewone activiteit",
        "alerts.intro": (
            "Medewerkers met een ongewoon aantal controles (bv. meer dan 3 keer hun gewone aantal "
            "per uur, of meer dan 60 per uur)."
        ),
        "alerts.none": "Geen ongewone activiteit.",
        "error.title": "Fout",
        "error.forbidden": "U hebt geen toegang tot deze pagina.",
        "error.not_found": "Deze pagina bestaat niet.",
        "error.csrf": (
            "Het formulier is verlopen of ongeldig (beveiliging). Laad de pagina opnieuw en "
            "probeer opnieuw."
        ),
        "error.back": "Terug naar de balie",
        "error.server": "Er ging iets mis. Probeer opnieuw of meld het aan de beheerder.",
        "js.insz_length": "Nog {n} cijfer(s) nodig.",
        "js.insz_ok": "Geldig nummer.",
    },
    "en": {
        "app.name": "Entitle",
        "app.tagline": "Social benefits, granted proactively",
        "skip": "Skip to content",
        "nav.desk": "Desk",
        "nav.audit": "Audit log",
        "nav.subject": "Access report",
        "nav.alerts": "Alerts",
        "nav.logout": "Sign out",
        "nav.language": "Language",
        "nav.signed_in_as": "Signed in as {user} ({role})",
        "role.desk_officer": "desk officer",
        "role.campaign_manager": "campaign manager",
        "role.administrator": "administrator",
        "role.auditor": "auditor",
        "login.title": "Sign in",
        "login.username": "User name",
        "login.password": "Password",
        "login.submit": "Sign in",
        "login.failed": "Unknown user name or wrong password.",
        "login.locked": (
            "Too many failed attempts: this account is locked for 15 minutes. Try again later "
            "or ask the administrator for help."
        ),
        "login.disabled": "This account is disabled. Ask the administrator for help.",
        "login.expired": "Your form had expired. Please sign in again.",
        "login.logged_out": "You are signed out.",
        "desk.title": "Desk check",
        "desk.insz": "National register number (INSZ)",
        "desk.insz_hint": (
            "11 digits, with or without dots and dash (e.g. 85.07.30-033.28), or read the eID "
            "with the card reader."
        ),
        "desk.benefit": "Benefit",
        "desk.purpose": "purpose",
        "desk.submit": "Check",
        "desk.insz_invalid": "This national register number is not valid: {why}",
        "desk.benefit_unknown": "Choose a benefit.",
        "desk.purpose_wrong": "The purpose {purpose} does not belong to this benefit.",
        "desk.rate_limited": (
            "You made too many checks in the last minute ({limit} a minute). Wait a moment and "
            "try again."
        ),
        "desk.config_error": (
            "The registries are not configured correctly ({why}). Tell the administrator."
        ),
        "card.title": "Result",
        "card.person": "National register number",
        "card.subject_household": "Decided for this person's household",
        "card.as_of": "Date",
        "card.purpose": "Purpose",
        "card.valid_until": "Valid until",
        "card.valid_until_none": "not applicable",
        "card.outcome.eligible": "Eligible",
        "card.outcome.not_eligible": "Not eligible",
        "card.outcome.undetermined": "Undetermined",
        "card.outcome_icon.eligible": "✔",
        "card.outcome_icon.not_eligible": "✘",
        "card.outcome_icon.undetermined": "?",
        "card.outcome_explain.eligible": "The citizen is eligible according to the data.",
        "card.outcome_explain.not_eligible": "Not eligible according to the data.",
        "card.outcome_explain.undetermined": (
            "Cannot be decided: data is missing. This is not a refusal."
        ),
        "card.overridden": "Overridden by an officer",
        "card.computed": "According to the data",
        "card.override_by": (
            "{outcome} — reason: {reason}; by {actor} on {created}; valid until {until}."
        ),
        "card.note": "Note",
        "card.reasons": "Conditions",
        "card.mark.yes": "met",
        "card.mark.no": "not met",
        "card.mark.unknown": "unknown",
        "card.mark.skipped": "not needed (not asked)",
        "card.mark.protected": "protected data: not shown",
        "card.outputs": "To grant",
        "card.missing": "What is missing",
        "card.sources": "Sources consulted",
        "card.sources_none": "none",
        "card.guidance": "What now?",
        "card.questions": "{n} questions to the sources",
        "card.decision_id": "Decision no. {id}",
        "override.title": "Override the decision",
        "override.intro": (
            "Only on the basis of proof or a finding. The decision shows on every later check of "
            "this person for this benefit, until its end date."
        ),
        "override.outcome": "New outcome",
        "override.reason": "Reason",
        "override.reason.registry_lag": "Registry lag (right not yet visible)",
        "override.reason.household_situation": "Household situation (e.g. separated parents)",
        "override.reason.document_shown": "Certificate or proof shown",
        "override.reason.other": "Other",
        "override.note": "Note (required; no medical or income data)",
        "override.valid_until": "Valid until",
        "override.submit": "Override",
        "override.done": "The decision is overridden.",
        "override.invalid_outcome": "Choose an outcome.",
        "override.invalid_reason": "Choose a reason.",
        "override.invalid_note": "Give a note (at most 500 characters).",
        "override.invalid_until": "Choose an end date from today and within the year.",
        "override.forbidden": "You may not override decisions.",
        "audit.title": "Search the audit log",
        "audit.actor": "Officer",
        "audit.subject": "National register number (optional)",
        "audit.kind": "Kind",
        "audit.kind_any": "any",
        "audit.since": "From",
        "audit.until": "Until",
        "audit.search": "Search",
        "audit.results": "{n} entries",
        "audit.none": "No entries found.",
        "audit.col.time": "Time",
        "audit.col.kind": "Kind",
        "audit.col.actor": "Who",
        "audit.col.purpose": "Purpose",
        "audit.col.subject": "Person (pseudonym)",
        "audit.col.outcome": "Outcome",
        "audit.col.details": "Details",
        "audit.verify_ok": "The audit log's chain is intact ({n} entries).",
        "audit.verify_bad": "The audit log's chain is broken at entry {n}: {problem}",
        "audit.bad_date": "Invalid date.",
        "subject.title": "Access report for a citizen",
        "subject.intro": (
            "Every check made on this person (right of access, GDPR article 15). Asking for "
            "this report is logged too."
        ),
        "subject.insz": "National register number",
        "subject.submit": "Make the report",
        "subject.download": "Download (CSV)",
        "subject.report": "{checks} checks found; {total} entries in the log about this person",
        "alerts.title": "Unusual activity",
        "alerts.intro": (
            "Officers with an unusual number of checks (e.g. more than 3 times their usual number "
            "per hour, or more than 60 an hour)."
        ),
        "alerts.none": "No unusual activity.",
        "error.title": "Error",
        "error.forbidden": "You do not have access to this page.",
        "error.not_found": "This page does not exist.",
        "error.csrf": (
            "The form has expired or is invalid (security). Reload the page and try again."
        ),
        "error.back": "Back to the desk",
        "error.server": "Something went wrong. Try again or tell the administrator.",
        "js.insz_length": "{n} more digit(s) needed.",
        "js.insz_ok": "Valid number.",
    },
}


def negotiate(cookie: str | None, accept_language: str | None = None) -> str:
    """The language: the cookie if set, else Dutch (the city's language), whatever the browser."""
    if cookie in LANGUAGES:
        assert cookie is not None
        return cookie
    return DEFAULT_LANGUAGE


class Translator:
    """`t("key", name=value)` for one language, with formatting helpers for templates."""

    def __init__(self, lang: str) -> None:
        self.lang = lang if lang in LANGUAGES else DEFAULT_LANGUAGE
        self.locale = LOCALES[self.lang]

    def __call__(self, key: str, **values: Any) -> str:
        text = MESSAGES[self.lang].get(key) or MESSAGES[DEFAULT_LANGUAGE].get(key) or key
        return text.format(**values) if values else text

    def text(self, texts: dict[str, str] | None) -> str:
        """A bilingual text from a benefit file."""
        if not texts:
            return ""
        return texts.get(self.lang) or texts.get(DEFAULT_LANGUAGE) or next(iter(texts.values()))

    def day(self, value: date | None) -> str:
        if value is None:
            return ""
        return format_date(value, format="long", locale=self.locale)

    def moment(self, value: datetime | str | None) -> str:
        if value is None:
            return ""
        if isinstance(value, str):
            try:
                moment = datetime.fromisoformat(value)
            except ValueError:
                return value
        else:
            moment = value
        return format_datetime(moment, format="medium", tzinfo=BRUSSELS, locale=self.locale)

    def money(self, euros: float) -> str:
        return format_currency(euros, "EUR", locale=self.locale)

    def number(self, value: float) -> str:
        return format_decimal(value, locale=self.locale)
