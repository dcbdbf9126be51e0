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
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol


@dataclass(frozen=True)
class Access:
    """One question to one source about one subject."""

    time: str  # ISO 8601, UTC
    purpose: str
    source: str  # MAGDA service or local dataset
    subject: str  # pseudonym
    result: str  # ok | no_data | retry | refused | bad_request | error
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
    """Appends accesses to a JSON-lines file (kept open; each line written through at once)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)
        self._handle = path.open("a", encoding="utf-8", buffering=1)

    def record(self, access: Access) -> None:
        line = json.dumps(asdict(access), ensure_ascii=False)
        with self._lock:
            self._handle.write(line + "\n")

    def close(self) -> None:
        """Close the file."""
        with self._lock:
            self._handle.close()


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
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_hex(32), encoding="utf-8")
            path.chmod(0o600)
        return cls(bytes.fromhex(path.read_text(encoding="utf-8").strip()))

    def __call__(self, insz: str) -> str:
        return hmac.new(self._key, insz.encode(), hashlib.sha256).hexdigest()[:20]


def now_iso() -> str:
    """The current time, UTC, ISO 8601 with seconds."""
    return datetime.now(UTC).isoformat(timespec="seconds")
