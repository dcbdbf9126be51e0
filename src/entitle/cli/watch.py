"""``entitle watch …``: weekly follow-up of the active campaigns from mutation notifications.

``entitle watch run`` follows up one week (schedule it weekly, e.g. with cron, or run it by
hand); ``entitle watch weeks`` lists the weeks done. Letters: ``entitle watch approve`` (the
standing approval of a campaign's weekly follow-up, by one who approved its run), ``watch
withdraw`` (withdraw it, with a reason: every batch not sent is held), ``watch batches``,
``watch hold`` / ``watch release`` (a week's batch, before it goes out) and ``watch issue``
(send the ready batches; `entitle campaign schedule` does it too). Exit codes as
``entitle campaign run``: 0 done, 1 done with pending subjects or the notification service
unreachable (the week waits for the next run), 2 refused (a malformed or already processed
batch, an unknown receipt, bad options; a held or unapproved batch).
Where things are: the same options and environment as ``entitle campaign``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from entitle.cli.options import (
    BY_SETTINGS,
    ActorOption,
    AsOfOption,
    JsonOption,
    Where,
    errors,
    fail,
    parse_date,
    parse_moment,
    where_options,
)
from entitle.cli.signin import sign_in
from entitle.console import cli_console

if TYPE_CHECKING:
    from entitle.decide.campaign.context import CampaignContext
    from entitle.decide.campaign.definition import Campaign

watch_app = typer.Typer(
    help="Weekly follow-up: re-decide only whom the week's notifications reach.",
    no_args_is_help=True,
)
console = cli_console(highlight=False)


@watch_app.command("run")
@where_options("campaigns", "benefits", "register", "registry", "local", "url")
def run(
    campaign: Annotated[
        list[str] | None,
        typer.Option("--campaign", help="A campaign to follow up (repeat; default: all)."),
    ] = None,
    notifications: Annotated[
        list[Path] | None,
        typer.Option("--notifications", help="Read the batches from these reply files."),
    ] = None,
    as_of: AsOfOption = None,
    where: Where = BY_SETTINGS,
    as_json: JsonOption = False,
) -> None:
    """Fetch the week's notifications, decide again whom they reach, store the week."""
    from entitle.decide.follow_up.run import NotificationError, WatchError, run_week
    from entitle.sources.magda.errors import ErrorKind, MagdaError

    ctx = where.context()
    chosen = [where.campaign(name) for name in campaign] if campaign else where.all_campaigns()
    when = parse_date(as_of) or ctx.today()
    try:
        summary = run_week(ctx, chosen, when, files=notifications or ())
    except NotificationError as exc:
        code = 1 if exc.kind == ErrorKind.RETRY else 2  # the week waits for the next run
        raise fail(f"watch run: notifications: {exc} (cursor not moved)", code) from None
    except (WatchError, MagdaError) as exc:
        raise fail(f"watch run: {exc} (cursor not moved)") from None
    pending = sum(c["pending"] for c in summary.campaigns.values())
    if as_json:
        console.print_json(json.dumps({**summary.__dict__, "as_of": summary.as_of.isoformat()}))
        raise typer.Exit(1 if pending else 0)
    if summary.nothing_new:
        console.print(f"no new notifications after week {summary.week}")
        return
    console.print(
        f"week {summary.week} ({summary.as_of}): {summary.notifications} notifications, "
        f"{summary.changed_persons} persons changed"
    )
    for name, figures in summary.campaigns.items():
        console.print(
            f"  {name} (run {figures['run']}): decided {figures['decided']}, new "
            f"{figures['new']}, changed {figures['changed']}, ended {figures['ended']}, pending "
            f"{figures['pending']}, {figures['questions']} questions"
        )
    if pending:  # decided next week; as `entitle campaign run`, exit 1
        raise typer.Exit(1)


