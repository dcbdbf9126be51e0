"""Accounts, roles, local passwords (argon2id), and API tokens for machine clients.

Authentication sits behind one function, `authenticate`: the web app never touches hashes. An
OpenID Connect provider can later replace local passwords by resolving its `(issuer, subject)`
to a `users` row (`auth_provider`, `external_id`) and returning the same `UserView`.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from entitle.store.models import ApiToken, User, WebSession, utc
from entitle.store.roles import ROLES as ROLES  # defined apart: `entitle --help` names them

MIN_PASSWORD_LENGTH = 8
USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,149}$")

hasher = PasswordHasher()  # argon2id, library defaults (RFC 9106 low-memory profile)
_dummy_hash: str | None = None


class UserError(ValueError):
    """A bad account request: unknown user, duplicate name, unknown role, weak password."""


@dataclass(frozen=True)
class UserView:
    id: int
    username: str
    role: str
    active: bool


AuthReason = Literal["unknown", "bad_password", "throttled", "disabled"]


class AuthError(Exception):
    """Sign-in refused. `reason` is for the audit log; show users one generic message."""

    def __init__(self, reason: AuthReason) -> None:
        super().__init__(reason)
        self.reason: AuthReason = reason


def _view(user: User) -> UserView:
    return UserView(id=user.id, username=user.username, role=user.role, active=user.active)


def _by_name(session: Session, username: str, *, lock: bool = False) -> User | None:
    query = select(User).where(User.username == username)
    if lock:
        query = query.with_for_update()
    return session.scalars(query).first()


def add_user(session: Session, username: str, password: str, role: str) -> UserView:
    """Create a local account (argon2id password hash)."""
    if role not in ROLES:
        raise UserError(f"unknown role {role!r}; one of {', '.join(ROLES)}")
    if not USERNAME.match(username):
        raise UserError(f"bad username {username!r}: letters, digits and . _ @ - (max 150)")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"password too short: at least {MIN_PASSWORD_LENGTH} characters")
    if _by_name(session, username) is not None:
        raise UserError(f"user {username!r} already exists")
    user = User(
        username=username,
        role=role,
        active=True,
        auth_provider="local",
        password_hash=hasher.hash(password),
        failed_logins=0,
        created=utc(),
    )
    session.add(user)
    session.flush()
    return _view(user)


def list_users(session: Session) -> list[UserView]:
    """Every account, by username."""
    return [_view(u) for u in session.scalars(select(User).order_by(User.username))]


def get_user(session: Session, user_id: int) -> UserView | None:
    """One account by id."""
    user = session.get(User, user_id)
    return _view(user) if user else None


def disable_user(session: Session, username: str) -> None:
    """Disable an account and end its sessions (accounts are never deleted: the audit log names
    them)."""
    user = _by_name(session, username, lock=True)
    if user is None:
        raise UserError(f"no user {username!r}")
    user.active = False
    session.execute(delete(WebSession).where(WebSession.user_id == user.id))
    session.flush()


def _verify(password_hash: str | None, password: str) -> bool:
    global _dummy_hash
    if password_hash is None:  # unknown user or no local password: spend the same time anyway
        if _dummy_hash is None:
            _dummy_hash = hasher.hash(secrets.token_hex(16))
        with contextlib.suppress(VerificationError, InvalidHashError):
            hasher.verify(_dummy_hash, password)
        return False
    try:
        return hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def authenticate(
    session: Session, username: str, password: str, *, now: datetime | None = None
) -> UserView:
    """Check a local password. Raises `AuthError` (unknown, bad_password, disabled).

    There is no lock-out (anyone could lock an officer out): failed attempts are slowed down by
    `entitle.store.throttle` instead. An unknown name costs the same time as a wrong password;
    `failed_logins` counts failures since the last success (for administrators), committed before
    raising so the count holds even when the caller rolls back.
    """
    moment = utc(now)
    user = _by_name(session, username, lock=True)
    if user is None:
        _verify(None, password)
        raise AuthError("unknown")
    if not _verify(user.password_hash, password):
        user.failed_logins += 1
        user.failed_since = user.failed_since or moment
        session.commit()
        raise AuthError("bad_password")
    if not user.active:
        raise AuthError("disabled")
    assert user.password_hash is not None
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hasher.hash(password)
    user.failed_logins = 0
    user.failed_since = None
    user.locked_until = None
    user.last_login = moment
    session.flush()
    return _view(user)


def spend_password_time(password: str) -> None:
    """Spend the time a password check takes without checking anything (a throttled attempt
    must not answer faster than a wrong password)."""
    _verify(None, password)


def set_password(session: Session, user_id: int, password: str) -> None:
    """Set a new local password and end every session of the account."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"password too short: at least {MIN_PASSWORD_LENGTH} characters")
    user = session.get(User, user_id, with_for_update=True)
    if user is None:
        raise UserError(f"no user with id {user_id}")
    user.password_hash = hasher.hash(password)
    session.execute(delete(WebSession).where(WebSession.user_id == user.id))
    session.flush()


def change_password(session: Session, user_id: int, current: str, new: str) -> None:
    """The user's own change: the current password must be right; every session ends."""
    user = session.get(User, user_id)
    if user is None or not _verify(user.password_hash, current):
        raise AuthError("bad_password")
    set_password(session, user_id, new)


# --- API tokens -------------------------------------------------------------------------------


@dataclass(frozen=True)
class TokenView:
    client: str
    purposes: tuple[str, ...]
    benefits: tuple[str, ...]


def _token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_api_token(
    session: Session, client: str, purposes: list[str], benefits: list[str]
) -> str:
    """A new bearer token for `client`, limited to purposes and benefits. Returns the secret once;
    only its SHA-256 is stored (256 random bits: a slow hash adds nothing)."""
    if not client.strip():
        raise UserError("an API client needs a name")
    if not purposes or not benefits:
        raise UserError("an API token needs at least one purpose and one benefit")
    secret = "ent_" + secrets.token_urlsafe(32)
    session.add(
        ApiToken(
            client=client,
            token_hash=_token_hash(secret),
            purposes=list(purposes),
            benefits=list(benefits),
            active=True,
            created=utc(),
        )
    )
    session.flush()
    return secret


def check_api_token(session: Session, secret: str) -> TokenView | None:
    """The client a bearer token belongs to, or None (unknown or revoked)."""
    token = session.scalars(
        select(ApiToken).where(ApiToken.token_hash == _token_hash(secret), ApiToken.active)
    ).first()
    if token is None:
        return None
    return TokenView(token.client, tuple(token.purposes), tuple(token.benefits))


def revoke_api_tokens(session: Session, client: str) -> int:
    """Revoke every token of `client`; returns how many were active."""
    tokens = session.scalars(
        select(ApiToken).where(ApiToken.client == client, ApiToken.active)
    ).all()
    for token in tokens:
        token.active = False
    session.flush()
    return len(tokens)
