"""MAGDA exceptions (``Uitzondering``) as typed results, and the errors this package raises.

Every ``Uitzondering`` gets an `ErrorKind` that tells the caller what to do with it:

- ``no_data``     the source has nothing for this question (30001, 30101, 45008, MSG00021 …).
                  It is *never* a "no": the facts it would have given stay unknown.
- ``retry``       a transient failure (99996 overload, 60006 no answer from the source, 9999x
                  technical errors, time-outs, HTTP 5xx). Ask again later.
- ``refused``     the sender or purpose is not authorised for this service or status.
- ``bad_request`` the question itself is wrong (20110 too many questions, 30003 unknown INSZ,
                  40000 invalid criteria, SOAP Client fault). Fix the request; do not retry.
- ``error``       anything else that failed: an unexpected error, a malformed reply.
- ``info``        a warning or information (30004 new INSZ, 30042, 99984) that does not stop the
                  answer's data from being used.

Codes met in the MAGDA mock messages are listed in `KNOWN_CODES`. Codes not listed there are
classified by their MAGDA type and number range (see `classify`); the table wins over the ranges.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal

__all__ = [
    "BLOCKING_KINDS",
    "KNOWN_CODES",
    "ErrorKind",
    "Level",
    "MagdaAuthenticationError",
    "MagdaConfigError",
    "MagdaError",
    "MagdaParseError",
    "NotMagdaResponseError",
    "Uitzondering",
    "UnsupportedServiceError",
    "classify",
    "worst_kind",
]


class ErrorKind(StrEnum):
    """What an exception means for the facts the question would have given."""

    NO_DATA = "no_data"
    RETRY = "retry"
    REFUSED = "refused"
    BAD_REQUEST = "bad_request"
    ERROR = "error"
    INFO = "info"


BLOCKING_KINDS = frozenset(
    {ErrorKind.NO_DATA, ErrorKind.RETRY, ErrorKind.REFUSED, ErrorKind.BAD_REQUEST, ErrorKind.ERROR}
)

# When several exceptions stand in the way of one fact, the one reported is the most actionable:
# a refusal or a bad request is a configuration or programming problem, a transient failure means
# the data may well exist, and "no data" is only certain when nothing else went wrong.
_PRECEDENCE = (
    ErrorKind.REFUSED,
    ErrorKind.BAD_REQUEST,
    ErrorKind.RETRY,
    ErrorKind.ERROR,
    ErrorKind.NO_DATA,
    ErrorKind.INFO,
)

KNOWN_CODES: dict[str, tuple[ErrorKind, str]] = {
    # no data
    "30001": (ErrorKind.NO_DATA, "no data found for the question"),
    "30101": (ErrorKind.NO_DATA, "no data found for the question (education source)"),
    "45008": (ErrorKind.NO_DATA, "the requested income year does not exist (not assessed yet)"),
    "MSG00021": (ErrorKind.NO_DATA, "INSZ not sufficiently integrated at the data provider"),
    "30016": (ErrorKind.NO_DATA, "no further notifications waiting (mutation notifications)"),
    # transient
    "60006": (ErrorKind.RETRY, "no answer received from the source"),
    "99994": (ErrorKind.RETRY, "unexpected error at the source"),
    "99995": (ErrorKind.RETRY, "too many simultaneous requests"),
    "99996": (ErrorKind.RETRY, "source temporarily unavailable / overloaded"),
    "99997": (ErrorKind.RETRY, "underlying service unreachable"),
    # the question is wrong
    "20110": (ErrorKind.BAD_REQUEST, "too many questions in one request (maximum 5)"),
    "30003": (ErrorKind.BAD_REQUEST, "INSZ does not exist"),
    "40000": (ErrorKind.BAD_REQUEST, "invalid criteria"),
    "30014": (ErrorKind.BAD_REQUEST, "unknown receipt reference (mutation notifications)"),
    # warnings and information: the answer's data stays usable
    "30004": (ErrorKind.INFO, "the person has a new INSZ"),
    "30042": (ErrorKind.INFO, "several occurrences at the source, only one in the answer"),
    "99984": (ErrorKind.INFO, "MAGDA has no description for the source's code"),
    # statuses inside GeefDossierHandicap answers
    "MSG00000": (ErrorKind.INFO, "treatment successful"),
}

_REFUSAL_WORDS = (
    "gemachtigd",
    "machtiging",
    "geautoriseerd",
    "autorisatie",
    "geen toegang",
    "niet toegelaten",
    "hoedanigheid",
    "not authorised",
    "not authorized",
    "unauthorized",
    "forbidden",
)

Level = Literal["reply", "answer", "source", "transport"]


def classify(code: str, severity: str | None = None, diagnosis: str | None = None) -> ErrorKind:
    """The kind of one MAGDA exception.

    ``severity`` is MAGDA's ``Type`` (FOUT, WAARSCHUWING, INFORMATIE). Unknown codes: a warning or
    information is ``info``; an error is classified by the wording of its diagnosis (authorisation
    words → ``refused``) and then by MAGDA's number ranges: 1xxxx/2xxxx/4xxxx request errors
    (``bad_request``), 3xxxx no data, 5xxxx authorisation (``refused``), 6xxxx and 9xxxx transient
    (``retry``); anything else is ``error``.
    """
    known = KNOWN_CODES.get(code.strip())
    if known is not None:
        return known[0]
    sev = (severity or "FOUT").strip().upper()
    if sev in ("WAARSCHUWING", "INFORMATIE"):
        return ErrorKind.INFO
    text = (diagnosis or "").lower()
    if any(word in text for word in _REFUSAL_WORDS):
        return ErrorKind.REFUSED
    digits = code.strip()
    if len(digits) == 5 and digits.isdigit():
        return {
            "1": ErrorKind.BAD_REQUEST,
            "2": ErrorKind.BAD_REQUEST,
            "3": ErrorKind.NO_DATA,
            "4": ErrorKind.BAD_REQUEST,
            "5": ErrorKind.REFUSED,
            "6": ErrorKind.RETRY,
            "9": ErrorKind.RETRY,
        }.get(digits[0], ErrorKind.ERROR)
    if digits.startswith("MSG"):
        return ErrorKind.NO_DATA if "integrated" in text or "no_data" in text else ErrorKind.ERROR
    return ErrorKind.ERROR


def worst_kind(kinds: list[ErrorKind] | tuple[ErrorKind, ...]) -> ErrorKind | None:
    """The most actionable blocking kind among ``kinds`` (``info`` only if nothing else)."""
    present = set(kinds)
    for kind in _PRECEDENCE:
        if kind in present:
            return kind
    return None


@dataclass(frozen=True)
class Uitzondering:
    """One MAGDA exception, or a failure of the exchange itself (``level="transport"``).

    ``severity`` is MAGDA's ``Type`` (FOUT / WAARSCHUWING / INFORMATIE); ``kind`` is what it means
    for the caller. ``level`` says where it stood: on the whole reply, on one answer, on one
    source inside an answer (GeefDossierHandicap), or on the HTTP exchange.
    """

    code: str
    kind: ErrorKind
    diagnosis: str
    severity: str = "FOUT"
    origin: str | None = None
    level: Level = "answer"
    circumstance: str | None = None
    annotations: tuple[tuple[str, str], ...] = ()

    @property
    def blocking(self) -> bool:
        """Whether it stands in the way of data (anything but ``info``)."""
        return self.kind in BLOCKING_KINDS

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "code": self.code,
            "type": self.kind.value,
            "diagnosis": self.diagnosis,
            "severity": self.severity,
            "origin": self.origin,
            "level": self.level,
        }
        if self.circumstance is not None:
            data["circumstance"] = self.circumstance
        if self.annotations:
            data["annotations"] = {name: value for name, value in self.annotations}
        return data

    @classmethod
    def transport(cls, code: str, kind: ErrorKind, diagnosis: str) -> Uitzondering:
        """A failure of the exchange (time-out, HTTP status, SOAP fault, open circuit …)."""
        return cls(code=code, kind=kind, diagnosis=diagnosis, origin="entitle", level="transport")


class MagdaError(Exception):
    """Base of the errors this package raises."""


class MagdaParseError(MagdaError, ValueError):
    """A document that cannot be read as a MAGDA reply."""


class NotMagdaResponseError(MagdaParseError):
    """Not XML, or XML that is not a MAGDA reply (nor a SOAP fault). Never quotes the content."""


class UnsupportedServiceError(MagdaParseError):
    """A MAGDA reply, but of a service this connector does not read."""


class MagdaConfigError(MagdaError, ValueError):
    """Settings that cannot work (e.g. no Hoedanigheid configured for a purpose)."""


class MagdaAuthenticationError(MagdaConfigError):
    """MAGDA refused a request's signature (unsigned, altered, or a certificate it does not trust):
    a configuration problem of this installation, reported as such and never as "no data"."""
