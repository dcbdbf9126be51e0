"""Where `entitle demo` keeps everything: one folder, used by one demo at a time.

``city/``, ``entitle.db``, ``state/`` (pseudonym and coupon keys, access log), ``campaigns/``
(letters), ``logs/`` (the children's output) and ``demo-accounts.json``.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from entitle.demo.procs import DemoError
from entitle.private_files import private_folder


@dataclass(frozen=True)
class DemoLayout:
    """Where the demo keeps everything, under one folder."""

    root: Path

    @property
    def city(self) -> Path:
        return self.root / "city"

    @property
    def database(self) -> Path:
        return self.root / "entitle.db"

    @property
    def database_url(self) -> str:
        return f"sqlite:///{self.database}"

    @property
    def state(self) -> Path:
        return self.root / "state"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def campaigns(self) -> Path:
        return self.root / "campaigns"

    @property
    def accounts(self) -> Path:
        return self.root / "demo-accounts.json"

    @property
    def lock(self) -> Path:
        return self.root / "demo.lock"


@contextmanager
def locked(layout: DemoLayout) -> Iterator[None]:
    """One demo per folder: a second one would share the SQLite database and the city."""
    try:
        private_folder(layout.root)
        handle = layout.lock.open("a+", encoding="utf-8")
    except OSError as exc:
        raise DemoError(f"cannot use the data folder {layout.root}: {exc}") from None
    try:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "?"
            raise DemoError(
                f"another `entitle demo` (pid {holder}) is running on {layout.root}; stop it "
                "first or choose another folder with --data"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        yield
    finally:
        handle.close()  # releases the lock
