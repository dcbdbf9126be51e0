"""The simulator's check of signed requests (``--require-signature``), as MAGDA makes it.

A request passes when its SOAP ``Header`` holds an XML-DSig ``Signature`` with exactly one
reference, to the envelope's own ``Body`` (by its ``Id``), whose digest and signature verify with
the certificate in ``KeyInfo/X509Data``, and that certificate was issued by the configured CA.
Verification is `signxml`'s; a failure gives a `SignatureRejected` with a short reason for the
WS-Security fault (``unsigned``, ``tampered``, ``untrusted-certificate``, ``not-the-body``).
"""

from __future__ import annotations

from pathlib import Path

from lxml import etree  # type: ignore[import-untyped,unused-ignore]
from signxml.exceptions import (
    InvalidCertificate,
    InvalidDigest,
    InvalidInput,
    InvalidSignature,
    SignXMLException,
)
from signxml.verifier import SignatureConfiguration, XMLVerifier

__all__ = ["SignatureRejected", "SignatureVerifier"]

_DSIG = "http://www.w3.org/2000/09/xmldsig#"
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


class SignatureRejected(Exception):
    """The request's signature does not authenticate it; ``reason`` is a stable word."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class SignatureVerifier:
    """Verifies signed envelopes against one CA certificate file (PEM)."""

    def __init__(self, ca_file: Path) -> None:
        self.ca_file = str(ca_file)
        self._config = SignatureConfiguration(require_x509=True, expect_references=1)

    def verify(self, body: bytes) -> None:
        """Accept or raise `SignatureRejected`."""
        try:
            root = etree.fromstring(body, _PARSER)
        except etree.XMLSyntaxError:
            return  # not XML: the request parser gives the fault it deserves
        header = root.find("{*}Header")
        signature = header.find(f"{{{_DSIG}}}Signature") if header is not None else None
        if signature is None:
            raise SignatureRejected("unsigned", "no XML signature in the SOAP Header")
        soap_body = root.find("{*}Body")
        body_id = soap_body.get("Id") if soap_body is not None else None
        if not body_id:
            raise SignatureRejected("not-the-body", "the SOAP Body carries no Id to sign")
        try:
            result = XMLVerifier().verify(
                body,
                ca_pem_file=self.ca_file,
                id_attribute="Id",
                expect_config=self._config,
            )
        except InvalidCertificate as exc:
            raise SignatureRejected("untrusted-certificate", f"certificate: {exc}") from None
        except (InvalidDigest, InvalidSignature) as exc:
            raise SignatureRejected("tampered", f"signature does not verify: {exc}") from None
        except (InvalidInput, SignXMLException, ValueError) as exc:
            raise SignatureRejected("invalid-signature", f"signature unusable: {exc}") from None
        signed = result.signed_xml  # type: ignore[union-attr]
        same = root.xpath("//*[@Id=$id]", id=body_id)
        if (
            len(same) != 1
            or signed is None
            or etree.QName(signed).localname != "Body"
            or signed.get("Id") != body_id
        ):
            raise SignatureRejected("not-the-body", "the signature does not cover the SOAP Body")
