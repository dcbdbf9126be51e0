"""What one attempt to run a campaign came to, for a scheduler: `attempt` and `RunOutcome`.

Exit codes (the same for `run`, `schedule`, `approve` and `issue`):

    0  done: every subject decided (approve/issue: done, nobody pending)
    1  done, with subjects *pending* through failures of ours (no letter for them; the next run
       decides them)
    2  refused: preflight, a plausibility gate, the lock, a paused run (circuit), a state or
       review rule, bad input or configuration, a failed sign-in
    3  input/output: the database or a folder could not be written (fix it, then again)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from entitle.decide.campaign.context import CampaignContext
from entitle.decide.campaign.definition import Campaign, CampaignError
from entitle.decide.campaign.health import record_outcome
from entitle.decide.campaign.run import pause_line, run_campaign
from entitle.rules.loader import RuleFileError
from entitle.sources.magda import MagdaConfigError
from entitle.store.campaigns import CampaignStateError, RunView

EXIT_DONE, EXIT_PENDING, EXIT_REFUSED, EXIT_IO = 0, 1, 2, 3
REFUSALS = (CampaignError, CampaignStateError, MagdaConfigError, RuleFileError)


@dataclass(frozen=True)
class RunOutcome:
    """One campaign's result: decided, pending, paused, refused or io_error."""

    campaign: str
    result: str
    exit_code: int
    message: str
    run: int | None = None
    status: str | None = None
    as_of: str | None = None
    pending: int = 0
    summary: dict[str, Any] | None = None
    at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def short_error(exc: BaseException) -> str:
    """An exception in one line, without a traceback (a database error without its SQL)."""
    if isinstance(exc, SQLAlchemyError):
        text = str(getattr(exc, "orig", None) or exc.__class__.__name__)
    elif isinstance(exc, OSError):
        text = f"{exc.strerror or exc}" + (f": {exc.filename}" if exc.filename else "")
    else:
        text = str(exc)
    words = " ".join(text.split())
    return words if len(words) <= 300 else words[:299] + "…"


def outcome_of(campaign: str, view: RunView) -> RunOutcome:
    """The outcome of a run that ended (a draft) or stopped (still running)."""
    summary = view.summary or {}
    common: dict[str, Any] = {
        "campaign": campaign,
        "run": view.id,
        "status": view.status,
        "as_of": view.as_of.isoformat(),
    }
    if view.status == "running":
        line = pause_line(view) or f"run {view.id} of {campaign} stopped before its end"
        return RunOutcome(**common, result="paused", exit_code=EXIT_REFUSED, message=line)
    pending = int(summary.get("pending", {}).get("count", 0))
    if pending:
        reasons = ", ".join(
            f"{k}: {n}" for k, n in summary.get("pending", {}).get("reasons", {}).items()
        )
        return RunOutcome(
            **common,
            result="pending",
            exit_code=EXIT_PENDING,
            pending=pending,
            summary=summary,
            message=(
                f"run {view.id} of {campaign}: {view.status}, {pending:,} subject(s) pending "
                f"through failures of ours ({reasons}); they get no letter, the next run "
                "decides them"
            ),
        )
    return RunOutcome(
        **common,
        result="decided",
        exit_code=EXIT_DONE,
        summary=summary,
        message=f"run {view.id} of {campaign}: {view.status}, every subject decided",
    )


def attempt(
    ctx: CampaignContext,
    campaign: Campaign,
    as_of: date | None,
    run: Callable[..., RunView] = run_campaign,
    **options: Any,
) -> RunOutcome:
    """Run (or resume) the campaign and say what came of it, without raising for what an
    operator can fix; the outcome is recorded for monitoring (`campaign.health`)."""
    try:
        view = run(ctx, campaign, as_of, **options)
        outcome = outcome_of(campaign.name, view)
    except REFUSALS as exc:
        outcome = RunOutcome(campaign.name, "refused", EXIT_REFUSED, short_error(exc))
    except (OSError, SQLAlchemyError) as exc:
        outcome = RunOutcome(
            campaign.name,
            "io_error",
            EXIT_IO,
            f"{campaign.name}: cannot write: {short_error(exc)}",
        )
    record_outcome(ctx, outcome.to_dict())
    return outcome
