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
    role must be one of `roles`. Audited like a sign-in on the web (`entitle.decide.accounts`).
    Returns the role."""
    import sys

    from sqlalchemy.exc import SQLAlchemyError

    from entitle.decide.accounts import AuthError, sign_in_on_command_line
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
        user = sign_in_on_command_line(ctx.factory, actor, password)
    except AuthError as exc:
        raise fail(f"sign-in as {actor!r} failed ({exc.reason})") from None
    except SQLAlchemyError as exc:
        why = short_error(exc)
        raise fail(f"sign-in as {actor!r}: the database is not writable: {why}", 3) from None
    if user.role not in roles:
        raise fail(f"{actor!r} is not an active campaign manager")
    return user.role
