"""Signing of MAGDA requests (XML-DSig) and the state of the signing certificate.

Every request carries a ``ds:Signature`` in the SOAP ``Header`` over the ``Body`` (given an
``Id``): one reference ``#<Id>`` with the enveloped-signature and exclusive canonicalisation
transforms, RSA-SHA256 over SHA-256 digests, and ``KeyInfo/X509Data`` with the certificate, as
Digitaal Vlaanderen's own MAGDA clients send it. The XML security work is `signxml`'s (with
`cryptography` for keys and certificates): nothing here canonicalises or computes a digest.

`load_credentials` reads the key and certificate named by the `SigningSettings` (PEM pair or
PKCS#12) and fails with a `MagdaConfigError` that names the setting; `make_signer` gives the
function the transport applies to every outgoing envelope; `certificate_status` says when the
certificate expires.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from lxml import etree  # type: ignore[import-untyped,unused-ignore]
from signxml.algorithms import (
    CanonicalizationMethod,
    DigestAlgorithm,
    SignatureConstructionMethod,
    SignatureMethod,
)
from signxml.signer import XMLSigner

from entitle.sources.magda import _xml
from entitle.sources.magda.errors import MagdaConfigError
from entitle.sources.magda.settings import MagdaSettings, SigningSettings

__all__ = [
    "DSIG_NS",
    "CertificateStatus",
    "RequestSigner",
    "SigningCredentials",
    "certificate_status",
    "expiry_warning",
    "load_credentials",
    "make_signer",
]

DSIG_NS = "http://www.w3.org/2000/09/xmldsig#"
_ENV = "ENTITLE_MAGDA_SIGNING__"


def _setting(name: str) -> str:
    """How an operator finds a setting: its key and its environment variable."""
    return f"signing.{name} ({_ENV}{name.upper()})"


@dataclass(frozen=True)
class SigningCredentials:
    """The organisation's RSA key and certificate (with any CA certificates that came along)."""

    key: rsa.RSAPrivateKey
    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...] = ()


def _read(path: Path, setting: str) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise MagdaConfigError(f"{_setting(setting)}: no file {path}") from None
    except OSError as exc:
        raise MagdaConfigError(f"{_setting(setting)}: cannot read {path}: {exc.strerror}") from None


def _passphrase(settings: SigningSettings) -> bytes | None:
    if settings.passphrase is not None and settings.passphrase_file is not None:
        raise MagdaConfigError(
            f"give the signing passphrase once: {_setting('passphrase')} or "
            f"{_setting('passphrase_file')}, not both"
        )
    if settings.passphrase is not None:
        return settings.passphrase.get_secret_value().encode("utf-8")
    if settings.passphrase_file is not None:
        raw = _read(settings.passphrase_file, "passphrase_file")
        return raw.decode("utf-8").strip().encode("utf-8")
    return None


def _rsa(key: object, where: str) -> rsa.RSAPrivateKey:
    if key is None:
        raise MagdaConfigError(f"{where} holds no private key (a certificate only?)")
    if not isinstance(key, rsa.RSAPrivateKey):
        raise MagdaConfigError(f"{where}: the signing key must be an RSA key")
    return key


def _from_pkcs12(settings: SigningSettings, path: Path) -> SigningCredentials:
    where = f"{_setting('pkcs12_file')} {path}"
    data = _read(path, "pkcs12_file")
    password = _passphrase(settings)
    try:
        key, cert, extra = pkcs12.load_key_and_certificates(data, password)
    except ValueError:
        if password is None:
            raise MagdaConfigError(
                f"{where} cannot be opened: is it PKCS#12, and does it need a passphrase "
                f"({_setting('passphrase')} or {_setting('passphrase_file')})?"
            ) from None
        raise MagdaConfigError(
            f"{where} cannot be opened: wrong passphrase ({_setting('passphrase')} or "
            f"{_setting('passphrase_file')}), or not a PKCS#12 file"
        ) from None
    checked = _rsa(key, where)
    if cert is None:
        raise MagdaConfigError(f"{where} holds no certificate of the key")
    return SigningCredentials(checked, cert, tuple(extra or ()))


