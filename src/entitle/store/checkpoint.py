"""Signed checkpoints of the audit chain: evidence kept outside the database.

The chain alone cannot show that its end was cut off: whoever deletes the last entries and moves
the head row back leaves a shorter chain that is intact. A checkpoint — the head's hash, its
sequence number (entry id) and the time, signed with HMAC-SHA256 under a key that is *not* in the
database — taken now and then and kept elsewhere by the auditor, closes that gap: `verify_against`
fails when the entry the checkpoint names is gone or differs (truncation to any earlier head, a
full wipe, a rewritten chain).

The file is one JSON object: ``{"sequence": …, "head": …, "time": …, "signature": …}``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from entitle.private_files import private_file
from entitle.store.audit import verify
from entitle.store.models import AuditEntry, AuditHead, utc

MIN_KEY_BYTES = 32


class CheckpointError(ValueError):
    """A checkpoint that cannot be made or trusted (bad signature, bad file, broken chain)."""


@dataclass(frozen=True)
class Checkpoint:
    sequence: int  # the id of the chain's last entry
    head: str  # its hash
    time: str  # when the checkpoint was taken (ISO 8601, UTC)
    signature: str = ""

    def payload(self) -> bytes:
        fields = {"sequence": self.sequence, "head": self.head, "time": self.time}
        return json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)


def load_key(path: Path, *, create: bool = False) -> bytes:
    """The checkpoint key in `path` (hex); with `create`, a new random key (0600) if absent."""
    if not path.exists():
        if not create:
            raise CheckpointError(f"no checkpoint key at {path}")
        private_file(path).write_text(secrets.token_hex(MIN_KEY_BYTES), encoding="utf-8")
    try:
        key = bytes.fromhex(path.read_text(encoding="utf-8").strip())
    except ValueError:
        raise CheckpointError(f"{path}: the checkpoint key must be hexadecimal") from None
    if len(key) < MIN_KEY_BYTES:
        raise CheckpointError(f"{path}: a checkpoint key needs at least {MIN_KEY_BYTES} bytes")
    return key


def _sign(checkpoint: Checkpoint, key: bytes) -> str:
    return hmac.new(key, checkpoint.payload(), hashlib.sha256).hexdigest()


def take(session: Session, key: bytes, *, now: datetime | None = None) -> Checkpoint:
    """A signed checkpoint of the chain's head; refused when the chain does not verify."""
    report = verify(session)
    if not report.ok:
        raise CheckpointError(f"the audit log does not verify: {report.problem}")
    head = session.execute(select(AuditHead.last_id, AuditHead.last_hash)).one()
    unsigned = Checkpoint(
        int(head.last_id), str(head.last_hash), utc(now).isoformat(timespec="seconds")
    )
    return Checkpoint(unsigned.sequence, unsigned.head, unsigned.time, _sign(unsigned, key))


def parse(text: str, key: bytes) -> Checkpoint:
    """A checkpoint read back, its signature checked."""
    try:
        raw: Any = json.loads(text)
        checkpoint = Checkpoint(
            int(raw["sequence"]), str(raw["head"]), str(raw["time"]), str(raw["signature"])
        )
    except (ValueError, KeyError, TypeError):
        raise CheckpointError("not a checkpoint file (JSON with sequence, head, time)") from None
    if not hmac.compare_digest(_sign(checkpoint, key), checkpoint.signature):
        raise CheckpointError("the checkpoint's signature is wrong (another key, or altered)")
    return checkpoint


def missing_head(session: Session, head: str, sequence: int | None = None) -> str | None:
    """Why the chain does not (still) hold the entry `head` (at `sequence` when given), or None.

    Entries purged by retention cannot be looked at: a head older than the chain's anchor counts
    as held (the retention entry that moved the anchor is itself verified by `verify`).
    """
    anchor = session.execute(select(AuditHead.first_id, AuditHead.first_prev_hash)).one_or_none()
    first_id = int(anchor.first_id) if anchor is not None else 1
    if sequence is not None and 0 < sequence < first_id:
        if sequence == first_id - 1 and anchor is not None and anchor.first_prev_hash != head:
            return f"the retention anchor is not entry {sequence} of the checkpoint"
        return None
    query = select(AuditEntry.id, AuditEntry.hash)
    query = query.where(
        AuditEntry.id == sequence if sequence is not None else AuditEntry.hash == head
    )
    if sequence == 0:  # a checkpoint of the empty chain
        return None
    row = session.execute(query).first()
    if row is None:
        where = f"entry {sequence}" if sequence is not None else f"an entry with hash {head}"
        return f"{where} is not in the log: the chain was cut back or replaced"
    if row.hash != head:
        return f"entry {sequence} differs from the checkpoint: the chain was rewritten"
    return None
