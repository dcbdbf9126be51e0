"""The demo's accounts: one per role, with random passwords kept in the demo's folder."""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from entitle.demo.procs import DemoError

# (username, role, what the role is called)
DEMO_ACCOUNTS = (
    ("desk", "desk_officer", "desk officer"),
    ("campaign", "campaign_manager", "campaign manager"),
    ("admin", "administrator", "administrator"),
    ("auditor", "auditor", "auditor"),
    ("shop", "coupon_verifier", "coupon verifier"),
)
PASSWORD_ALPHABET = (  # nosec B105  # an alphabet for demo passwords, not a password
    "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
)


def _new_password() -> str:
    return "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(14))


def _read_accounts(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError):
        return {}  # unreadable: new passwords (the accounts are reset to them)
    if not isinstance(data, dict):
        return {}
    return {str(k): str(v) for k, v in data.items() if isinstance(v, str)}


def _write_accounts(path: Path, passwords: dict[str, str]) -> None:
    text = json.dumps(passwords, indent=2, sort_keys=True) + "\n"
    partial = path.with_suffix(".tmp")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(partial, path)


def _password_matches(password_hash: str | None, password: str) -> bool:
    from argon2.exceptions import InvalidHashError, VerificationError

    from entitle.store import users

    if not password_hash:
        return False
    try:
        return users.hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def ensure_accounts(database_url: str, accounts_file: Path) -> dict[str, str]:
    """Migrate the database and make sure every demo account exists, is active and unlocked, and
    has its password from `accounts_file` (random passwords, made on the first start).
    Idempotent: a restart keeps the accounts and their passwords. Returns username -> password."""
    from sqlalchemy import select
    from sqlalchemy.exc import SQLAlchemyError

    from entitle.store import users
    from entitle.store.db import make_engine, migrate, session_factory
    from entitle.store.models import User

    passwords = _read_accounts(accounts_file)
    missing = [name for name, _, _ in DEMO_ACCOUNTS if name not in passwords]
    try:
        if missing:
            passwords.update({name: _new_password() for name in missing})
            _write_accounts(accounts_file, passwords)
    except OSError as exc:
        raise DemoError(f"cannot write {accounts_file}: {exc}") from None
    engine = None
    try:
        migrate(database_url)
        engine = make_engine(database_url)
        with session_factory(engine)() as session:
            for username, role, _ in DEMO_ACCOUNTS:
                password = passwords[username]
                user = session.scalar(select(User).where(User.username == username))
                if user is None:
                    users.add_user(session, username, password, role)
                    continue
                user.role, user.active = role, True
                user.failed_logins, user.failed_since, user.locked_until = 0, None, None
                if not _password_matches(user.password_hash, password):
                    user.password_hash = users.hasher.hash(password)
            session.commit()
    except (SQLAlchemyError, users.UserError) as exc:
        raise DemoError(f"database {database_url}: {exc}") from None
    finally:
        if engine is not None:
            engine.dispose()
    return {name: passwords[name] for name, _, _ in DEMO_ACCOUNTS}
