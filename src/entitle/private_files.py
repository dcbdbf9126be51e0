"""Files and folders that hold personal data or keys: readable by the owner only.

Folders Entitle creates for its state (the data folder, campaign run folders) are made 0700 and
files in them 0600, whatever the process's umask: another account on the same machine must not
read the database, the access log, letters or coupon lists.
"""

from __future__ import annotations

import os
from pathlib import Path

FILE_MODE = 0o600
FOLDER_MODE = 0o700


def private_folder(path: Path) -> Path:
    """Create `path` (and missing parents) with mode 0700; an existing folder keeps its mode
    unless Entitle made it (parents that already exist are left alone)."""
    missing: list[Path] = []
    current = path
    while not current.exists():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for folder in reversed(missing):
        folder.mkdir(mode=FOLDER_MODE, exist_ok=True)
        folder.chmod(FOLDER_MODE)  # mkdir's mode is masked by the umask
    return path


def private_file(path: Path) -> Path:
    """Create `path` empty with mode 0600 if it does not exist (its folder made private); an
    existing file is narrowed to 0600. Returns `path`."""
    private_folder(path.parent)
    if not path.exists():
        # never open an existing file: closing a descriptor drops every POSIX lock the process
        # holds on it, and an SQLite database open elsewhere in the process would lose its
        # locks (another process then removes the WAL index under it: "disk I/O error")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE)
        os.close(fd)
    path.chmod(FILE_MODE)
    return path
