"""Why a fact is missing from a decision, typed: one `MissingReason` for the desk and campaigns.

A reason is the source's error kind (`ErrorKind`: ``no_data``, ``retry``, ``refused`` …), the
code behind it (MSG00021, HTTP_404, CIRCUIT_OPEN …) and a short description — never a value read
from the source. A missing fact is either the **citizen's** (no data at the source: they can bring
it) or **ours** (every other kind: they have nothing to bring).

Stored two ways, parsed in one place (`MissingReason.parse`): campaigns store the JSON object
(`to_json`); a desk decision stores the ``"kind: detail"`` text (`text`) as it always has.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from entitle.sources.magda.errors import ErrorKind
from entitle.sources.magda.facts import Unavailable
from entitle.store.decisions import redact

KINDS = frozenset(kind.value for kind in ErrorKind)


class Fault(StrEnum):
    """Whose fault a missing fact is."""

    CITIZEN = "citizen"  # no data at the source: the citizen can bring it
    OURS = "ours"  # transport, HTTP, malformed reply, configuration, authorisation, breaker


@dataclass(frozen=True)
class MissingReason:
    """Why one fact is missing: the error kind (`ErrorKind` value), the code behind it and a
    short description."""

    kind: str
    code: str = ""
    detail: str = ""

    @property
    def fault(self) -> Fault:
        return Fault.CITIZEN if self.kind == ErrorKind.NO_DATA.value else Fault.OURS

    @property
    def ours(self) -> bool:
        return self.fault is Fault.OURS

    @property
    def known_kind(self) -> str:
        """The kind, or ``error`` for one no source gives (a reason stored by another version)."""
        return self.kind if self.kind in KINDS else ErrorKind.ERROR.value

    def label(self) -> str:
        """How a run's summary names it: the code, or the kind when there is no code."""
        return self.code or self.kind

    def text(self) -> str:
        """The ``"kind: detail"`` text a desk decision stores and `entitle check` prints."""
        return f"{self.kind}: {self.detail}"

    def to_json(self) -> dict[str, str]:
        """The JSON object a campaign decision stores (the detail shortened and redacted)."""
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
    def parse(cls, value: Any) -> MissingReason:
        """A stored or summarised reason: the JSON object, the ``"kind: detail"`` text or a bare
        kind. Anything else (the older ``"no data"`` among it) is no data at the source."""
        if isinstance(value, Mapping):
            return cls(
                str(value.get("kind", ErrorKind.ERROR.value)),
                str(value.get("code", "")),
                str(value.get("detail", "")),
            )
        text = str(value)
        kind, _, rest = text.partition(":")
        if kind.strip() in KINDS:
            return cls(kind.strip(), "", rest.strip())
        return cls(ErrorKind.NO_DATA.value, "", text)


NO_DATA = MissingReason(ErrorKind.NO_DATA.value, "", "no data at the source")


def reasons_of(stored: Mapping[str, Any] | None) -> dict[str, MissingReason]:
    """A decision's stored reasons (fact -> reason), typed."""
    return {fact: MissingReason.parse(why) for fact, why in (stored or {}).items()}


def ours_in(stored: Mapping[str, Any] | None) -> dict[str, MissingReason]:
    """The facts of a decision missing through our failure, with their reasons."""
    return {fact: why for fact, why in reasons_of(stored).items() if why.ours}
