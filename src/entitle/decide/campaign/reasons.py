"""Why a fact is missing from a campaign decision, and whose fault that is.

A fact is missing either because the **citizen's** data is not at the source (MSG00021 not
integrated, no tax assessment yet, no data found, not in the register extract): the household
may bring it to the desk, so an undetermined decision invites it. Or because of **our** failure
(transport, an HTTP status, a malformed reply, configuration, authorisation, an open circuit
breaker, a local dataset that did not answer): the household has nothing to bring. Such a
household is stored *pending*: no letter of any kind, counted and named in the run's summary,
and decided by the next run.

Reasons are stored as small JSON objects (`MissingReason.to_json`), never as free text.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from entitle.sources.magda import ErrorKind, Unavailable
from entitle.store.decisions import redact

PENDING = "pending"  # the outcome of a subject whose missing facts include one of ours
NOT_IN_REGISTER_CODE = "NOT_IN_REGISTER"  # a target subject missing from the register extract


class Fault(StrEnum):
    """Whose fault a missing fact is."""

    CITIZEN = "citizen"  # no data at the source: the citizen can bring it
    OURS = "ours"  # transport, HTTP, malformed reply, configuration, authorisation, breaker


@dataclass(frozen=True)
class MissingReason:
    """Why one fact is missing: the error kind (`ErrorKind` value), the code behind it
    (MSG00021, HTTP_404, MALFORMED, CIRCUIT_OPEN …) and a short description."""

    kind: str
    code: str
    detail: str

    @property
    def fault(self) -> Fault:
        return Fault.CITIZEN if self.kind == ErrorKind.NO_DATA.value else Fault.OURS

    @property
    def ours(self) -> bool:
        return self.fault is Fault.OURS

    def label(self) -> str:
        """How the summary names it: the code, or the kind when there is no code."""
        return self.code or self.kind

    def to_json(self) -> dict[str, str]:
        return {
            "fault": self.fault.value,
            "kind": self.kind,
            "code": self.code,
            "detail": redact(self.detail, 200),
        }

    @classmethod
    def of(cls, unavailable: Unavailable) -> MissingReason:
        """From a source's `Unavailable` (its first code names it)."""
        code = unavailable.codes[0] if unavailable.codes else ""
        return cls(unavailable.kind.value, code, unavailable.reason)

    @classmethod
    def from_json(cls, value: Any) -> MissingReason:
        """A stored reason: the JSON object, or the older ``"kind: text"`` string."""
        if isinstance(value, dict):
            return cls(
                str(value.get("kind", ErrorKind.ERROR.value)),
                str(value.get("code", "")),
                str(value.get("detail", "")),
            )
        text = str(value)
        kind, _, rest = text.partition(": ")
        if kind in {k.value for k in ErrorKind}:
            return cls(kind, "", rest)
        return cls(ErrorKind.NO_DATA.value, "", text)


NO_DATA = MissingReason(ErrorKind.NO_DATA.value, "", "no data at the source")


def reasons_of(stored: dict[str, Any] | None) -> dict[str, MissingReason]:
    """A decision's stored reasons, typed."""
    return {fact: MissingReason.from_json(why) for fact, why in (stored or {}).items()}


def ours_in(stored: dict[str, Any] | None) -> dict[str, MissingReason]:
    """The facts of a decision missing through our failure, with their reasons."""
    return {fact: why for fact, why in reasons_of(stored).items() if why.ours}
