"""`entitle insz check`: validate a national register or bis number."""

from __future__ import annotations

import json

import typer

from entitle.insz import insz_report

insz_app = typer.Typer(help="National register and bis numbers.", no_args_is_help=True)


@insz_app.command("check")
def insz_check(number: str) -> None:
    """Validate an INSZ or bis number; print JSON; exit 0 when valid, 1 when not."""
    report = insz_report(number)
    print(json.dumps(report, ensure_ascii=False))
    raise typer.Exit(0 if report["valid"] else 1)
