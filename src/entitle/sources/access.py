"""The access log: every registry or dataset access, with its purpose — never a value.

Subjects are pseudonymised with a keyed hash (HMAC-SHA256), so the log can be searched for one
person by whoever holds the key (a citizen's access request) without holding INSZ numbers.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol, TextIO

from entitle.private_files import private_file, private_folder


@dataclass(frozen=True)
class Access:
    """One question to one source about one subject."""

    time: str  # ISO 8601, UTC
    purpose: str
    source: str  # MAGDA service or local dataset
    subject: str  # pseudonym
    result: str  # ok | no_data | retry | refused | bad_request | error | kept (no new question)
    facts: tuple[str, ...]  # fact names asked (never their values)


class AccessLog(Protocol):
    """Where accesses are recorded."""

    def record(self, access: Access) -> None: ...


class MemoryAccessLog:
    """Keeps accesses in memory (tests, short runs)."""

    def __init__(self) -> None:
        self.entries: list[Access] = []
        self._lock = threading.Lock()

    def record(self, access: Access) -> None:
        with self._lock:
            self.entries.append(access)


class JsonlAccessLog:
    """Appends accesses to JSON-lines files, one per month (``access-2026-11.jsonl`` beside the
    given ``access.jsonl``), so retention drops whole months. The file in use is kept open and
    each line written through at once (a campaign records hundreds of thousands)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        private_folder(path.parent)
        self._month = ""
        self._handle: TextIO | None = None

    def file_for(self, month: str) -> Path:
        """The file of one month ('2026-11')."""
        return monthly_file(self.path, month)

    def record(self, access: Access) -> None:
        entry = {
            "time": access.time,
            "purpose": access.purpose,
            "source": access.source,
            "subject": access.subject,
            "result": access.result,
            "facts": list(access.facts),
        }
        line = json.dumps(entry, ensure_ascii=False) + "\n"
        month = access.time[:7]
        with self._lock:
            if month != self._month or self._handle is None:
                if self._handle is not None:
                    self._handle.close()
                file = private_file(self.file_for(month))
                self._handle = file.open("a", encoding="utf-8", buffering=1)
                self._month = month
            self._handle.write(line)

    def close(self) -> None:
        """Close the file in use."""
        with self._lock:
            if self._handle is not None:
                self._handle.close()
                self._handle = None


def monthly_file(path: Path, month: str) -> Path:
    """``<folder>/<stem>-<month>.jsonl`` for the access log configured as ``path``."""
    return path.with_name(f"{path.stem}-{month}{path.suffix or '.jsonl'}")


def monthly_files(path: Path) -> dict[str, Path]:
    """The month ('2026-11') -> file of each month of the access log configured as ``path``,
    oldest first."""
    suffix = path.suffix or ".jsonl"
    found = {}
    for candidate in path.parent.glob(f"{path.stem}-*{suffix}"):
        month = candidate.name[len(path.stem) + 1 : -len(suffix)]
        if len(month) == 7 and month[4] == "-" and (month[:4] + month[5:]).isdigit():
            found[month] = candidate
    return dict(sorted(found.items()))


class Pseudonymiser:
    """Keyed, stable pseudonyms for INSZ numbers."""

    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ValueError("a pseudonymisation key needs at least 16 bytes")
        self._key = key

    @classmethod
    def from_key_file(cls, path: Path) -> Pseudonymiser:
        """Use the key in `path`, creating a random one (readable by the owner only) if absent."""
        if not path.exists():
            private_file(path).write_text(secrets.token_hex(32), encoding="utf-8")
        return cls(bytes.fromhex(path.read_text(encoding="utf-8").strip()))

    def __call__(self, insz: str) -> str:
        return hmac.new(self._key, insz.encode(), hashlib.sha256).hexdigest()[:20]


def now_iso() -> str:
    """The current time, UTC, ISO 8601 with seconds."""
    return datetime.now(UTC).isoformat(timespec="seconds")
