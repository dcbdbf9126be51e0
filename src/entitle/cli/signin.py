"""Signing in on the command line: the campaign commands that approve, reject, issue, export or
abandon act as an account (`--as`), signed in and audited as on the web."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import typer

from entitle.cli.options import fail
from entitle.settings import settings

if TYPE_CHECKING:
    from entitle.decide.campaign.context import CampaignContext

MANAGER_ROLES = ("campaign_manager", "administrator")
INSZ_ROLES = ("desk_officer", "campaign_manager", "administrator")  # see INSZ at the desk too


def sign_in(ctx: CampaignContext, actor: str, roles: Sequence[str] = MANAGER_ROLES) -> str:
    """Sign in the account `actor` (password from ENTITLE_PASSWORD or a hidden prompt); its
    role must be one of `roles`. Audited like a sign-in on the web. Returns the role."""
    import sys

    from sqlalchemy.exc import SQLAlchemyError

    from entitle.decide.campaign.outcome import short_error

    secret = settings().password
    password = secret.get_secret_value() if secret is not None else None
    if password is None:
        if not sys.stdin.isatty():
            raise fail(
                f"sign-in as {actor!r}: no password (set ENTITLE_PASSWORD or use a terminal)"
            )
        password = typer.prompt(f"password for {actor}", hide_input=True)
    try:
        return _authenticated(ctx, actor, password, roles)
    except SQLAlchemyError as exc:
        why = short_error(exc)
        raise fail(f"sign-in as {actor!r}: the database is not writable: {why}", 3) from None


def _authenticated(ctx: CampaignContext, actor: str, password: str, roles: Sequence[str]) -> str:
    from entitle.decide.accounts import typed_name
    from entitle.store import audit
    from entitle.store.users import AuthError, authenticate

    with ctx.factory() as session:
        try:
            user = authenticate(session, actor, password)
        except AuthError as exc:
            session.rollback()
            audit.append(
                session,
                kind="login_failed",
                actor=typed_name(actor),  # never an INSZ typed by mistake
                purpose=None,
                subject=None,
                outcome=exc.reason,
                details={"reason": exc.reason, "via": "cli"},
            )
            session.commit()
            raise fail(f"sign-in as {actor!r} failed ({exc.reason})") from None
        audit.append(
            session,
            kind="login",
            actor=user.username,
            purpose=None,
            subject=None,
            outcome=None,
            details={"role": user.role, "via": "cli"},
        )
        session.commit()
    if user.role not in roles:
        raise fail(f"{actor!r} is not an active campaign manager")
    return user.role
