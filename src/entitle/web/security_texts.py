"""The interface's words for the security controls (sessions, free text, curiosity limits,
alerts), Dutch first; merged into `entitle.web.i18n.MESSAGES`."""

from __future__ import annotations

SECURITY_MESSAGES: dict[str, dict[str, str]] = {
    "nl": {
        "freetext.control": (
            "De tekst bevat onzichtbare tekens of stuurtekens ({chars}). Die zijn weggelaten: "
            "kijk de tekst na en bewaar opnieuw."
        ),
        "freetext.too_long": "De tekst is te lang (maximaal {limit} tekens).",
        "freetext.empty": "Vul de tekst in.",
        "freetext.scrubbed": (
            "Niet bewaard: de tekst bevatte {kinds}. Die horen niet in een toelichting en zijn "
            "vervangen. Kijk de tekst na en bewaar opnieuw."
        ),
        "freetext.kind.money": "een bedrag",
        "freetext.kind.date": "een datum (bv. een geboortedatum)",
        "freetext.kind.insz": "een rijksregisternummer",
        "freetext.kind.iban": "een rekeningnummer",
        "freetext.kind.email": "een e-mailadres",
        "desk.rate_limited_hour": (
            "U hebt het voorbije uur te veel controles gedaan ({limit} per uur). De auditor is "
            "verwittigd."
        ),
        "desk.rate_limited_day": (
            "U hebt vandaag te veel controles gedaan ({limit} per dag). De auditor is verwittigd."
        ),
        "desk.visit": "De burger is aan het loket (of belt of mailt zelf)",
        "desk.reason": "Reden voor deze controle",
        "desk.reason_hint": "Verplicht als de burger niet zelf om de controle vraagt.",
        "desk.reason_required": (
            "Geef een reden voor deze controle: de burger is niet aan het loket."
        ),
        "override.decision_mismatch": (
            "Deze beslissing hoort niet bij dit voordeel en deze persoon. Doe eerst de controle."
        ),
        "nav.account": "Mijn sessies",
        "nav.logout_everywhere": "Overal afmelden",
        "account.title": "Mijn account en sessies",
        "account.sessions": "Open sessies",
        "account.session": "Sessie {ref}",
        "account.this_session": "(deze sessie)",
        "account.created": "Aangemeld",
        "account.last_seen": "Laatst actief",
        "account.expires": "Verloopt",
        "account.end_others": "Alle andere sessies beëindigen",
        "account.ended": "{n} andere sessies beëindigd.",
        "account.ended.one": "1 andere sessie beëindigd.",
        "account.password": "Wachtwoord wijzigen",
        "account.password_current": "Huidig wachtwoord",
        "account.password_new": "Nieuw wachtwoord (minstens 8 tekens)",
        "account.password_submit": "Wachtwoord wijzigen",
        "account.password_wrong": "Het huidige wachtwoord is niet juist.",
        "account.password_weak": "Het nieuwe wachtwoord is te kort (minstens 8 tekens).",
        "account.password_changed": (
            "Uw wachtwoord is gewijzigd. Al uw sessies zijn beëindigd; u bent opnieuw aangemeld."
        ),
        "audit.open_alerts": "Beveiligingsmeldingen",
        "audit.no_alerts": "Geen beveiligingsmeldingen.",
        "audit.alert_line": "{time} — {actor}: {what}",
        "alert.rate_limit": "curiositeitslimiet bereikt ({limit} controles per {window})",
        "alert.window.minute": "minuut",
        "alert.window.hour": "uur",
        "alert.window.day": "dag",
    },
    "en": {
        "freetext.control": (
            "The text holds invisible or control characters ({chars}). They were left out: "
            "check the text and save again."
        ),
        "freetext.too_long": "The text is too long (at most {limit} characters).",
        "freetext.empty": "Fill in the text.",
        "freetext.scrubbed": (
            "Not saved: the text held {kinds}. Those do not belong in a note and were replaced. "
            "Check the text and save again."
        ),
        "freetext.kind.money": "an amount",
        "freetext.kind.date": "a date (e.g. a date of birth)",
        "freetext.kind.insz": "a national register number",
        "freetext.kind.iban": "a bank account number",
        "freetext.kind.email": "an e-mail address",
        "desk.rate_limited_hour": (
            "You made too many checks in the past hour ({limit} an hour). The auditor has been "
            "told."
        ),
        "desk.rate_limited_day": (
            "You made too many checks today ({limit} a day). The auditor has been told."
        ),
        "desk.visit": "The citizen is at the desk (or calls or writes themselves)",
        "desk.reason": "Reason for this check",
        "desk.reason_hint": "Required when the citizen did not ask for the check.",
        "desk.reason_required": "Give a reason for this check: the citizen is not at the desk.",
        "override.decision_mismatch": (
            "This decision is not of this benefit and this person. Run the check first."
        ),
        "nav.account": "My sessions",
        "nav.logout_everywhere": "Sign out everywhere",
        "account.title": "My account and sessions",
        "account.sessions": "Open sessions",
        "account.session": "Session {ref}",
        "account.this_session": "(this session)",
        "account.created": "Signed in",
        "account.last_seen": "Last active",
        "account.expires": "Expires",
        "account.end_others": "End all other sessions",
        "account.ended": "{n} other sessions ended.",
        "account.ended.one": "1 other session ended.",
        "account.password": "Change password",
        "account.password_current": "Current password",
        "account.password_new": "New password (at least 8 characters)",
        "account.password_submit": "Change password",
        "account.password_wrong": "The current password is not right.",
        "account.password_weak": "The new password is too short (at least 8 characters).",
        "account.password_changed": (
            "Your password is changed. All your sessions ended; you are signed in again."
        ),
        "audit.open_alerts": "Security alerts",
        "audit.no_alerts": "No security alerts.",
        "audit.alert_line": "{time} — {actor}: {what}",
        "alert.rate_limit": "curiosity limit reached ({limit} checks per {window})",
        "alert.window.minute": "minute",
        "alert.window.hour": "hour",
        "alert.window.day": "day",
    },
}
