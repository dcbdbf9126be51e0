"""Output files written whole or not at all, and the leftovers of a writer that was killed.

A file is written under `<name>.<pid>.<random>.partial`, flushed to disk and then renamed to
`<name>`: a reader never sees half a file. A writer killed in between (SIGKILL, power loss)
leaves its `.partial` file behind; `remove_stale_partials` deletes those whose process is gone.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from entitle.private_files import FILE_MODE, private_folder

SUFFIX = ".partial"


def partial_path(path: Path) -> Path:
    """Where `path` is written before it is moved into place (unique per process and call)."""
    return path.with_name(f"{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}{SUFFIX}")


@contextmanager
def atomic_file(path: Path) -> Iterator[BinaryIO]:
    """Write `path` through a temporary file: moved into place when the block ends, removed
    when it raises. The file is readable by the owner only (0600, its new folders 0700)."""
    private_folder(path.parent)
    partial = partial_path(path)
    try:
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def write_atomic(path: Path, data: bytes) -> None:
    """`data` as the whole content of `path`, never half of it."""
    with atomic_file(path) as handle:
        handle.write(data)


def _writer(path: Path) -> int | None:
    """The process id in a partial file's name; None when the name is not one of ours."""
    parts = path.name[: -len(SUFFIX)].rsplit(".", 2)
    if len(parts) != 3 or not parts[1].isdigit() or len(parts[2]) != 8:
        return None
    return int(parts[1])


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def remove_stale_partials(folder: Path) -> list[Path]:
    """Delete the partial files under `folder` whose writer process no longer runs (a file
    being written right now by a live process is left alone); returns what was deleted."""
    if not folder.is_dir():
        return []
    removed = []
    for path in sorted(folder.rglob(f"*{SUFFIX}")):
        pid = _writer(path)
        if pid is None or _alive(pid):
            continue
        path.unlink(missing_ok=True)
        removed.append(path)
    return removed
