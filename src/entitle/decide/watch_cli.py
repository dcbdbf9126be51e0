"""``entitle watch …``: weekly follow-up of the active campaigns from mutation notifications.

``entitle watch run`` follows up one week (schedule it weekly, e.g. with cron, or run it by
hand); ``entitle watch weeks`` lists the weeks done. Exit codes as ``entitle campaign run``: 0 done,
1 done with pending subjects or the notification service unreachable (the week waits for the next
run), 2 refused (a malformed or already processed batch, an unknown receipt, bad options).
Where things are: the same options and environment as ``entitle campaign``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from entitle.decide.campaign_cli import (
    BenefitsOption,
    CampaignsOption,
    LocalOption,
    RegisterOption,
    RegistryOption,
    UrlOption,
    _as_of,
    _campaign,
    _context,
    _fail,
    console,
)

watch_app = typer.Typer(
    help="Weekly follow-up: re-decide only whom the week's notifications reach.",
    no_args_is_help=True,
)


@watch_app.command("run")
def run(
    campaign: Annotated[
        list[str] | None,
        typer.Option("--campaign", help="A campaign to follow up (repeat; default: all)."),
    ] = None,
    notifications: Annotated[
        list[Path] | None,
        typer.Option("--notifications", help="Read the batches from these reply files."),
    ] = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Decision date (default: today).")
    ] = None,
    campaigns: CampaignsOption = Path("campaigns"),
    benefits: BenefitsOption = Path("benefits"),
    register: RegisterOption = None,
    registry: RegistryOption = None,
    local: LocalOption = None,
    url: UrlOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Fetch the week's notifications, decide again whom they reach, store the week."""
    from entitle.decide.campaign_def import load_campaigns
    from entitle.decide.watch_run import NotificationError, WatchError, run_week
    from entitle.sources.magda.errors import ErrorKind, MagdaError

    ctx = _context(url, register, registry, local, None, None)
    chosen = (
        [_campaign(name, campaigns, benefits) for name in campaign]
        if campaign
        else load_campaigns(campaigns, benefits)
    )
    when = _as_of(as_of) or ctx.today()
    try:
        summary = run_week(ctx, chosen, when, files=notifications or ())
    except NotificationError as exc:
        code = 1 if exc.kind == ErrorKind.RETRY else 2  # the week waits for the next run
        raise _fail(f"watch run: notifications: {exc} (cursor not moved)", code) from None
    except (WatchError, MagdaError) as exc:
        raise _fail(f"watch run: {exc} (cursor not moved)") from None
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
            f"  {name}: decided {figures['decided']}, new {figures['new']}, changed "
            f"{figures['changed']}, ended {figures['ended']}, pending {figures['pending']}, "
            f"{figures['questions']} questions"
        )
    if pending:  # decided next week; as `entitle campaign run`, exit 1
        raise typer.Exit(1)


@watch_app.command("weeks")
def weeks(
    register: RegisterOption = None,
    registry: RegistryOption = None,
    local: LocalOption = None,
    url: UrlOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """The weeks followed up: new, changed and ended per campaign and week."""
    from entitle.decide.watch_run import list_weeks

    found = list_weeks(_context(url, register, registry, local, None, None))
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
