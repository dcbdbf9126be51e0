"""Build a gateway from settings: the MAGDA client, local datasets, access log, pseudonyms."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

from entitle.sources.access import AccessLog, JsonlAccessLog, Pseudonymiser
from entitle.sources.gateway import Gateway
from entitle.sources.local import FileDatasets, HttpDatasets, LocalSource
from entitle.sources.magda import MagdaClient
from entitle.sources.magda.settings import load_settings


def data_dir() -> Path:
    """Where Entitle keeps its state: `ENTITLE_DATA_DIR`, else the user's data folder."""
    configured = os.environ.get("ENTITLE_DATA_DIR")
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "entitle"


def local_source(spec: str | None, registry_url: str) -> LocalSource:
    """Local datasets from a folder, an URL, or (default) the registry endpoint's `/local`."""
    if spec and not spec.startswith(("http://", "https://")):
        return FileDatasets(Path(spec))
    return HttpDatasets(spec or registry_url)


def make_gateway(
    *,
    purpose: str,
    as_of: date,
    registry: str | None = None,
    local: str | None = None,
    log: AccessLog | None = None,
) -> Gateway:
    """A gateway for one check or run, configured from the environment (ENTITLE_MAGDA_*)."""
    overrides = {"base_url": registry} if registry else {}
    settings = load_settings(**overrides)
    state = data_dir()
    return Gateway(
        client=MagdaClient(settings),
        local=local_source(local, settings.base_url),
        purpose=purpose,
        as_of=as_of,
        log=log or JsonlAccessLog(state / "access.jsonl"),
        pseudonymise=Pseudonymiser.from_key_file(state / "pseudonym.key"),
    )
