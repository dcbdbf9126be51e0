"""The processes `entitle demo` starts: the registry simulator, the web app and the background
campaigns, each with its command line and environment."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

from entitle.demo.layout import DemoLayout
from entitle.demo.procs import Child, StopSignals, start_child
from entitle.municipality import Municipality
from entitle.private_files import private_folder
from entitle.settings import child_environment

# the web app with the city's ground truth wired in: the dashboard's runs show their reach
DEMO_APP = ("--app-factory", "entitle.demo.web:app_from_env")
# The simulator without an authorisation file allows every sender and capacity (development
# mode); the web app must still send some, as it would to MAGDA.
DEMO_SENDER = "demo.entitle.local"
DEMO_CAPACITY = "DEMO"


def child_env(
    layout: DemoLayout, municipality: Municipality, benefits: Path, registry_url: str | None
) -> dict[str, str]:
    """The parent's environment without its Entitle settings (the demo is self-contained), and
    the demo's own."""
    env = child_environment()
    env["PYTHONUNBUFFERED"] = "1"  # the logs show what happened up to a crash
    env["ENTITLE_MUNICIPALITY"] = municipality.id
    env["ENTITLE_MUNICIPALITIES"] = str(municipality.path.parent.resolve())
    if registry_url is not None:
        env.update(
            ENTITLE_DATABASE_URL=layout.database_url,
            ENTITLE_MAGDA_BASE_URL=registry_url,
            ENTITLE_MAGDA_SENDER=DEMO_SENDER,
            ENTITLE_MAGDA_DEFAULT_CAPACITY=DEMO_CAPACITY,
            ENTITLE_DATA_DIR=str(layout.state),
            ENTITLE_BENEFITS=str(benefits),
        )
    return env


def start(
    name: str,
    module: str,
    arguments: list[str],
    *,
    layout: DemoLayout,
    env: dict[str, str],
    children: list[Child],
    signals: StopSignals,
) -> Child:
    """Start `python -m module arguments…` and note it at once (no signal in between)."""
    with signals.shield():
        child = start_child(
            name,
            [sys.executable, "-m", module, *arguments],
            env=env,
            log_path=layout.logs / f"{name.split()[0]}.log",
            cwd=layout.root,
        )
        children.append(child)
    return child


def run_demo_campaigns(
    *,
    layout: DemoLayout,
    registry_url: str,
    benefits: Path,
    campaigns: Path,
    names: tuple[str, ...],
    env: dict[str, str],
    dates: dict[str, date] | None = None,
) -> Child | None:
    """Start the demo's proactive campaigns `names` (the municipality's demo campaigns; Ghent's:
    garbage bags) against the registry simulator, in a process of their own that runs in the
    background once the desk is ready: a Ghent-sized run takes minutes, longer than the set-up
    may. Each run ends as a draft for the campaign manager; a campaign that already has a
    finished run is not run again. None when there are no campaign files or names."""
    if not campaigns.is_dir() or not names:
        return None
    private_folder(layout.campaigns)
    return start_child(
        "campaigns",
        [
            sys.executable,
            "-m",
            "entitle.demo.campaigns",
            "--database-url",
            layout.database_url,
            "--register",
            str(layout.city / "registry"),
            "--state",
            str(layout.state),
            "--output",
            str(layout.campaigns),
            "--campaigns",
            str(campaigns),
            "--benefits",
            str(benefits),
            "--registry",
            registry_url,
            *(f"--as-of={name}={day.isoformat()}" for name, day in (dates or {}).items()),
            *names,
        ],
        env=env,
        log_path=layout.logs / "campaigns.log",
        cwd=layout.root,
    )
