"""Coupon codes: keyed, unguessable, verifiable, usable once.

A code is the HMAC-SHA256 of (campaign, period, subject pseudonym) under the city's coupon key
(`<data_dir>/coupon.key`, created on first use, readable by the owner only), cut to 80 bits and
written in Crockford base32 as four groups of four (`7KQ2-M9XD-…`). The same subject in the same
campaign period always gets the same code (so re-issuing after a crash prints the same letter);
without the key nobody can make a valid one, and guessing one among 2^80 is hopeless.

`verify_coupon` and `use_coupon` are what the coupon page and API call (a shop, IVAGO): they see
the campaign, the period, the value and whether it was used — never who it belongs to.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

from sqlalchemy.orm import Session

from entitle.private_files import private_file
from entitle.store import audit
from entitle.store import campaigns as store

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U
CODE_CHARS = 16
_READ_AS = {"O": "0", "I": "1", "L": "1"}


def coupon_key(path: Path) -> bytes:
    """The coupon key in `path`, created (random, owner-only) when absent."""
    if not path.exists():
        private_file(path).write_text(secrets.token_hex(32), encoding="utf-8")
    key = bytes.fromhex(path.read_text(encoding="utf-8").strip())
    if len(key) < 16:
        raise ValueError(f"{path}: a coupon key needs at least 16 bytes")
    return key


def make_code(key: bytes, campaign: str, period: str, subject_pseudonym: str) -> str:
    """The coupon code of one subject in one campaign period."""
    message = f"coupon|{campaign}|{period}|{subject_pseudonym}".encode()
    number = int.from_bytes(hmac.new(key, message, hashlib.sha256).digest()[:10], "big")
    chars = []
    for _ in range(CODE_CHARS):
        number, digit = divmod(number, 32)
        chars.append(ALPHABET[digit])
    raw = "".join(reversed(chars))
    return "-".join(raw[i : i + 4] for i in range(0, CODE_CHARS, 4))


def normalise(code: str) -> str | None:
    """A typed or scanned code in its printed form (case, spaces, dashes and look-alikes
    forgiven; a verification URL is accepted too); None when it cannot be one."""
    text = code.strip().rstrip("/").rsplit("/", 1)[-1].upper()
    raw = "".join(_READ_AS.get(c, c) for c in text if c not in " -")
    if len(raw) != CODE_CHARS or any(c not in ALPHABET for c in raw):
        return None
    return "-".join(raw[i : i + 4] for i in range(0, CODE_CHARS, 4))


@dataclass(frozen=True)
class CouponStatus:
    """What a shop may see about a code."""

    code: str
    valid: bool  # issued by the city and authentic
    campaign: str | None = None
    period: str | None = None
    value: dict[str, Any] | None = None  # e.g. {"amount": 84.0, "extra_credit": 42.0}
    band: str | None = None
    valid_until: date | None = None
    used: datetime | None = None
    expired: bool = False

    @property
    def usable(self) -> bool:
        return self.valid and self.used is None and not self.expired

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "valid": self.valid,
            "usable": self.usable,
            "campaign": self.campaign,
            "period": self.period,
            "value": self.value,
            "band": self.band,
            "valid_until": self.valid_until.isoformat() if self.valid_until else None,
            "used": self.used.isoformat() if self.used else None,
            "expired": self.expired,
        }


def verify_coupon(
    session: Session, code: str, *, key: bytes, today: date | None = None
) -> CouponStatus:
    """Check a code: issued, authentic (its HMAC matches the stored subject), used or not."""
    printed = normalise(code)
    if printed is None:
        return CouponStatus(code=code.strip()[:40], valid=False)
    letter = store.find_coupon(session, printed)
    if letter is None or letter.kind != "coupon":
        return CouponStatus(code=printed, valid=False)
    expected = make_code(key, letter.campaign, letter.period, letter.subject_pseudonym)
    if not hmac.compare_digest(expected, printed):
        return CouponStatus(code=printed, valid=False)
    on = today or date.today()
    return CouponStatus(
        code=printed,
        valid=True,
        campaign=letter.campaign,
        period=letter.period,
        value=letter.value,
        band=letter.band,
        valid_until=letter.valid_until,
        used=letter.used,
        expired=letter.valid_until is not None and on > letter.valid_until,
    )


UseResult = Literal["used", "already_used", "unknown", "expired"]


def use_coupon(
    session: Session,
    code: str,
    *,
    key: bytes,
    actor: str,
    now: datetime | None = None,
) -> tuple[UseResult, CouponStatus]:
    """Mark a coupon used, once (flushed; the caller commits). Audited as an `export` of one
    coupon's use by `actor` (the shop or the waste company's account)."""
    moment = now or datetime.now().astimezone()
    status = verify_coupon(session, code, key=key, today=moment.date())
    if not status.valid:
        return "unknown", status
    if status.expired:
        return "expired", status
    result = store.use_coupon(session, status.code, actor=actor, now=moment)
    if result == "used":
        letter = store.find_coupon(session, status.code)
        audit.append(
            session,
            kind="export",
            actor=actor,
            purpose=None,
            subject=letter.subject_pseudonym if letter else None,
            outcome="coupon_used",
            details={"campaign": status.campaign, "period": status.period},
            now=now,
        )
        status = verify_coupon(session, status.code, key=key, today=moment.date())
    return ("used" if result == "used" else "already_used"), status
