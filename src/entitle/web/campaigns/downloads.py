"""A run's files (merged letters, billing lists and their ZIP, notifications) and one letter as
its own PDF; every download is audited."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, Response

from entitle.decide.campaign import RunView, render_letter
from entitle.web.auth import Officer, PageError, web_state
from entitle.web.campaigns.runs import load_run
from entitle.web.campaigns.setup import NOTIFICATION_ROLES, campaign_setup, require_manager

router = APIRouter(include_in_schema=False)


MEDIA_TYPES = {
    ".pdf": "application/pdf",
    ".csv": "text/csv; charset=utf-8",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".jsonl": "application/jsonl; charset=utf-8",
    ".zip": "application/zip",
}


def _audit_download(request: Request, officer: Officer, run: RunView, what: str) -> None:
    """Letters and lists hold names and addresses: every download is in the audit log."""
    campaign = campaign_setup(request).campaign(run.campaign)
    web_state(request).backend.audit(
        kind="export",
        actor=officer.username,
        purpose=campaign.benefit.purpose if campaign else None,
        outcome="campaign_download",
        details={"campaign": run.campaign, "run": run.id, "file": what},
    )


@router.get("/campaigns/runs/{run_id}/files/{name:path}")
def run_file(
    request: Request,
    run_id: int,
    name: str,
    officer: Annotated[Officer, Depends(require_manager)],
) -> Response:
    """A file the run produced (the merged letters, a billing list): only those named in the
    run's outputs, inside the run's folder."""
    run = load_run(request, run_id)
    outputs = run.outputs or {}
    if name not in (outputs.get("files") or []) or not outputs.get("folder"):
        raise PageError(404, "error.not_found")
    if name.endswith(".jsonl") and officer.role not in NOTIFICATION_ROLES:
        raise PageError(403, "error.forbidden")
    folder = Path(str(outputs["folder"])).resolve()
    path = (folder / name).resolve()
    if not path.is_relative_to(folder) or not path.is_file():
        raise PageError(404, "error.not_found")
    _audit_download(request, officer, run, name)
    media = MEDIA_TYPES.get(path.suffix, "application/octet-stream")
    return FileResponse(
        path,
        media_type=media,
        filename=path.name,
        content_disposition_type="inline" if path.suffix == ".pdf" else "attachment",
    )


@router.get("/campaigns/runs/{run_id}/letters/{seq}")
def run_letter(
    request: Request,
    run_id: int,
    seq: int,
    officer: Annotated[Officer, Depends(require_manager)],
) -> Response:
    """One issued letter as its own PDF (`render_letter`)."""
    run = load_run(request, run_id)
    campaign = campaign_setup(request).campaign(run.campaign)
    if campaign is None or seq < 1 or seq > 10**9:
        raise PageError(404, "error.not_found")
    try:
        pdf = render_letter(campaign_setup(request).context, campaign, run_id, seq)
    except KeyError:
        raise PageError(404, "error.not_found") from None
    _audit_download(request, officer, run, f"letter {seq}")
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="brief-{run_id}-{seq}.pdf"'},
    )
