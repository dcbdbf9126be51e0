"""Where Entitle keeps its state (keys, access log, default database): one rule for every layer."""

from __future__ import annotations

import os
from pathlib import Path


def data_dir() -> Path:
    """Where Entitle keeps its state: `ENTITLE_DATA_DIR`, else the user's data folder."""
    configured = os.environ.get("ENTITLE_DATA_DIR")
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "entitle"
