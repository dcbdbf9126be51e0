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

from entitle.rules.periods import Period, period_words
from entitle.web.security_texts import SECURITY_MESSAGES
from entitle.web.week_texts import WEEK_MESSAGES

# the time zone every page, letter and "today" of the desk is in
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
        "role.coupon_verifier": "boncontrole (handelaar, IVAGO)",
        "login.title": "Aanmelden",
        "login.username": "Gebruikersnaam",
        "login.password": "Wachtwoord",
        "login.submit": "Aanmelden",
        "login.failed": (
            "Onbekende gebruikersnaam of fout wachtwoord (of te veel pogingen na elkaar: wacht "
            "een minuut)."
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
        "card.period": "Beslist voor",
        "card.outcome.eligible": "Recht",
        "card.outcome.not_eligible": "Geen recht",
        "card.outcome.undetermined": "Onbepaald",
        "card.outcome_icon.eligible": "✔",
        "card.outcome_icon.not_eligible": "✘",
        "card.outcome_icon.undetermined": "?",
        "card.outcome.unknown_number": "Nummer niet gekend",
        "card.outcome_icon.unknown_number": "!",
        "card.outcome_explain.unknown_number": (
            "Dit nummer is niet gekend in het rijksregister: controleer de eID."
        ),
        "card.guidance_unknown_number": (
            "Lees de eID opnieuw in of vergelijk het nummer cijfer voor cijfer met de kaart. Klopt "
            "het nummer, dan is de persoon (nog) niet ingeschreven: verwijs naar de dienst "
            "Burgerzaken. Dit is geen weigering."
        ),
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
        "card.certain": "zeker: {value}",
        "card.still_open": "nog open: {value}",
        "card.settled_by": "ontbreekt: {facts}",
        "card.facts_of": "{facts} van {whose}",
        "card.or": " of ",
        "card.and": " en ",
        "card.open": "nog open",
        "card.missing_of": "van: {whose}",
        "card.missing": "Wat ontbreekt",
        "card.not_inscribed": (
            "Deze persoon is niet ingeschreven in het verwijzingsrepertorium van de Kruispuntbank "
            "voor dit doel: daarom gaf de KSZ geen gegevens."
        ),
        "card.not_inscribed_guidance": (
            "Schrijf de persoon in (de knop hieronder) en controleer opnieuw, of vraag het attest "
            "(bv. van het ziekenfonds) aan de burger."
        ),
        "card.inscribe": "Inschrijven en opnieuw controleren",
        "card.inscribed": (
            "De persoon is ingeschreven voor dit doel; hieronder het nieuwe resultaat."
        ),
        "card.inscribe_failed": "Inschrijven is niet gelukt ({outcome}). Probeer later opnieuw.",
        "card.sources": "Geraadpleegde bronnen",
        "card.sources_none": "geen",
        "card.guidance": "Wat nu?",
        "card.guidance_more": "Meer uitleg bij deze uitkomst",
        "card.questions": "{n} vragen aan de bronnen",
        "card.questions.one": "1 vraag aan de bronnen",
        "value.exemption": "vrijstelling",
        "value.reduced": "verlaagd tarief",
        "card.letters": "Brief",
        "card.letter.coupon": (
            "Brief met bon verstuurd op {issued} ({campaign}, {period}; kenmerk {ref})."
        ),
        "card.letter.invitation": (
            "Uitnodiging verstuurd op {issued} ({campaign}, {period}; kenmerk {ref})."
        ),
        "card.coupon_used": "De bon werd gebruikt op {used}.",
        "card.coupon_unused": "De bon is nog niet gebruikt (geldig tot en met {until}).",
        "card.no_letter": "Er werd nog geen brief over deze burger of dit gezin verstuurd.",
        "card.guidance_letter_sent": (
            "De brief over dit voordeel is al verstuurd (zie hierboven): geen aanvraag of attest "
            "nodig. Is de brief kwijt, druk hem dan opnieuw af."
        ),
        "card.reprint": "Brief opnieuw afdrukken",
        "others.title": "Andere voordelen voor deze persoon",
        "others.intro": "Deze voordelen van de gemeente kunt u ook controleren, "
        "elk voor zijn eigen doel:",
        "others.submit": "Controleer ook deze voordelen",
        "others.automatic": "Automatisch gecontroleerd (instelling van de gemeente)",
        "others.refused": "Niet gecontroleerd: {why}",
        "others.rate_limited": "limiet van {limit} controles per minuut bereikt",
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
        "override.no_refusal_on_undetermined": (
            'Een onbepaalde beslissing wordt nooit overschreven naar "Geen recht": ontbrekende '
            "gegevens zijn geen weigering."
        ),
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
        "audit.results.one": "1 regel",
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
        "audit.kind.check": "Controle aan de balie",
        "audit.kind.api_check": "Controle via de API",
        "audit.kind.override": "Overschrijving",
        "audit.kind.login": "Aanmelding",
        "audit.kind.login_failed": "Mislukte aanmelding",
        "audit.kind.logout": "Afmelding",
        "audit.kind.export": "Uitvoer of gebruik",
        "audit.kind.audit_search": "Zoekopdracht in het auditlog",
        "audit.kind.subject_report": "Inzageverslag",
        "audit.kind.admin": "Beheer",
        "audit.kind.check_refused": "Geweigerde controle (limiet)",
        "audit.kind.decision_read": "Beslissing gelezen via de API",
        "audit.kind.session": "Sessies beëindigd",
        "audit.kind.retention": "Bewaartermijn toegepast",
        "audit.kind.inscription": "Inschrijving bij de Kruispuntbank",
        "audit.kind.campaign_decision": "Beslissing in een campagne",
        "audit.kind.letter": "Brief",
        "audit.kind.registry_access": "Vraag aan een bron",
        "audit.outcome.eligible": "recht",
        "audit.outcome.not_eligible": "geen recht",
        "audit.outcome.undetermined": "onbepaald",
        "audit.outcome.overridden": "{effective} (overschreven; volgens de gegevens: {computed})",
        "audit.outcome.coupon_used": "Bon gebruikt",
        "audit.outcome.letter_reprint": "Brief opnieuw afgedrukt",
        "audit.outcome.campaign_download": "bestand gedownload",
        "audit.outcome.campaign_issued": "brieven en lijsten aangemaakt",
        "audit.outcome.campaign_approve": "run goedgekeurd",
        "audit.outcome.campaign_reject": "run afgewezen",
        "audit.outcome.campaign_run_started": "run gestart",
        "audit.outcome.campaign_run_draft": "run klaar voor nazicht",
        "audit.outcome.campaign_run_abandoned": "run stopgezet",
        "audit.outcome.campaign_simulate": "wat-als-berekening",
        "audit.outcome.purged": "gewist na de bewaartermijn",
        "audit.outcome.token_created": "API-sleutel gemaakt",
        "audit.outcome.user_added": "gebruiker toegevoegd",
        "audit.outcome.user_disabled": "gebruiker uitgeschakeld",
        "audit.outcome.issued": "verstuurd",
        "audit.outcome.ok": "antwoord gekregen",
        "audit.outcome.kept": "gelezen uit een antwoord dat al binnen was",
        "audit.outcome.no_data": "geen gegevens",
        "audit.outcome.retry": "bron niet bereikbaar",
        "audit.outcome.refused": "geweigerd",
        "audit.outcome.bad_request": "foute vraag",
        "audit.outcome.error": "fout",
        "audit.outcome.unknown": "onbekende gebruiker",
        "audit.outcome.bad_password": "fout wachtwoord",  # nosec B105 - a label, not a secret
        "audit.outcome.locked": "geblokkeerd",
        "audit.outcome.disabled": "uitgeschakeld",
        "audit.detail.benefit": "voordeel",
        "audit.detail.version": "versie",
        "audit.detail.questions": "vragen",
        "audit.detail.decision": "beslissing",
        "audit.detail.overridden": "overschreven",
        "audit.detail.effective_outcome": "geldende uitkomst",
        "audit.detail.reason": "reden",
        "audit.detail.valid_until": "geldig tot en met",
        "audit.detail.override": "overschrijving",
        "audit.detail.campaign": "campagne",
        "audit.detail.run": "run",
        "audit.detail.file": "bestand",
        "audit.detail.period": "periode",
        "audit.detail.role": "rol",
        "audit.detail.report": "verslag",
        "audit.detail.format": "formaat",
        "audit.detail.entries": "regels",
        "audit.detail.by_subject": "op persoon",
        "audit.detail.results": "resultaten",
        "audit.detail.source": "bron",
        "audit.detail.facts": "gegevens",
        "audit.detail.letter": "brief nr.",
        "audit.detail.letter_kind": "soort brief",
        "audit.detail.used": "gebruikt op",
        "audit.detail.as_of": "datum",
        "audit.detail.change": "verandering",
        "audit.detail.actor": "door",
        "audit.detail.kind": "soort",
        "audit.detail.since": "vanaf",
        "audit.detail.until": "tot",
        "audit.yes": "ja",
        "audit.no": "nee",
        "audit.letter_kind.coupon": "brief met bon",
        "audit.letter_kind.invitation": "uitnodiging",
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
        "error.database": (
            "De databank is even niet bereikbaar. Probeer het zo dadelijk opnieuw; meld het aan "
            "de beheerder als het blijft duren."
        ),
        "js.insz_length": "Nog {n} cijfer(s) nodig.",
        "js.insz_ok": "Geldig nummer.",
        "nav.campaigns": "Campagnes",
        "nav.coupons": "Bonnen",
        "campaign.title": "Campagnes",
        "campaign.intro": (
            "Proactieve campagnes: per run de beslissingen, wie er bijkomt of wegvalt en welke "
            "brieven vertrekken. Niets wordt verstuurd voor een campagnebeheerder de run goedkeurt."
        ),
        "campaign.none": "Er zijn geen campagnes ingesteld.",
        "campaign.load_error": "De campagnebestanden konden niet gelezen worden: {error}",
        "campaign.no_runs": "Nog geen runs.",
        "campaign.runs": "Runs van {campaign}",
        "campaign.benefit": "Voordeel",
        "campaign.target": "Doelgroep",
        "campaign.review": "Nazicht",
        "campaign.review_one": "één campagnebeheerder keurt goed",
        "campaign.review_two": "twee verschillende campagnebeheerders keuren goed (vier ogen)",
        "campaign.run_link": "Run {id}",
        "campaign.col.run": "Run",
        "campaign.col.as_of": "Peildatum",
        "campaign.col.status": "Status",
        "campaign.col.new": "Nieuw",
        "campaign.col.ended": "Beëindigd",
        "campaign.col.letters": "Brieven",
        "campaign.col.approvals": "Goedkeuringen",
        "campaign.col.pending": "In afwachting",
        "campaign.status.running": "bezig",
        "campaign.status.draft": "ontwerp: wacht op nazicht",
        "campaign.status.approved": "goedgekeurd",
        "campaign.status.rejected": "afgewezen",
        "campaign.status.issued": "verstuurd",
        "campaign.target.households": "alle gezinnen van de gemeente",
        "campaign.target.persons": "de inwoners van de gemeente",
        "campaign.target.pupils": "de leerlingen van de stedelijke scholen en opvang",
        "campaign.change.new": "nieuw",
        "campaign.change.continued": "verlengd (zelfde band)",
        "campaign.change.changed": "andere band",
        "campaign.change.ended": "beëindigd",
        "campaign.change.unknown": "vroeger recht, nu onbepaald",
        "campaign.change.undetermined": "onbepaald, vroeger geen recht",
        "campaign.chart_issued": "Bonnen verstuurd per week",
        "campaign.chart_used": "Bonnen gebruikt per week",
        "campaign.chart_reach": "Met recht: dit jaar tegenover het vorige",
        "campaign.chart_cost": "Kosten voor {band} per run ({period})",
        "campaign.week_of": "week van {day}",
        "campaign.period_label": "periode {period}",
        "campaign.eligible_count": "{n} met recht",
        "campaign.change.none": "geen recht, ook vroeger niet",
        "campaign.outcome.pending": "in afwachting (fout bij ons of de bron, volgende run)",
        "campaign.missing_of": "{fact} (van: {whose})",
        "run.partial": (
            "{n} zeker rechthebbend met een deel nog open: zij krijgen het zekere deel (bv. het "
            "verlaagd tarief) en de vraag welk attest de rest beslist."
        ),
        "run.by_bounds": (
            "{n} beslist doordat een onbekende waarde de grens niet kan overschrijden."
        ),
        "campaign.change.pending": "in afwachting: de volgende run beslist",
        "run.title": "{campaign}: run {id}",
        "run.back": "Terug naar de campagnes",
        "run.as_of": "Peildatum",
        "run.period": "Periode",
        "run.period_words": "{period}, geldig tot en met {until}",
        "run.status": "Status",
        "run.benefit": "Voordeel (versie)",
        "run.started": "Gestart",
        "run.finished": "Beslist",
        "run.progress": (
            "Deze run is nog bezig: {done} van {total} delen beslist ({subjects} van {all})."
        ),
        "run.paused": (
            "Deze run is gepauzeerd bij deel {chunk}: {pending} van {subjects} konden niet beslist "
            "worden door een fout aan onze kant ({reasons}). Er werd niets van dat deel bewaard. "
            "Los de oorzaak op en start de campagne opnieuw om verder te gaan."
        ),
        "run.pending": (
            "{n} wachtend door een fout aan onze kant ({reasons}): zij krijgen geen brief; de "
            "volgende run beslist hen."
        ),
        "run.review": "Nazicht voor verzending",
        "run.review_intro": (
            "Bekijk de cijfers en de steekproef hieronder. Pas na goedkeuring worden de brieven en "
            "lijsten aangemaakt; een afgewezen run verstuurt niets."
        ),
        "run.four_eyes": (
            "Vier ogen: deze run heeft {required} goedkeuringen nodig van verschillende "
            "campagnebeheerders. Nu: {n}."
        ),
        "run.you_reviewed": (
            "U hebt deze run al nagekeken. Een andere campagnebeheerder moet de volgende "
            "goedkeuring geven."
        ),
        "run.note": "Opmerking (verplicht bij afwijzen)",
        "run.approve": "Goedkeuren en versturen",
        "run.approve_partly": "Goedkeuren",
        "run.confirm_title": "Bevestig de verzending",
        "run.validity_past": (
            "Let op: de beslissingen van deze run (peildatum {as_of}) gelden maar tot en met "
            "{until}, en die datum is voorbij. Brieven of lijsten zouden al verlopen zijn: wijs "
            "de run af en start er een op een recentere peildatum."
        ),
        "run.validity_short": (
            "Let op: de beslissingen van deze run gelden maar tot en met {until}, nog {days} "
            "dagen. Bonnen of lijsten zijn dan snel verlopen."
        ),
        "run.confirm_letters": "U verstuurt nu {n} brieven, samen {amount}.",
        "run.confirm_lists": (
            "U maakt nu de facturatielijsten voor {n} leerlingen, samen geschat {amount} korting."
        ),
        "run.confirm_final": "Dit kan niet ongedaan gemaakt worden.",
        "run.confirm_yes_letters": "Ja, {n} brieven versturen",
        "run.confirm_yes_lists": "Ja, de lijsten voor {n} leerlingen aanmaken",
        "run.confirm_cancel": "Annuleren",
        # i16-flow: an expired run refused, an empty run warned
        "run.refused_expired": (
            "Geweigerd: de beslissingen van deze run (peildatum {as_of}) gelden maar tot en met "
            "{until}, en die datum is voorbij. Brieven en facturatielijsten zouden al verlopen "
            "zijn. Wijs de run af en start de campagne opnieuw op een recente peildatum."
        ),
        "run.empty": (
            "Let op: deze run is leeg. Er gaat geen enkele brief uit en er staat geen enkele "
            "leerling op de lijsten. Kijk de peildatum en de doelgroep na."
        ),
        "run.reject": "Afwijzen",
        "run.reject_note_needed": "Geef een reden voor de afwijzing.",
        "run.due": "Bij goedkeuring: {coupon} brieven met een bon en {invitation} uitnodigingen.",
        "run.verdicts": "Nazicht",
        "run.verdict_approve": "Goedgekeurd door {actor} op {time}",
        "run.verdict_reject": "Afgewezen door {actor} op {time}",
        "run.notice.approved": "De run is goedgekeurd. De brieven en lijsten worden aangemaakt.",
        "run.notice.approved_partly": (
            "Uw goedkeuring is genoteerd. Een tweede campagnebeheerder moet nog goedkeuren."
        ),
        "run.notice.rejected": "De run is afgewezen. Er wordt niets verstuurd.",
        "run.notice.issuing": "De brieven en lijsten worden aangemaakt.",
        "run.issuing": (
            "De brieven en lijsten worden nu aangemaakt. Vernieuw deze pagina binnen enkele "
            "ogenblikken."
        ),
        "run.not_issued": "Goedgekeurd, maar de brieven en lijsten zijn nog niet aangemaakt.",
        "run.issue": "Brieven en lijsten aanmaken",
        "run.reissue": "Bestanden opnieuw aanmaken",
        "run.files": "Brieven en lijsten",
        "run.file_letters": "Alle brieven in één PDF om af te drukken ({pages} pagina's)",
        "run.file_billing": "Facturatielijst {name}",
        "run.file_all_billing": "Alle facturatielijsten in één ZIP-bestand ({n} scholen)",
        "run.file_per_school": "Elke lijst apart ({n} bestanden)",
        "run.file_notifications": "Meldingen voor e-mail, sms en het digitale loket ({n})",
        "run.file_one_letter": "Eén brief apart (nr. 1)",
        "run.issued_counts": (
            "{coupon} brieven met een bon en {invitation} uitnodigingen aangemaakt."
        ),
        "run.skipped": (
            "{n} brieven niet aangemaakt: geen adres in het uittreksel uit het register."
        ),
        "run.refused_status": "Deze run kan niet meer nagekeken worden: hij is {status}.",
        "run.refused_already": (
            "U hebt deze run al nagekeken. Een andere campagnebeheerder moet de volgende "
            "goedkeuring geven."
        ),
        "run.refused": "Niet toegestaan: {why}",
        "run.refused_issue": "Enkel een goedgekeurde run maakt brieven en lijsten aan.",
        "run.unknown_campaign": "De campagne van deze run is niet (meer) ingesteld.",
        "run.figures": "Cijfers",
        "run.subjects": "{n} beslist",
        "run.outcomes": "Uitkomsten",
        "run.changes": "Tegenover de vorige goedgekeurde run",
        "run.first_run": "Er is geen vorige goedgekeurde run: wie recht heeft, is nieuw.",
        "run.bands": "Per band",
        "run.col.band": "Band",
        "run.col.count": "Aantal",
        "run.col.cost": "Kost",
        "run.col.outcome": "Uitkomst",
        "run.col.change": "Verandering",
        "run.col.reason": "Reden",
        "run.col.fact": "Gegeven",
        "run.cost_total": "Geschatte kost van alle toekenningen: {cost}",
        "run.undetermined": "Waarom onbepaald",
        "run.undetermined_none": "Niemand is onbepaald.",
        "run.reason_condition": "voorwaarde niet te beslissen: {text}",
        "run.reason_outputs": "bedrag niet te berekenen",
        "run.reason_not_in_register": "niet in het uittreksel uit het register",
        "run.letters": "Brieven",
        "run.letters_issued": "Aangemaakt",
        "run.letters_due": "Bij goedkeuring",
        "run.letter_coupon": "Brieven met een bon",
        "run.letter_invitation": "Uitnodigingen aan de balie",
        "run.reach": "Bereik tegenover de werkelijkheid (synthetische stad)",
        "run.reach_intro": (
            "Op de synthetische stad is bekend wie echt recht heeft. Zo zien we hoeveel van hen "
            "de campagne vindt, en of iemand ten onrechte recht krijgt."
        ),
        "run.reach_truly_entitled": "Echt rechthebbend",
        "run.reach_reached": "Automatisch bereikt",
        "run.reach_flagged": "Onbepaald gelaten, uitgenodigd aan de balie",
        "run.reach_missed": "Gemist",
        "run.reach_share_reached": "Aandeel bereikt",
        "run.reach_share_reached_or_flagged": "Aandeel bereikt of uitgenodigd",
        "run.reach_wrongly_eligible": "Ten onrechte recht gegeven",
        "run.reach_wrongly_eligible_current": (
            "Ten onrechte recht gegeven terwijl het register actueel was (moet 0 zijn)"
        ),
        "run.reach_truth_undetermined": "Recht gegeven, werkelijkheid onduidelijk",
        "run.reach_chart": "Echt rechthebbenden",
        "run.sample": "Steekproef van beslissingen",
        "run.sample_intro": (
            "Enkele beslissingen per uitkomst, met hun redenen. Geen namen, geen "
            "rijksregisternummers en geen waarden uit de bronnen: een pseudoniem, de uitkomst, "
            "de voorwaarden en wat ontbreekt."
        ),
        "run.sample_changes": "Steekproef van veranderingen",
        "run.sample_subject": "Pseudoniem",
        "run.sample_grant": "Toegekend",
        "run.sample_conditions": "Voorwaarden",
        "run.sample_missing": "Ontbreekt",
        "run.sample_none": "Geen beslissingen.",
        "run.sample_previous": "vroeger: {band}",
        "run.fetched": "Opgevraagde gegevens",
        "run.fetched_intro": (
            "{questions} vragen aan de bronnen; per gegeven het aantal opgevraagd."
        ),
        "whatif.title": "Wat als?",
        "whatif.intro": (
            "Bereken een campagne opnieuw met andere waarden voor de parameters van het voordeel, "
            "op dezelfde gegevens, en vergelijk. Er wordt niets opgeslagen en niets verstuurd. "
            "Dit kan even duren: de gegevens worden bij de bronnen opgevraagd."
        ),
        "whatif.campaign": "Campagne",
        "whatif.choose": "Kiezen",
        "whatif.as_of": "Peildatum",
        "whatif.parameters": "Parameters van {benefit}",
        "whatif.hint": (
            "Laat een veld leeg om de waarde te behouden. Bedragen in euro (bv. 45000); tabellen "
            "en banden zoals de huidige waarde geschreven is."
        ),
        "whatif.col.parameter": "Parameter",
        "whatif.col.now": "Nu van kracht",
        "whatif.col.new": "Nieuwe waarde",
        "whatif.submit": "Berekenen",
        "whatif.none_changed": "Geef minstens één parameter een nieuwe waarde.",
        "whatif.invalid": "Ongeldige waarde: {why}",
        "whatif.bad_date": "Ongeldige datum.",
        "whatif.failed": "De berekening kon niet lopen: {why}",
        "whatif.result": "Resultaat",
        "whatif.nothing_stored": "Niets werd opgeslagen of verstuurd.",
        "whatif.subjects": "{n} beslist op {as_of}.",
        "whatif.progress_title": "Voortgang",
        "whatif.step": (
            "Deel {chunk} van {chunks}: {decided} van {subjects} {noun} beslist; recht nu "
            "{baseline}, met de nieuwe waarden {variant}."
        ),
        "whatif.empty": (
            "Op {as_of} vond de berekening geen {noun}: er zijn geen gegevens voor die datum (bv. "
            "geen inschrijvingen voor dat schooljaar). Kies de datum van een run die wel {noun} "
            "vond."
        ),
        "whatif.busy": (
            "De berekening loopt: alle gegevens van de doelgroep worden twee keer beslist. Dat "
            "kan een halve minuut duren. Verstreken: {seconds} s."
        ),
        "whatif.reached": "Bereikt: nu {baseline}, met de nieuwe waarden {variant}",
        "whatif.reached_difference": "{difference} {noun}",
        "whatif.cost": "Kost: nu {baseline}, met de nieuwe waarden {variant}",
        "whatif.noun.households": "gezinnen",
        "whatif.noun.persons": "personen",
        "whatif.noun.pupils": "leerlingen",
        "whatif.by_band": "Per band",
        "whatif.col.baseline": "Nu",
        "whatif.col.variant": "Nieuw",
        "whatif.col.difference": "Verschil",
        "whatif.col.cost_baseline": "Kost nu",
        "whatif.col.cost_variant": "Kost nieuw",
        "whatif.outcomes": "Uitkomsten",
        "whatif.transitions": "Wie van uitkomst verandert",
        "whatif.transitions_none": "Niemand verandert van uitkomst.",
        "whatif.chart": "Aantal per band, nu en met de nieuwe waarden",
        "whatif.bar_baseline": "{band}: nu",
        "whatif.bar_variant": "{band}: nieuw",
        "coupon.title": "Bon controleren",
        "coupon.intro": (
            "Voor verkooppunten en IVAGO: typ of scan de code op de brief. U ziet of de bon "
            "geldig is en of hij al gebruikt werd, niet van wie hij is."
        ),
        "coupon.code": "Code van de bon",
        "coupon.code_hint": (
            "16 tekens, bv. 7KQ2-M9XD-4HTR-ZB1C. Kleine letters, spaties en streepjes mogen; een "
            "gescande QR-code ook."
        ),
        "coupon.verify": "Controleren",
        "coupon.use": "Bon gebruiken (kan maar één keer)",
        "coupon.valid": "Geldige bon: nog niet gebruikt.",
        "coupon.invalid": "Onbekende of ongeldige code. Controleer de code op de brief.",
        "coupon.used_on": "Al gebruikt op {when}.",
        "coupon.already_used": (
            "Deze bon werd al gebruikt op {when}. Hij kan geen tweede keer gebruikt worden."
        ),
        "coupon.just_used": "De bon is nu gebruikt ({when}).",
        "coupon.expired": "Vervallen: deze bon was geldig tot en met {until}.",
        "coupon.campaign": "Campagne",
        "coupon.period": "Periode",
        "coupon.value": "Waarde",
        "coupon.band": "Band",
        "coupon.valid_until": "Geldig tot en met",
        "coupon.rate_limited": "Te veel controles op korte tijd ({limit} per minuut). Wacht even.",
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
        "role.coupon_verifier": "coupon verification (shop, IVAGO)",
        "login.title": "Sign in",
        "login.username": "User name",
        "login.password": "Password",
        "login.submit": "Sign in",
        "login.failed": (
            "Unknown user name or wrong password (or too many attempts in a row: wait a minute)."
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
        "card.period": "Decided for",
        "card.outcome.eligible": "Eligible",
        "card.outcome.not_eligible": "Not eligible",
        "card.outcome.undetermined": "Undetermined",
        "card.outcome_icon.eligible": "✔",
        "card.outcome_icon.not_eligible": "✘",
        "card.outcome_icon.undetermined": "?",
        "card.outcome.unknown_number": "Number not known",
        "card.outcome_icon.unknown_number": "!",
        "card.outcome_explain.unknown_number": (
            "The national register does not know this number: check the eID."
        ),
        "card.guidance_unknown_number": (
            "Read the eID again or compare the number digit by digit with the card. If the number "
            "is right, the person is not registered (yet): refer them to Civil Affairs. This is "
            "not a refusal."
        ),
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
        "card.certain": "certain: {value}",
        "card.still_open": "still open: {value}",
        "card.settled_by": "missing: {facts}",
        "card.facts_of": "{facts} of {whose}",
        "card.or": " or ",
        "card.and": " and ",
        "card.open": "still open",
        "card.missing_of": "of: {whose}",
        "card.missing": "What is missing",
        "card.not_inscribed": (
            "This person is not inscribed in the Crossroads Bank's reference directory for this "
            "purpose: that is why the KSZ gave no data."
        ),
        "card.not_inscribed_guidance": (
            "Inscribe the person (the button below) and check again, or ask the citizen for the "
            "certificate (e.g. from the health insurer)."
        ),
        "card.inscribe": "Inscribe and check again",
        "card.inscribed": "The person is inscribed for this purpose; the new result is below.",
        "card.inscribe_failed": "The inscription did not succeed ({outcome}). Try again later.",
        "card.sources": "Sources consulted",
        "card.sources_none": "none",
        "card.guidance": "What now?",
        "card.guidance_more": "More about this outcome",
        "card.questions": "{n} questions to the sources",
        "card.questions.one": "1 question to the sources",
        "value.exemption": "exemption",
        "value.reduced": "reduced tariff",
        "card.letters": "Letter",
        "card.letter.coupon": (
            "Letter with a coupon sent on {issued} ({campaign}, {period}; reference {ref})."
        ),
        "card.letter.invitation": (
            "Invitation sent on {issued} ({campaign}, {period}; reference {ref})."
        ),
        "card.coupon_used": "The coupon was used on {used}.",
        "card.coupon_unused": "The coupon has not been used yet (valid until {until}).",
        "card.no_letter": "No letter has been sent about this citizen or household yet.",
        "card.guidance_letter_sent": (
            "The letter about this benefit has already been sent (see above): no application or "
            "certificate needed. If the letter is lost, print it again."
        ),
        "card.reprint": "Print the letter again",
        "others.title": "Other benefits for this person",
        "others.intro": "You can also check these benefits of the municipality, "
        "each for its own purpose:",
        "others.submit": "Check these benefits too",
        "others.automatic": "Checked automatically (the municipality's setting)",
        "others.refused": "Not checked: {why}",
        "others.rate_limited": "limit of {limit} checks a minute reached",
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
        "override.no_refusal_on_undetermined": (
            'An undetermined decision is never overridden to "Not eligible": missing data is '
            "not a refusal."
        ),
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
        "audit.results.one": "1 entry",
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
        "audit.kind.check": "Desk check",
        "audit.kind.api_check": "API check",
        "audit.kind.override": "Override",
        "audit.kind.login": "Sign-in",
        "audit.kind.login_failed": "Failed sign-in",
        "audit.kind.logout": "Sign-out",
        "audit.kind.export": "Export or use",
        "audit.kind.audit_search": "Audit log search",
        "audit.kind.subject_report": "Access report",
        "audit.kind.admin": "Administration",
        "audit.kind.check_refused": "Refused check (limit)",
        "audit.kind.decision_read": "Decision read through the API",
        "audit.kind.session": "Sessions ended",
        "audit.kind.retention": "Retention applied",
        "audit.kind.inscription": "Crossroads Bank inscription",
        "audit.kind.campaign_decision": "Decision in a campaign",
        "audit.kind.letter": "Letter",
        "audit.kind.registry_access": "Question to a source",
        "audit.outcome.eligible": "eligible",
        "audit.outcome.not_eligible": "not eligible",
        "audit.outcome.undetermined": "undetermined",
        "audit.outcome.overridden": "{effective} (overridden; according to the data: {computed})",
        "audit.outcome.coupon_used": "Coupon used",
        "audit.outcome.letter_reprint": "Letter printed again",
        "audit.outcome.campaign_download": "file downloaded",
        "audit.outcome.campaign_issued": "letters and lists made",
        "audit.outcome.campaign_approve": "run approved",
        "audit.outcome.campaign_reject": "run rejected",
        "audit.outcome.campaign_run_started": "run started",
        "audit.outcome.campaign_run_draft": "run ready for review",
        "audit.outcome.campaign_run_abandoned": "run abandoned",
        "audit.outcome.campaign_simulate": "what-if calculation",
        "audit.outcome.purged": "erased after the retention period",
        "audit.outcome.token_created": "API token created",
        "audit.outcome.user_added": "user added",
        "audit.outcome.user_disabled": "user disabled",
        "audit.outcome.issued": "sent",
        "audit.outcome.ok": "answered",
        "audit.outcome.kept": "read from an answer already received",
        "audit.outcome.no_data": "no data",
        "audit.outcome.retry": "source unavailable",
        "audit.outcome.refused": "refused",
        "audit.outcome.bad_request": "wrong question",
        "audit.outcome.error": "error",
        "audit.outcome.unknown": "unknown user",
        "audit.outcome.bad_password": "wrong password",  # nosec B105 - a label, not a secret
        "audit.outcome.locked": "locked",
        "audit.outcome.disabled": "disabled",
        "audit.detail.benefit": "benefit",
        "audit.detail.version": "version",
        "audit.detail.questions": "questions",
        "audit.detail.decision": "decision",
        "audit.detail.overridden": "overridden",
        "audit.detail.effective_outcome": "outcome in force",
        "audit.detail.reason": "reason",
        "audit.detail.valid_until": "valid until",
        "audit.detail.override": "override",
        "audit.detail.campaign": "campaign",
        "audit.detail.run": "run",
        "audit.detail.file": "file",
        "audit.detail.period": "period",
        "audit.detail.role": "role",
        "audit.detail.report": "report",
        "audit.detail.format": "format",
        "audit.detail.entries": "entries",
        "audit.detail.by_subject": "by person",
        "audit.detail.results": "results",
        "audit.detail.source": "source",
        "audit.detail.facts": "facts",
        "audit.detail.letter": "letter no.",
        "audit.detail.letter_kind": "kind of letter",
        "audit.detail.used": "used on",
        "audit.detail.as_of": "date",
        "audit.detail.change": "change",
        "audit.detail.actor": "by",
        "audit.detail.kind": "kind",
        "audit.detail.since": "since",
        "audit.detail.until": "until",
        "audit.yes": "yes",
        "audit.no": "no",
        "audit.letter_kind.coupon": "letter with a coupon",
        "audit.letter_kind.invitation": "invitation",
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
        "error.database": (
            "The database cannot be reached for a moment. Try again shortly; tell the "
            "administrator if it persists."
        ),
        "js.insz_length": "{n} more digit(s) needed.",
        "js.insz_ok": "Valid number.",
        "nav.campaigns": "Campaigns",
        "nav.coupons": "Coupons",
        "campaign.title": "Campaigns",
        "campaign.intro": (
            "Proactive campaigns: per run the decisions, who is new or ended, and which letters "
            "go out. Nothing is sent before a campaign manager approves the run."
        ),
        "campaign.none": "No campaigns are configured.",
        "campaign.load_error": "The campaign files could not be read: {error}",
        "campaign.no_runs": "No runs yet.",
        "campaign.runs": "Runs of {campaign}",
        "campaign.benefit": "Benefit",
        "campaign.target": "Target",
        "campaign.review": "Review",
        "campaign.review_one": "one campaign manager approves",
        "campaign.review_two": "two different campaign managers approve (four eyes)",
        "campaign.run_link": "Run {id}",
        "campaign.col.run": "Run",
        "campaign.col.as_of": "As of",
        "campaign.col.status": "Status",
        "campaign.col.new": "New",
        "campaign.col.ended": "Ended",
        "campaign.col.letters": "Letters",
        "campaign.col.approvals": "Approvals",
        "campaign.col.pending": "Pending",
        "campaign.status.running": "running",
        "campaign.status.draft": "draft: awaiting review",
        "campaign.status.approved": "approved",
        "campaign.status.rejected": "rejected",
        "campaign.status.issued": "issued",
        "campaign.target.households": "every household of the municipality",
        "campaign.target.persons": "the residents of the municipality",
        "campaign.target.pupils": "the pupils of the city's schools and after-school care",
        "campaign.change.new": "new",
        "campaign.change.continued": "continued (same band)",
        "campaign.change.changed": "changed band",
        "campaign.change.ended": "ended",
        "campaign.change.unknown": "eligible before, undetermined now",
        "campaign.change.undetermined": "undetermined, not eligible before",
        "campaign.chart_issued": "Coupons sent per week",
        "campaign.chart_used": "Coupons used per week",
        "campaign.chart_reach": "Eligible: this year against the previous one",
        "campaign.chart_cost": "Cost for {band} per run ({period})",
        "campaign.week_of": "week of {day}",
        "campaign.period_label": "period {period}",
        "campaign.eligible_count": "{n} eligible",
        "campaign.change.none": "not eligible, nor before",
        "campaign.outcome.pending": "pending (our or the source's failure; next run)",
        "campaign.missing_of": "{fact} (of: {whose})",
        "run.partial": (
            "{n} entitled for certain with a part still open: they get the certain part (e.g. "
            "the reduced tariff) and are asked which certificate settles the rest."
        ),
        "run.by_bounds": "{n} decided because an unknown value cannot fall across the limit.",
        "campaign.change.pending": "pending: the next run decides",
        "run.title": "{campaign}: run {id}",
        "run.back": "Back to the campaigns",
        "run.as_of": "As of",
        "run.period": "Period",
        "run.period_words": "{period}, valid until {until}",
        "run.status": "Status",
        "run.benefit": "Benefit (version)",
        "run.started": "Started",
        "run.finished": "Decided",
        "run.progress": (
            "This run is still going: {done} of {total} chunks decided ({subjects} of {all})."
        ),
        "run.paused": (
            "This run paused at chunk {chunk}: {pending} of {subjects} could not be decided "
            "through a failure of ours ({reasons}). Nothing of that chunk was stored. Fix the "
            "cause and run the campaign again to resume."
        ),
        "run.pending": (
            "{n} pending through a failure of ours ({reasons}): they get no letter; the next run "
            "decides them."
        ),
        "run.review": "Review before sending",
        "run.review_intro": (
            "Look at the figures and the sample below. Letters and lists are made only after "
            "approval; a rejected run sends nothing."
        ),
        "run.four_eyes": (
            "Four eyes: this run needs {required} approvals by different campaign managers. "
            "So far: {n}."
        ),
        "run.you_reviewed": (
            "You already reviewed this run. Another campaign manager must give the next approval."
        ),
        "run.note": "Note (required to reject)",
        "run.approve": "Approve and send",
        "run.approve_partly": "Approve",
        "run.confirm_title": "Confirm sending",
        "run.validity_past": (
            "Note: the decisions of this run (reference date {as_of}) are only valid until "
            "{until}, and that date has passed. Letters or lists would be expired already: reject "
            "the run and start one on a more recent reference date."
        ),
        "run.validity_short": (
            "Note: the decisions of this run are only valid until {until}, {days} more days. "
            "Coupons or lists would expire soon."
        ),
        "run.confirm_letters": "You are about to send {n} letters, {amount} in all.",
        "run.confirm_lists": (
            "You are about to make the billing lists for {n} pupils, an estimated {amount} of "
            "discounts in all."
        ),
        "run.confirm_final": "This cannot be undone.",
        "run.confirm_yes_letters": "Yes, send {n} letters",
        "run.confirm_yes_lists": "Yes, make the lists for {n} pupils",
        "run.confirm_cancel": "Cancel",
        # i16-flow: an expired run refused, an empty run warned
        "run.refused_expired": (
            "Refused: the decisions of this run (reference date {as_of}) hold only until "
            "{until}, and that date has passed. Letters and billing lists would already be "
            "expired. Reject the run and run the campaign again on a recent reference date."
        ),
        "run.empty": (
            "Note: this run is empty. No letter goes out and no pupil is on the lists. Check "
            "the reference date and the target."
        ),
        "run.reject": "Reject",
        "run.reject_note_needed": "Give a reason for the rejection.",
        "run.due": "On approval: {coupon} letters with a coupon and {invitation} invitations.",
        "run.verdicts": "Review",
        "run.verdict_approve": "Approved by {actor} on {time}",
        "run.verdict_reject": "Rejected by {actor} on {time}",
        "run.notice.approved": "The run is approved. The letters and lists are being made.",
        "run.notice.approved_partly": (
            "Your approval is recorded. A second campaign manager must still approve."
        ),
        "run.notice.rejected": "The run is rejected. Nothing will be sent.",
        "run.notice.issuing": "The letters and lists are being made.",
        "run.issuing": "The letters and lists are being made now. Reload this page in a moment.",
        "run.not_issued": "Approved, but the letters and lists have not been made yet.",
        "run.issue": "Make the letters and lists",
        "run.reissue": "Make the files again",
        "run.files": "Letters and lists",
        "run.file_letters": "All letters in one PDF for printing ({pages} pages)",
        "run.file_billing": "Billing list {name}",
        "run.file_all_billing": "All billing lists in one ZIP file ({n} schools)",
        "run.file_per_school": "Each list on its own ({n} files)",
        "run.file_notifications": "Notifications for e-mail, SMS and the online counter ({n})",
        "run.file_one_letter": "One letter on its own (no. 1)",
        "run.issued_counts": "{coupon} letters with a coupon and {invitation} invitations made.",
        "run.skipped": "{n} letters not made: no address in the register extract.",
        "run.refused_status": "This run can no longer be reviewed: it is {status}.",
        "run.refused_already": (
            "You already reviewed this run. Another campaign manager must give the next approval."
        ),
        "run.refused": "Not allowed: {why}",
        "run.refused_issue": "Only an approved run makes letters and lists.",
        "run.unknown_campaign": "This run's campaign is not configured (any more).",
        "run.figures": "Figures",
        "run.subjects": "{n} decided",
        "run.outcomes": "Outcomes",
        "run.changes": "Compared with the previous approved run",
        "run.first_run": "There is no previous approved run: everyone eligible is new.",
        "run.bands": "By band",
        "run.col.band": "Band",
        "run.col.count": "Number",
        "run.col.cost": "Cost",
        "run.col.outcome": "Outcome",
        "run.col.change": "Change",
        "run.col.reason": "Reason",
        "run.col.fact": "Fact",
        "run.cost_total": "Estimated cost of all grants: {cost}",
        "run.undetermined": "Why undetermined",
        "run.undetermined_none": "Nobody is undetermined.",
        "run.reason_condition": "condition cannot be decided: {text}",
        "run.reason_outputs": "amount cannot be computed",
        "run.reason_not_in_register": "not in the register extract",
        "run.letters": "Letters",
        "run.letters_issued": "Made",
        "run.letters_due": "On approval",
        "run.letter_coupon": "Letters with a coupon",
        "run.letter_invitation": "Invitations to the desk",
        "run.reach": "Reach against the ground truth (synthetic city)",
        "run.reach_intro": (
            "On the synthetic city we know who is truly entitled. This shows how many of them "
            "the campaign finds, and whether anyone is wrongly told they are eligible."
        ),
        "run.reach_truly_entitled": "Truly entitled",
        "run.reach_reached": "Reached automatically",
        "run.reach_flagged": "Left undetermined, invited to the desk",
        "run.reach_missed": "Missed",
        "run.reach_share_reached": "Share reached",
        "run.reach_share_reached_or_flagged": "Share reached or invited",
        "run.reach_wrongly_eligible": "Wrongly told eligible",
        "run.reach_wrongly_eligible_current": (
            "Wrongly told eligible while the register was current (must be 0)"
        ),
        "run.reach_truth_undetermined": "Told eligible, truth unclear",
        "run.reach_chart": "Truly entitled",
        "run.sample": "Sample of decisions",
        "run.sample_intro": (
            "A few decisions per outcome, with their reasons. No names, no national register "
            "numbers and no values from the sources: a pseudonym, the outcome, the conditions and "
            "what is missing."
        ),
        "run.sample_changes": "Sample of changes",
        "run.sample_subject": "Pseudonym",
        "run.sample_grant": "Granted",
        "run.sample_conditions": "Conditions",
        "run.sample_missing": "Missing",
        "run.sample_none": "No decisions.",
        "run.sample_previous": "before: {band}",
        "run.fetched": "Facts asked",
        "run.fetched_intro": "{questions} questions to the sources; per fact the number asked.",
        "whatif.title": "What if?",
        "whatif.intro": (
            "Evaluate a campaign again with other values for the benefit's parameters, on the "
            "same facts, and compare. Nothing is stored and nothing is sent. This may take a "
            "while: the facts are asked from the sources."
        ),
        "whatif.campaign": "Campaign",
        "whatif.choose": "Choose",
        "whatif.as_of": "As of",
        "whatif.parameters": "Parameters of {benefit}",
        "whatif.hint": (
            "Leave a field empty to keep its value. Amounts in euro (e.g. 45000); tables and "
            "bands written like the current value."
        ),
        "whatif.col.parameter": "Parameter",
        "whatif.col.now": "In force",
        "whatif.col.new": "New value",
        "whatif.submit": "Compute",
        "whatif.none_changed": "Give at least one parameter a new value.",
        "whatif.invalid": "Invalid value: {why}",
        "whatif.bad_date": "Invalid date.",
        "whatif.failed": "The computation could not run: {why}",
        "whatif.result": "Result",
        "whatif.nothing_stored": "Nothing was stored or sent.",
        "whatif.subjects": "{n} decided on {as_of}.",
        "whatif.progress_title": "Progress",
        "whatif.step": (
            "Part {chunk} of {chunks}: {decided} of {subjects} {noun} decided; eligible now "
            "{baseline}, with the new values {variant}."
        ),
        "whatif.empty": (
            "On {as_of} the calculation found no {noun}: there is no data for that date (e.g. no "
            "enrolments for that school year). Choose the date of a run that did find {noun}."
        ),
        "whatif.busy": (
            "The calculation is running: the whole target is decided twice. That can take half a "
            "minute. Elapsed: {seconds} s."
        ),
        "whatif.reached": "Reached: now {baseline}, with the new values {variant}",
        "whatif.reached_difference": "{difference} {noun}",
        "whatif.cost": "Cost: now {baseline}, with the new values {variant}",
        "whatif.noun.households": "households",
        "whatif.noun.persons": "persons",
        "whatif.noun.pupils": "pupils",
        "whatif.by_band": "By band",
        "whatif.col.baseline": "Now",
        "whatif.col.variant": "New",
        "whatif.col.difference": "Difference",
        "whatif.col.cost_baseline": "Cost now",
        "whatif.col.cost_variant": "Cost new",
        "whatif.outcomes": "Outcomes",
        "whatif.transitions": "Who changes outcome",
        "whatif.transitions_none": "Nobody changes outcome.",
        "whatif.chart": "Number per band, now and with the new values",
        "whatif.bar_baseline": "{band}: now",
        "whatif.bar_variant": "{band}: new",
        "coupon.title": "Check a coupon",
        "coupon.intro": (
            "For shops and IVAGO: type or scan the code on the letter. You see whether the coupon "
            "is valid and whether it was used, not whose it is."
        ),
        "coupon.code": "Coupon code",
        "coupon.code_hint": (
            "16 characters, e.g. 7KQ2-M9XD-4HTR-ZB1C. Lower case, spaces and dashes are fine; so "
            "is a scanned QR code."
        ),
        "coupon.verify": "Check",
        "coupon.use": "Use the coupon (once only)",
        "coupon.valid": "Valid coupon: not used yet.",
        "coupon.invalid": "Unknown or invalid code. Check the code on the letter.",
        "coupon.used_on": "Already used on {when}.",
        "coupon.already_used": "This coupon was already used on {when}. It cannot be used twice.",
        "coupon.just_used": "The coupon is now used ({when}).",
        "coupon.expired": "Expired: this coupon was valid until {until}.",
        "coupon.campaign": "Campaign",
        "coupon.period": "Period",
        "coupon.value": "Value",
        "coupon.band": "Band",
        "coupon.valid_until": "Valid until",
        "coupon.rate_limited": "Too many checks in a short time ({limit} a minute). Wait a moment.",
    },
}
for _lang, _texts in SECURITY_MESSAGES.items():  # the security controls' words
    MESSAGES[_lang].update(_texts)
for _lang, _texts in WEEK_MESSAGES.items():  # the week-by-week view's words
    MESSAGES[_lang].update(_texts)


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

    def plural(self, key: str, n: int, **values: Any) -> str:
        """`key` with `n` filled in; `key.one` when n is 1 and that message exists."""
        if n == 1 and (key + ".one") in MESSAGES[self.lang]:
            key = key + ".one"
        return self(key, n=n, **values)

    def value(self, value: object) -> str:
        """An output's code as people read it (e.g. the LEZ tariff "reduced"): `value.<code>`
        when the catalogue has it, else the value as decided."""
        text = str(value)
        key = f"value.{text}"
        return MESSAGES[self.lang].get(key) or MESSAGES[DEFAULT_LANGUAGE].get(key) or text

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

    def period(self, period: Period) -> str:
        """The period a decision is for, in words ("schooljaar 2025-2026": `period_words`)."""
        return period_words(period, self.lang, self.day)

    def money(self, euros: float) -> str:
        return format_currency(euros, "EUR", locale=self.locale)

    def number(self, value: float) -> str:
        return format_decimal(value, locale=self.locale)
