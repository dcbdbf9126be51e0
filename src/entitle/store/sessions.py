"""Server-side sessions in the database, so any web worker can serve any request.

The browser holds a random session id; the database holds only its SHA-256, the user and a CSRF
token. A session lasts `ttl_seconds` from sign-in at most, and ends earlier when idle for
`idle_seconds` (no request); a disabled account's sessions end at once. A user can list their
sessions and end them (all, or all but the current one); a new password ends them all.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from entitle.store.models import User, WebSession, utc
from entitle.store.users import UserView

DEFAULT_TTL_SECONDS = 8 * 3600
DEFAULT_IDLE_SECONDS = 30 * 60
SEEN_EVERY = timedelta(seconds=30)  # last_seen is written at most this often per session


def _key(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def create_session(
    session: Session,
    user_id: int,
    *,
    ttl_seconds: int = DEFAULT_TTL_SECONDS,
    now: datetime | None = None,
) -> tuple[str, str]:
    """Start a session for a signed-in user: returns (session id, CSRF token)."""
    moment = utc(now)
    if session.get(User, user_id) is None:
        raise ValueError(f"no user with id {user_id}")
    session.execute(delete(WebSession).where(WebSession.expires <= moment))  # housekeeping
    session_id = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    session.add(
        WebSession(
            id_hash=_key(session_id),
            user_id=user_id,
            csrf=csrf,
            created=moment,
            expires=moment + timedelta(seconds=ttl_seconds),
            last_seen=moment,
        )
    )
    session.flush()
    return session_id, csrf


def load_session(
    session: Session,
    session_id: str,
    *,
    now: datetime | None = None,
    idle_seconds: int = DEFAULT_IDLE_SECONDS,
) -> tuple[UserView, str] | None:
    """The user and CSRF token of a live session; None if unknown, expired, idle too long or
    disabled. A session in use has its last request noted (the idle clock restarts)."""
    if not session_id:
        return None
    row = session.execute(
        select(WebSession, User)
        .join(User, User.id == WebSession.user_id)
        .where(WebSession.id_hash == _key(session_id))
    ).first()
    if row is None:
        return None
    stored, user = row
    moment = utc(now)
    seen = utc(stored.last_seen or stored.created)
    if stored.expires <= moment or moment - seen >= timedelta(seconds=idle_seconds):
        session.delete(stored)
        session.flush()
        return None
    if not user.active:
        return None
    if moment - seen >= SEEN_EVERY:
        stored.last_seen = moment
        session.flush()
    return UserView(user.id, user.username, user.role, user.active), stored.csrf


@dataclass(frozen=True)
class SessionInfo:
    """One open session of a user, as the user sees it (never the session id)."""

    ref: str  # a short reference: the first characters of the id's hash
    created: datetime
    last_seen: datetime
    expires: datetime
    current: bool


def list_sessions(
    session: Session, user_id: int, current_id: str | None = None, *, now: datetime | None = None
) -> list[SessionInfo]:
    """The user's sessions that have not expired, newest first."""
    current = _key(current_id) if current_id else None
    rows = session.scalars(
        select(WebSession)
        .where(WebSession.user_id == user_id, WebSession.expires > utc(now))
        .order_by(WebSession.created.desc())
    )
    return [
        SessionInfo(
            ref=row.id_hash[:8],
            created=utc(row.created),
            last_seen=utc(row.last_seen or row.created),
            expires=utc(row.expires),
            current=row.id_hash == current,
        )
        for row in rows
    ]


def end_user_sessions(session: Session, user_id: int, *, keep: str | None = None) -> int:
    """End every session of the user (but `keep`, a session id, when given); returns how many."""
    query = delete(WebSession).where(WebSession.user_id == user_id)
    if keep:
        query = query.where(WebSession.id_hash != _key(keep))
    ended = session.execute(query).rowcount  # type: ignore[attr-defined]
    session.flush()
    return int(ended or 0)


def end_session(session: Session, session_id: str) -> None:
    """Sign out: forget the session (unknown ids are ignored)."""
    session.execute(delete(WebSession).where(WebSession.id_hash == _key(session_id)))
    session.flush()
