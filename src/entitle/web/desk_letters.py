"""The desk and the campaigns' letters: whether a letter went out about the citizen (or their
household), when, whether its coupon was used — and a reprint, in the audit log."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from entitle.decide.campaign.letters import render_letter
from entitle.decide.subject_activity import letters_about, subject_pseudonyms
from entitle.insz import parse_insz
from entitle.rules.model import Benefit
from entitle.web import inszcheck
from entitle.web.auth import Officer, PageError, csrf_officer, web_state
from entitle.web.campaigns.setup import campaign_setup
from entitle.web.forms import FormText

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class LetterLine:
    """One letter as the desk card shows it (no code: the coupon stays the citizen's)."""

    campaign_title: dict[str, str]
    period: str
    run_id: int
    seq: int
    kind: str  # coupon | invitation
    issued: Any  # aware datetime
    valid_until: Any  # date | None
    used: Any  # aware datetime | None


@dataclass(frozen=True)
class LetterStatus:
    """The letters about a citizen for one benefit; `letters` empty: none went out yet."""

    letters: tuple[LetterLine, ...]


def letter_status(request: Request, benefit: Benefit, insz: str) -> LetterStatus | None:
    """The letters the benefit's campaigns sent about this person or their household; None
    when no campaign of the benefit writes letters."""
    setup = campaign_setup(request)
    campaigns = {
        c.name: c
        for c in setup.campaigns().values()
        if c.benefit.id == benefit.id and c.spec.outputs.letters
    }
    if not campaigns:
        return None
    state = web_state(request)
    number = parse_insz(insz).normalized
    who = subject_pseudonyms(number, state.desk.registries.pseudonymise, setup.context.register)
    found = state.backend.run(lambda s: letters_about(s, who))
    return LetterStatus(
        tuple(
            LetterLine(
                campaign_title=dict(campaigns[x.campaign].spec.title),
                period=x.period,
                run_id=x.run_id,
                seq=x.seq,
                kind=x.kind,
                issued=x.issued,
                valid_until=x.valid_until,
                used=x.used,
            )
            for x in found
            if x.campaign in campaigns
        )
    )


@router.post("/desk/letters/reprint")
def reprint(
    request: Request,
    officer: Annotated[Officer, Depends(csrf_officer)],
    insz: FormText = "",
    run: Annotated[int, Form(ge=1, le=2**62)] = 1,
    seq: Annotated[int, Form(ge=1, le=10**9)] = 1,
) -> Response:
    """A letter about the citizen at the desk, again as a PDF (audited: kind `export`)."""
    if not officer.can_check():
        raise PageError(403, "error.forbidden")
    if inszcheck.problem(insz) is not None:
        raise PageError(404, "error.not_found")
    state = web_state(request)
    setup = campaign_setup(request)
    number = parse_insz(insz).normalized
    who = subject_pseudonyms(number, state.desk.registries.pseudonymise, setup.context.register)
    about = state.backend.run(lambda s: letters_about(s, who))
    letter = next((x for x in about if (x.run_id, x.seq) == (run, seq)), None)
    campaign = setup.campaign(letter.campaign) if letter is not None else None
    if letter is None or campaign is None:
        raise PageError(404, "error.not_found")  # not a letter about this citizen
    try:
        pdf = render_letter(setup.context, campaign, run, seq)
    except KeyError:
        raise PageError(404, "error.not_found") from None
    state.backend.audit(
        kind="export",
        actor=officer.username,
        purpose=campaign.benefit.purpose,
        subject=who.person,
        outcome="letter_reprint",
        details={"campaign": campaign.name, "run": run, "letter": seq},
    )
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="brief-{run}-{seq}.pdf"'},
    )
