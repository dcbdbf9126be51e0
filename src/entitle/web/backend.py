"""The use cases as the web application uses them: one object, one short transaction per operation.

Sign-in, sessions and tokens are `entitle.decide.accounts`'; the audit log, alerts and rate limits
`entitle.decide.audit_log`'; the desk's checks and overrides `entitle.decide.desk`'s (which takes
this object as its store). The web layer holds no state of its own, so several workers can serve
the same database.
"""

from __future__ import annotations

from entitle.decide.accounts import Accounts, AuthError, TokenView, UserView
from entitle.decide.audit_log import AuditLog

__all__ = ["AuthError", "Backend", "TokenView", "UserView"]


class Backend(Accounts, AuditLog):
    """Accounts and the audit log on one database (see `Accounts` for `token_ttl`)."""