@watch_app.command("weeks")
@where_options("register", "registry", "local", "url")
def weeks(
    where: Where = BY_SETTINGS,
    as_json: JsonOption = False,
) -> None:
    """The weeks followed up: new, changed and ended per campaign and week."""
    from entitle.decide.follow_up.run import list_weeks

    found = list_weeks(where.context())
    if as_json:
        console.print_json(json.dumps(found))
        return
    if not found:
        console.print("no week followed up yet")
    for week in found:
        figures = ", ".join(
            f"{name} new {c['new']} changed {c['changed']} ended {c['ended']}"
            for name, c in week["campaigns"].items()
        )
        console.print(f"week {week['week']} ({week['as_of']}): {figures}")


WeekArgument = Annotated[int, typer.Argument(help="The week's number (see `watch batches`).")]
CampaignArgument = Annotated[str, typer.Argument(help="The campaign.")]


def _follow_up_error(exc: Exception) -> typer.Exit:
    return fail(f"watch: {exc}")


@watch_app.command("approve")
@where_options("campaigns", "benefits", "url")
def approve(
    run: Annotated[int, typer.Argument(help="An approved run of the campaign.")],
    until: Annotated[str, typer.Option("--until", help="The last day of the follow-up.")],
    actor: ActorOption,
    where: Where = BY_SETTINGS,
) -> None:
    """Approve the campaign's weekly follow-up with run RUN (which you approved), until a day:
    each week's letters then go out without a new review, unless a manager holds the batch."""
    from entitle.decide.follow_up.standing import FollowUpError, grant_standing

    ctx = where.context()
    sign_in(ctx, actor)
    end = parse_date(until, "--until")
    assert end is not None  # a required option
    campaign = where.campaign_of_run(ctx, run)
    try:
        standing = grant_standing(ctx, campaign, run, actor=actor, until=end)
    except FollowUpError as exc:
        raise _follow_up_error(exc) from None
    scope = ", ".join(f"{k}: {v}" for k, v in standing.scope.items())
    console.print(f"{campaign.name}: weekly follow-up approved until {end} ({scope})")


@watch_app.command("withdraw")
@where_options("campaigns", "benefits", "url")
def withdraw(
    campaign: CampaignArgument,
    actor: ActorOption,
    reason: Annotated[str, typer.Option("--reason", help="Why (recorded and audited).")],
    where: Where = BY_SETTINGS,
) -> None:
    """Withdraw the campaign's standing approval: the weeks still decide and record, but every
    batch not yet sent is held, and every week after, until `watch approve` again and `watch
    release`."""
    from entitle.decide.follow_up.batches import withdraw_standing
    from entitle.decide.follow_up.standing import FollowUpError

    ctx = where.context()
    sign_in(ctx, actor)
    chosen = where.campaign(campaign)
    try:
        _, held = withdraw_standing(ctx, chosen, actor=actor, reason=reason)
    except FollowUpError as exc:
        raise _follow_up_error(exc) from None
    weeks = ", ".join(str(w) for w in held) or "none"
    console.print(f"{campaign}: standing approval withdrawn; weeks held: {weeks}")


@watch_app.command("batches")
@where_options("url")
def batches(
    campaign: CampaignArgument,
    where: Where = BY_SETTINGS,
    as_json: JsonOption = False,
) -> None:
    """The campaign's weekly batches: their status, changes and letters."""
    from entitle.decide.follow_up.batches import list_batches

    found = list_batches(where.context(), campaign)
    if as_json:
        console.print_json(json.dumps(found))
        return
    if not found:
        console.print("no weekly batch yet")
    for batch in found:
        letters = ", ".join(f"{k} {v}" for k, v in batch["letters"].items()) or "-"
        console.print(
            f"week {batch['week']} ({batch['as_of']}): run {batch['run']}, {batch['status']}, "
            f"new {batch['changes']['new']}, letters {letters}"
        )