def _from_pem(settings: SigningSettings, key_path: Path, cert_path: Path) -> SigningCredentials:
    key_where = f"{_setting('key_file')} {key_path}"
    key_data = _read(key_path, "key_file")
    cert_data = _read(cert_path, "cert_file")
    if b"PRIVATE KEY-----" not in key_data:
        raise MagdaConfigError(f"{key_where} holds no private key (a certificate only?)")
    password = _passphrase(settings)
    try:
        key = serialization.load_pem_private_key(key_data, password)
    except TypeError:
        # encrypted without a passphrase, or a passphrase for a key that has none
        need = b"ENCRYPTED" in key_data
        raise MagdaConfigError(
            f"{key_where} is encrypted: set {_setting('passphrase')} or "
            f"{_setting('passphrase_file')}"
            if need
            else f"{key_where} is not encrypted, yet a passphrase is set"
        ) from None
    except ValueError:
        if b"ENCRYPTED" in key_data:
            raise MagdaConfigError(
                f"{key_where}: wrong passphrase ({_setting('passphrase')} or "
                f"{_setting('passphrase_file')})"
            ) from None
        raise MagdaConfigError(f"{key_where} is not a PEM private key") from None
    try:
        certs = x509.load_pem_x509_certificates(cert_data)
    except ValueError:
        raise MagdaConfigError(
            f"{_setting('cert_file')} {cert_path} is not a PEM certificate"
        ) from None
    return SigningCredentials(_rsa(key, key_where), certs[0], tuple(certs[1:]))


def load_credentials(settings: SigningSettings) -> SigningCredentials:
    """The key and certificate the settings name; `MagdaConfigError` naming the setting when a
    file is missing or unreadable, the passphrase is wrong, the key is missing or not RSA, or
    the certificate is not the key's."""
    if settings.pkcs12_file is not None:
        if settings.key_file is not None or settings.cert_file is not None:
            raise MagdaConfigError(
                f"give the signing identity once: {_setting('pkcs12_file')}, or "
                f"{_setting('key_file')} with {_setting('cert_file')}"
            )
        credentials = _from_pkcs12(settings, settings.pkcs12_file)
    elif settings.key_file is not None and settings.cert_file is not None:
        credentials = _from_pem(settings, settings.key_file, settings.cert_file)
    elif settings.key_file is not None or settings.cert_file is not None:
        missing = "cert_file" if settings.cert_file is None else "key_file"
        raise MagdaConfigError(
            f"{_setting(missing)} is not set (key_file and cert_file go together)"
        )
    else:
        raise MagdaConfigError(
            "MAGDA requests are signed, but no signing identity is configured: set "
            f"{_setting('pkcs12_file')}, or {_setting('key_file')} and {_setting('cert_file')}; "
            f"only for the registry simulator in development, {_setting('enabled')}=false"
        )
    ours = credentials.key.public_key().public_numbers()
    theirs = credentials.certificate.public_key()
    if not isinstance(theirs, rsa.RSAPublicKey) or theirs.public_numbers() != ours:
        raise MagdaConfigError(
            "the signing certificate does not belong to the signing key "
            f"({_setting('cert_file')} / {_setting('pkcs12_file')})"
        )
    return credentials


