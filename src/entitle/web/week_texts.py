"""The words of the campaign's week-by-week view (weekly follow-up), Dutch first and English.

Kept apart from the main catalogue like the security texts; `entitle.web.i18n` adds them."""

from __future__ import annotations

WEEK_MESSAGES: dict[str, dict[str, str]] = {
    "nl": {
        "weeks.link": "Week per week",
        "weeks.title": "Week per week: {campaign}",
        "weeks.intro": (
            "Elke week beslist Entitle opnieuw over wie de mutaties van het Rijksregister en de "
            "KSZ raken. Nieuw rechthebbenden krijgen hun brief binnen de doorlopende goedkeuring; "
            "u kunt de brieven van een week tegenhouden tot ze vertrekken."
        ),
        "weeks.back": "Terug naar de campagnes",
        "weeks.standing": (
            "Wekelijkse opvolging goedgekeurd door {actor} tot en met {until}, bij run {run}."
        ),
        "weeks.standing_scope": (
            "Nieuw rechthebbend: {new}; onbepaald: {undetermined}; ander bedrag of tarief: "
            "{changed}; niet langer rechthebbend: {ended}."
        ),
        "weeks.no_standing": (
            "Nog geen doorlopende goedkeuring: de brieven van een week wachten op de volgende "
            "goedgekeurde run. Een campagnebeheerder die een run goedkeurde, keurt de wekelijkse "
            "opvolging goed met 'entitle watch approve'."
        ),
        "weeks.not_weekly": "Deze campagne heeft geen wekelijkse opvolging (follow_up.weekly).",
        "weeks.none": "Nog geen week opgevolgd.",
        "weeks.scope.letter": "brief",
        "weeks.scope.invitation": "uitnodiging",
        "weeks.scope.record": "alleen geregistreerd",
        "weeks.scope.notify": "bericht",
        "weeks.chart": "Nieuw, gewijzigd en beëindigd per week",
        "weeks.chart_week": "Week {week} ({day})",
        "weeks.series.new": "nieuw",
        "weeks.series.changed": "gewijzigd",
        "weeks.series.ended": "beëindigd",
        "weeks.delay": "Tijd van wijziging in het register tot brief",
        "weeks.delay_summary": (
            "Mediaan {median} dagen, 95e percentiel {p95} dagen, over {count} brieven."
        ),
        "weeks.delay_none": "Nog geen brief verstuurd na een gemelde wijziging.",
        "weeks.table": "Wekelijkse batches van {campaign}",
        "weeks.col.week": "Week",
        "weeks.col.day": "Datum",
        "weeks.col.new": "Nieuw",
        "weeks.col.changed": "Gewijzigd",
        "weeks.col.ended": "Beëindigd",
        "weeks.col.batch": "Batch",
        "weeks.col.letters": "Brieven",
        "weeks.col.median": "Mediaan (dagen)",
        "weeks.col.p95": "P95 (dagen)",
        "weeks.col.action": "Actie",
        "weeks.status.baseline": "vertrekpunt",
        "weeks.status.empty": "niets te versturen",
        "weeks.status.unapproved": "niet goedgekeurd",
        "weeks.status.ready": "klaar om te versturen",
        "weeks.status.held": "tegengehouden",
        "weeks.status.issuing": "wordt verstuurd",
        "weeks.status.issued": "verstuurd",
        "weeks.hold": "Tegenhouden",
        "weeks.release": "Vrijgeven",
        "weeks.hold_label": "Tegenhouden: week {week}",
        "weeks.release_label": "Vrijgeven: week {week}",
        "weeks.done.held": "De batch van week {week} is tegengehouden.",
        "weeks.done.ready": "De batch van week {week} is vrijgegeven.",
        "weeks.refused": "Dat kan niet: {why}",
    },
    "en": {
        "weeks.link": "Week by week",
        "weeks.title": "Week by week: {campaign}",
        "weeks.intro": (
            "Every week Entitle decides again for whom the National Register's and the CBSS's "
            "mutations matter. Newly entitled people get their letter within the standing "
            "approval; you can hold a week's letters until they go out."
        ),
        "weeks.back": "Back to the campaigns",
        "weeks.standing": "Weekly follow-up approved by {actor} until {until}, with run {run}.",
        "weeks.standing_scope": (
            "Newly entitled: {new}; undetermined: {undetermined}; another amount or tariff: "
            "{changed}; no longer entitled: {ended}."
        ),
        "weeks.no_standing": (
            "No standing approval yet: a week's letters wait for the next approved run. A "
            "campaign manager who approved a run approves the weekly follow-up with "
            "'entitle watch approve'."
        ),
        "weeks.not_weekly": "This campaign has no weekly follow-up (follow_up.weekly).",
        "weeks.none": "No week followed up yet.",
        "weeks.scope.letter": "letter",
        "weeks.scope.invitation": "invitation",
        "weeks.scope.record": "recorded only",
        "weeks.scope.notify": "notification",
        "weeks.chart": "New, changed and ended per week",
        "weeks.chart_week": "Week {week} ({day})",
        "weeks.series.new": "new",
        "weeks.series.changed": "changed",
        "weeks.series.ended": "ended",
        "weeks.delay": "Time from registry change to letter",
        "weeks.delay_summary": (
            "Median {median} days, 95th percentile {p95} days, over {count} letters."
        ),
        "weeks.delay_none": "No letter sent after a notified change yet.",
        "weeks.table": "Weekly batches of {campaign}",
        "weeks.col.week": "Week",
        "weeks.col.day": "Date",
        "weeks.col.new": "New",
        "weeks.col.changed": "Changed",
        "weeks.col.ended": "Ended",
        "weeks.col.batch": "Batch",
        "weeks.col.letters": "Letters",
        "weeks.col.median": "Median (days)",
        "weeks.col.p95": "P95 (days)",
        "weeks.col.action": "Action",
        "weeks.status.baseline": "baseline",
        "weeks.status.empty": "nothing to send",
        "weeks.status.unapproved": "not approved",
        "weeks.status.ready": "ready to send",
        "weeks.status.held": "held",
        "weeks.status.issuing": "being sent",
        "weeks.status.issued": "sent",
        "weeks.hold": "Hold",
        "weeks.release": "Release",
        "weeks.hold_label": "Hold: week {week}",
        "weeks.release_label": "Release: week {week}",
        "weeks.done.held": "The batch of week {week} is held.",
        "weeks.done.ready": "The batch of week {week} is released.",
        "weeks.refused": "Not possible: {why}",
    },
}
