"""Each campaign's last run attempt, for the operator's monitoring.

Every `run` and `schedule` appends what came of each campaign to `<data dir>/campaign-runs.jsonl`
(a line per attempt: result, exit code, message, run, pending count, time), keeps the last per
campaign in `<data dir>/campaign-health.json` and, when `ENTITLE_CAMPAIGN_METRICS` names a file,
rewrites it as a Prometheus textfile (for node_exporter's textfile collector):

    entitle_campaign_last_exit_code{campaign="…"}             0 / 1 / 2 / 3
    entitle_campaign_pending_subjects{campaign="…"}           pending after the last run
    entitle_campaign_paused{campaign="…"}                     1 while the run is paused
    entitle_campaign_last_attempt_timestamp_seconds{…}        when
    entitle_campaign_last_success_timestamp_seconds{…}        last attempt with exit 0 or 1

`entitle campaign health` prints the same (and exits with the worst last exit code);
`public_health` is what the web app's `GET /health/campaigns` answers.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from entitle.decide.campaign.context import CampaignContext
from entitle.private_files import private_file, private_folder

HEALTH_FILE = "campaign-health.json"
LOG_FILE = "campaign-runs.jsonl"


def _write_whole(path: Path, content: str) -> None:
    private_folder(path.parent)
    partial = private_file(path.with_name(f".{path.name}.{os.getpid()}.partial"))
    partial.write_text(content, encoding="utf-8")
    os.replace(partial, path)


def read_health(ctx: CampaignContext) -> dict[str, dict[str, Any]]:
    """Campaign name → its last attempt (empty before the first)."""
    path = ctx.state_dir / HEALTH_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def record_outcome(ctx: CampaignContext, outcome: dict[str, Any]) -> None:
    """Keep a campaign's last attempt and refresh the metrics file. Best effort: monitoring
    that cannot be written never changes what the run did (the caller still reports it)."""
    try:
        private_folder(ctx.state_dir)
        with (ctx.state_dir / f"{HEALTH_FILE}.lock").open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            states = read_health(ctx)
            previous = states.get(outcome["campaign"], {})
            entry = {k: v for k, v in outcome.items() if k != "summary"}
            with private_file(ctx.state_dir / LOG_FILE).open("a", encoding="utf-8") as log:
                log.write(json.dumps(entry, ensure_ascii=False) + "\n")
            entry["last_success"] = (
                entry["at"] if entry["exit_code"] in (0, 1) else previous.get("last_success")
            )
            states[outcome["campaign"]] = entry
            _write_whole(ctx.state_dir / HEALTH_FILE, json.dumps(states, indent=2) + "\n")
            if ctx.metrics_file is not None:
                _write_whole(ctx.metrics_file, prometheus(states))
    except OSError:
        return


def _seconds(stamp: str | None) -> float:
    return datetime.fromisoformat(stamp).timestamp() if stamp else 0.0


def prometheus(states: dict[str, dict[str, Any]]) -> str:
    """The states in the Prometheus text format."""
    metrics: list[tuple[str, str, Callable[[dict[str, Any]], float]]] = [
        ("last_exit_code", "Exit code of the last run attempt (0 decided, 1 pending, 2 refused "
         "or paused, 3 input/output).", lambda s: s["exit_code"]),
        ("pending_subjects", "Subjects pending through failures of ours after the last run.",
         lambda s: s.get("pending", 0)),
        ("paused", "1 while the campaign's run is paused by its circuit.",
         lambda s: int(s.get("result") == "paused")),
        ("last_attempt_timestamp_seconds", "When the last run attempt ended.",
         lambda s: _seconds(s.get("at"))),
        ("last_success_timestamp_seconds", "When a run last ended with exit code 0 or 1.",
         lambda s: _seconds(s.get("last_success"))),
    ]  # fmt: skip
    lines = []
    for name, help_text, value in metrics:
        lines.append(f"# HELP entitle_campaign_{name} {help_text}")
        lines.append(f"# TYPE entitle_campaign_{name} gauge")
        for campaign, state in sorted(states.items()):
            label = campaign.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
            lines.append(f'entitle_campaign_{name}{{campaign="{label}"}} {value(state)}')
    return "\n".join(lines) + "\n"


# what `public_health` keeps of an attempt: codes, counts and times, never the free-text message
# (it may repeat a source's or the database's error text)
PUBLIC_FIELDS = ("result", "exit_code", "run", "status", "as_of", "pending", "at", "last_success")


def public_health(states: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The last attempts for an unauthenticated monitor: per campaign its result, exit code, run,
    pending count and times; overall the worst exit code and a status word ("ok" for 0,
    "pending" for 1, "failing" for 2 or 3, "ok" before any run)."""
    worst = max((int(s.get("exit_code", 0)) for s in states.values()), default=0)
    return {
        "status": "ok" if worst == 0 else ("pending" if worst == 1 else "failing"),
        "worst_exit_code": worst,
        "campaigns": {
            name: {
                **{key: state.get(key) for key in PUBLIC_FIELDS},
                "paused": state.get("result") == "paused",
            }
            for name, state in sorted(states.items())
        },
    }
