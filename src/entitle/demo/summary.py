"""What `entitle demo` prints once it is ready, and when the background campaigns end."""

from __future__ import annotations

from datetime import date

from rich.console import Console

from entitle.demo.accounts import DEMO_ACCOUNTS
from entitle.demo.examples import BenefitExamples, print_desk_examples
from entitle.demo.layout import DemoLayout
from entitle.demo.procs import Child


def print_ready(
    console: Console,
    *,
    layout: DemoLayout,
    url: str,
    registry_url: str,
    children: list[Child],
    passwords: dict[str, str],
    examples: list[BenefitExamples],
    as_of: date,
    seconds: float,
) -> None:
    """The processes and their URLs, the data folder, the accounts, the INSZ to try, "ready"."""
    registry, web = children[0], children[1]
    console.print()
    console.print(
        f"Registry simulator (stands in for MAGDA): {registry_url}   pid {registry.pid}",
        highlight=False,
        soft_wrap=True,
    )
    console.print(
        f"Web app (desk, audit, API):               {url}   pid {web.pid}",
        highlight=False,
        soft_wrap=True,
    )
    console.print(
        f"Data: {layout.root}   (city, database, logs: {layout.logs}; "
        "readable by you only: folders 0700, files 0600)",
        highlight=False,
        soft_wrap=True,
    )
    console.print()
    console.print(
        "[bold]Demo accounts[/bold] — for this demo only, never for real data: anyone who can "
        f"read this can sign in. Random passwords, kept in {layout.accounts}:",
        highlight=False,
        soft_wrap=True,
    )
    for username, _role, label in DEMO_ACCOUNTS:
        console.print(
            f"  {label:<17} {username:<9} {passwords[username]}", highlight=False, soft_wrap=True
        )
    console.print()
    print_desk_examples(console, examples, as_of)
    console.print()
    console.print(
        f"[bold green]ready[/bold green] in {seconds:.1f} s: {url}   "
        "(sign in as [bold]desk[/bold]; Ctrl-C stops everything)",
        highlight=False,
        soft_wrap=True,
    )


def campaigns_ended(console: Console, child: Child) -> None:
    """Say how the background campaigns ended (the last lines of their log)."""
    code = child.process.poll()
    lines = child.log_tail(40).splitlines()
    if code == 0:
        for line in lines:
            if ": run #" in line or ": inscriptions " in line:
                console.print(f"Campaign {line}", highlight=False, soft_wrap=True)
            elif line.startswith(("city moved", "follow-up baseline", "follow-up week")):
                console.print(line[:1].upper() + line[1:], highlight=False, soft_wrap=True)
        return
    console.print(
        f"[yellow]The campaigns stopped with exit code {code}[/yellow] (the desk works on); "
        f"{child.log_path} ends with:\n{child.log_tail(5)}",
        highlight=False,
        soft_wrap=True,
    )


def print_campaigns_started(console: Console, campaigns: Child, names: tuple[str, ...]) -> None:
    """Say which campaigns run in the background, and where their progress goes."""
    console.print(
        f"Campaigns run in the background (pid {campaigns.pid}; progress in "
        f"{campaigns.log_path}): {', '.join(names)}. Each run ends as a draft for the campaign "
        "manager; then the city moves one week forward and the week is followed up (`entitle "
        "watch run`, on the dashboard). A Ghent-sized city takes minutes, and on the first start "
        "longer: each target is inscribed in the KSZ directory first, a call per person.",
        highlight=False,
        soft_wrap=True,
    )