class RequestSigner:
    """Signs a built MAGDA envelope: ``Id`` on the ``Body``, ``ds:Signature`` in the ``Header``."""

    def __init__(self, credentials: SigningCredentials) -> None:
        self.credentials = credentials
        self._signer = XMLSigner(
            method=SignatureConstructionMethod.enveloped,
            signature_algorithm=SignatureMethod.RSA_SHA256,
            digest_algorithm=DigestAlgorithm.SHA256,
            c14n_algorithm=CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0,
        )
        self._certs = [credentials.certificate]

    def __call__(self, envelope_xml: bytes) -> bytes:
        root = _xml.parse_bytes(envelope_xml)
        header = _xml.child(root, "Header")
        body = _xml.child(root, "Body")
        if body is None:
            raise ValueError("not a SOAP envelope: no Body to sign")
        if header is None:
            header = etree.Element(f"{{{_xml.namespace(root)}}}Header")
            root.insert(0, header)
        body_id = body.get("Id") or f"id-{uuid.uuid4().hex}"
        body.set("Id", body_id)
        placeholder = etree.SubElement(header, f"{{{DSIG_NS}}}Signature", nsmap={"ds": DSIG_NS})
        placeholder.set("Id", "placeholder")
        signed = self._signer.sign(
            root,
            key=self.credentials.key,
            cert=self._certs,
            reference_uri=f"#{body_id}",
            always_add_key_value=False,
        )
        return bytes(etree.tostring(signed, xml_declaration=True, encoding="UTF-8"))


def _identity(xml: bytes) -> bytes:
    return xml


def make_signer(settings: MagdaSettings) -> RequestSigner | None:
    """The signer the settings ask for; None when signing is explicitly off. Loads the key at
    once, so a bad setting fails before the first request (`MagdaConfigError`)."""
    if not settings.signing.enabled:
        return None
    return RequestSigner(load_credentials(settings.signing))


@dataclass(frozen=True)
class CertificateStatus:
    """When the signing certificate expires, and what that means for the operator."""

    subject: str
    issuer: str
    not_before: datetime
    not_after: datetime
    days_left: int
    state: str  # ok | expiring | expired
    warning_days: int

    @property
    def message(self) -> str:
        until = self.not_after.strftime("%Y-%m-%d %H:%M UTC")
        if self.state == "expired":
            return f"the MAGDA signing certificate ({self.subject}) expired on {until}: renew it"
        if self.state == "expiring":
            return (
                f"the MAGDA signing certificate ({self.subject}) expires on {until}, in "
                f"{self.days_left} days (less than {self.warning_days}): renew it now"
            )
        return f"the MAGDA signing certificate ({self.subject}) is valid until {until}"

    def to_json(self) -> dict[str, object]:
        return {
            "subject": self.subject,
            "issuer": self.issuer,
            "not_before": self.not_before.isoformat(),
            "not_after": self.not_after.isoformat(),
            "days_left": self.days_left,
            "state": self.state,
            "message": self.message,
        }


def certificate_status(settings: SigningSettings, now: datetime | None = None) -> CertificateStatus:
    """The expiry of the configured signing certificate (`MagdaConfigError` if it cannot be
    read). ``expiring`` when fewer than ``expiry_warning_days`` days are left."""
    credentials = load_credentials(settings)
    cert = credentials.certificate
    moment = now or datetime.now(UTC)
    not_after = cert.not_valid_after_utc
    left = not_after - moment
    days_left = left.days
    if left.total_seconds() <= 0:
        state = "expired"
    elif days_left < settings.expiry_warning_days:
        state = "expiring"
    else:
        state = "ok"
    return CertificateStatus(
        subject=cert.subject.rfc4514_string(),
        issuer=cert.issuer.rfc4514_string(),
        not_before=cert.not_valid_before_utc,
        not_after=not_after,
        days_left=max(days_left, 0),
        state=state,
        warning_days=settings.expiry_warning_days,
    )


def expiry_warning(settings: MagdaSettings, now: datetime | None = None) -> str | None:
    """What to tell the operator at start-up (``serve``, campaign runs): the certificate is
    expired or expires soon, or cannot be read; None when signing is off or all is well."""
    if not settings.signing.enabled:
        return None
    try:
        status = certificate_status(settings.signing, now)
    except MagdaConfigError as exc:
        return f"MAGDA signing: {exc}"
    return None if status.state == "ok" else f"warning: {status.message}"
