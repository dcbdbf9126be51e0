"""What a caller may see of a stored decision — one function, used by every page and endpoint.

`decision_access(caller, decision)` says whether a signed-in role or an API client may read a
stored decision at all; `visible_decision` gives the decision as that caller may see it, with
the protected conditions hidden exactly as on the desk card (`is_protected`).

- An **API client** reads the decisions *it* made, for a purpose and benefit of its token; or any
  decision made for a purpose its token names explicitly as ``decisions:read:<purpose>`` (a
  wildcard purpose does not grant that), still within the token's benefits.
- **Auditors** read every decision (the audit log and the subject-access report name them).
- The **desk roles** read the decisions they made themselves (the result card of their check).
- **Coupon verifiers** read none.

Conditions that read special-category data (income, health: sensitivity 3) are shown as
``protected`` without their true/false, and the names of those facts are left out of the facts
used, for every caller: the outcome says enough.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from entitle.decide.accounts import ROLES
from entitle.decide.check import condition_facts
from entitle.rules.catalogue import Catalogue
from entitle.rules.model import Benefit

PROTECTED_SENSITIVITY = 3  # income and health: never shown, not even as true/false
READ_SCOPE = "decisions:read:"  # a token purpose "decisions:read:<purpose>"
WILDCARD = "*"
AUDIT_READERS = frozenset({"auditor"})
OWN_READERS = frozenset({"desk_officer", "campaign_manager", "administrator"})
assert AUDIT_READERS | OWN_READERS | {"coupon_verifier"} == set(ROLES)


@dataclass(frozen=True)
class Caller:
    """A signed-in user (`role`, `name`) or an API client (`client` and its token's scope)."""

    name: str
    role: str | None = None
    client: str | None = None
    purposes: tuple[str, ...] = ()
    benefits: tuple[str, ...] = ()

    @classmethod
    def user(cls, username: str, role: str) -> Caller:
        return cls(name=username, role=role)

    @classmethod
    def token(cls, client: str, purposes: Iterable[str], benefits: Iterable[str]) -> Caller:
        return cls(
            name=f"api:{client}", client=client, purposes=tuple(purposes), benefits=tuple(benefits)
        )


@dataclass(frozen=True)
class Access:
    allowed: bool
    why: str  # for a refusal: what the caller lacks


def _allows(scope: tuple[str, ...], value: str) -> bool:
    return WILDCARD in scope or value in scope


def decision_access(caller: Caller, decision: dict[str, Any]) -> Access:
    """Whether `caller` may read the stored `decision` (a `decision_dict`), and why not."""
    benefit, purpose = str(decision.get("benefit", "")), str(decision.get("purpose", ""))
    own = decision.get("actor") == caller.name
    if caller.client is None:
        if caller.role in AUDIT_READERS:
            return Access(True, "")
        if caller.role in OWN_READERS and own:
            return Access(True, "")
        return Access(False, f"role {caller.role!r} may not read this decision")
    who = f"token of client {caller.client!r}"
    if not _allows(caller.benefits, benefit):
        return Access(False, f"{who} is not authorised for benefit {benefit!r}")
    if READ_SCOPE + purpose in caller.purposes:
        return Access(True, "")
    if own and _allows(caller.purposes, purpose):
        return Access(True, "")
    return Access(
        False,
        f"{who} may read only the decisions it made for its purposes "
        f"(or needs the scope '{READ_SCOPE}{purpose}')",
    )


def is_protected(facts: Iterable[str], catalogue: Catalogue) -> bool:
    """Whether a condition reading `facts` is protected (income or health data)."""
    for fact in facts:
        spec = catalogue.get(fact)
        if spec is not None and spec.sensitivity >= PROTECTED_SENSITIVITY:
            return True
    return False


def protected_facts(facts: Iterable[str], catalogue: Catalogue) -> set[str]:
    return {fact for fact in facts if is_protected((fact,), catalogue)}


def protected_conditions(benefit: Benefit, catalogue: Catalogue) -> set[str]:
    """The conditions of `benefit` that read income or health data (the campaign pages too)."""
    return {
        name for name, facts in condition_facts(benefit).items() if is_protected(facts, catalogue)
    }


def visible_decision(
    caller: Caller, decision: dict[str, Any], benefit: Benefit | None, catalogue: Catalogue
) -> dict[str, Any] | None:
    """The decision as `caller` may see it, or None when it may not see it at all.

    Each condition gets a status (yes, no, unknown, protected) beside its value; a protected
    condition's value is null. Without the benefit's definition every condition is protected
    (nothing says which facts it read)."""
    if not decision_access(caller, decision).allowed:
        return None
    shown = dict(decision)
    conditions: dict[str, bool | None] = {}
    status: dict[str, str] = {}
    known = set(benefit.conditions) if benefit is not None else set()
    hidden = protected_conditions(benefit, catalogue) if benefit is not None else set()
    for name, value in (decision.get("conditions") or {}).items():
        if name not in known or (value is not None and name in hidden):
            conditions[name], status[name] = None, "protected"
        else:
            conditions[name] = value
            status[name] = "unknown" if value is None else ("yes" if value else "no")
    shown["conditions"] = conditions
    shown["condition_status"] = status
    secret = protected_facts(decision.get("facts_used") or (), catalogue)
    shown["facts_used"] = [f for f in decision.get("facts_used") or () if f not in secret]
    return shown
