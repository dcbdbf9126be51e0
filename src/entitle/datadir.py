"""Where Entitle keeps its state (keys, access log, default database): one rule for every layer."""

from __future__ import annotations

from pathlib import Path

from entitle.settings import settings


def data_dir() -> Path:
    """Where Entitle keeps its state: `ENTITLE_DATA_DIR`, else the user's data folder."""
    return settings().data_folder()