def _turn_command(name: str, hold: bool, doc: str) -> None:
    """Declare ``watch NAME``, which holds (`hold`) or releases a week's batch; `doc` is its
    help."""

    def turn(
        campaign: CampaignArgument,
        week: WeekArgument,
        actor: ActorOption,
        note: Annotated[str, typer.Option("--note", help="Why.")] = "",
        where: Where = BY_SETTINGS,
    ) -> None:
        from entitle.decide.follow_up.batches import hold_batch, release_batch
        from entitle.decide.follow_up.standing import FollowUpError

        ctx = where.context()
        sign_in(ctx, actor)
        chosen = where.campaign(campaign)
        turn_batch = hold_batch if hold else release_batch
        try:
            batch = turn_batch(ctx, chosen, week, actor=actor, note=note)
        except FollowUpError as exc:
            raise _follow_up_error(exc) from None
        console.print(f"{campaign} week {week}: {batch['status']}")

    turn.__doc__ = doc  # before where_options, which copies it: the command's help
    watch_app.command(name)(where_options("campaigns", "benefits", "url")(turn))


_turn_command("hold", True, "Hold a week's batch: its letters do not go out until released.")
_turn_command(
    "release",
    False,
    "Release a held batch: it goes out at the next `watch issue` or `campaign schedule`.",
)


@watch_app.command("issue")
@where_options("campaigns", "benefits", "register", "output", "url")
def issue(
    now: Annotated[str | None, typer.Option("--now", help="Pretend it is this moment.")] = None,
    where: Where = BY_SETTINGS,
) -> None:
    """Send the ready batches whose hold window has passed (letters and notifications)."""
    from entitle.decide.follow_up.batches import due_batches
    from entitle.decide.follow_up.issue import issue_batch
    from entitle.decide.follow_up.standing import FollowUpError

    ctx = where.context()
    moment = (parse_moment(now) or datetime.now()).astimezone(UTC)
    due = due_batches(ctx, where.all_campaigns(), moment)
    if not due:
        console.print("no batch due")
    for campaign, week in due:
        try:
            batch = issue_batch(ctx, campaign, week, now=moment)
        except FollowUpError as exc:
            raise _follow_up_error(exc) from None
        letters = ", ".join(f"{k} {v}" for k, v in batch["letters"].items())
        console.print(f"{campaign.name} week {week}: issued ({letters})")


def schedule_follow_up(
    ctx: CampaignContext,
    campaigns: Sequence[Campaign],
    now: datetime,
    *,
    dry_run: bool,
    quiet: bool,
) -> int:
    """`entitle campaign schedule`'s follow-up step: the week when due, then the batches due.
    Returns the exit code (0 done or nothing due, 1 pending subjects or the notification
    service unreachable, 2 refused)."""
    from entitle.decide.follow_up.run import NotificationError, WatchError
    from entitle.decide.follow_up.schedule import follow_up_due, run_follow_up
    from entitle.decide.follow_up.standing import FollowUpError
    from entitle.sources.magda.errors import ErrorKind, MagdaError

    due = follow_up_due(ctx, campaigns, now)
    if not due.campaigns:
        return 0
    names = ", ".join(c.name for c in due.campaigns)
    if due.slot is not None and not quiet:
        console.print(f"watch run for {due.slot} ({names})")
    if dry_run:
        return 0
    try:
        done = run_follow_up(ctx, campaigns, now)
    except NotificationError as exc:
        errors.print(f"  watch run: notifications: {exc} (cursor not moved)", markup=False)
        return 1 if exc.kind == ErrorKind.RETRY else 2
    except (WatchError, MagdaError, FollowUpError) as exc:
        errors.print(f"  watch run: {exc} (cursor not moved)", markup=False)
        return 2
    if not quiet:
        for batch in done.issued:
            letters = ", ".join(f"{k} {v}" for k, v in batch["letters"].items())
            console.print(f"  {batch['campaign']} week {batch['week']}: sent ({letters})")
        if done.week is not None and not done.week.nothing_new:
            console.print(f"  week {done.week.week}: decided, batches ready")
    pending = done.week is not None and any(c["pending"] for c in done.week.campaigns.values())
    return 1 if pending else 0
