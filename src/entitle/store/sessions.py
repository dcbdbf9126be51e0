"""Server-side sessions in the database, so any web worker can serve any request.

The browser holds a random session id; the database holds only its SHA-256, the user and a CSRF
token. A session lasts `ttl_seconds` from sign-in; a disabled account's sessions end at once.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from entitle.store.models import User, WebSession, utc
from entitle.store.users import UserView

DEFAULT_TTL_SECONDS = 8 * 3600


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
        )
    )
    session.flush()
    return session_id, csrf


def load_session(
    session: Session, session_id: str, *, now: datetime | None = None
) -> tuple[UserView, str] | None:
    """The user and CSRF token of a live session; None if unknown, expired or disabled."""
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
    if stored.expires <= utc(now) or not user.active:
        return None
    return UserView(user.id, user.username, user.role, user.active), stored.csrf


def end_session(session: Session, session_id: str) -> None:
    """Sign out: forget the session (unknown ids are ignored)."""
    session.execute(delete(WebSession).where(WebSession.id_hash == _key(session_id)))
    session.flush()
