"""Signed MAGDA requests: the signature verifies with an independent verifier (Debian's `xmlsec1`),
the registry simulator with --require-signature accepts Entitle's requests and refuses unsigned,
tampered and wrongly-signed ones with MAGDA's authentication fault, and the connector reports
that as a configuration error, never as "no data". Bad signing settings fail naming the setting.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from lxml import etree  # type: ignore[import-untyped,unused-ignore]
from test_registry_city import City, write_city
from test_registry_server import Server, running_server

from entitle.sources.magda import (
    MagdaClient,
    MagdaConfigError,
    PersoonCriteria,
    SociaalStatuutCriteria,
    build_request,
    load_settings,
    parse_response,
)
from entitle.sources.magda.errors import MagdaAuthenticationError
from entitle.sources.magda.settings import MagdaSettings, SigningSettings
from entitle.sources.magda.signing import (
    DSIG_NS,
    RequestSigner,
    certificate_status,
    load_credentials,
    make_signer,
)

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "scripts" / "make-test-ca.sh"
SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
PURPOSE = "social-benefit-test"


def _make_ca(folder: Path, days: int | None = None) -> Path:
    if shutil.which("openssl") is None:
        pytest.skip("openssl not available")
    env = {"PATH": "/usr/bin:/bin"} | ({"SIGNING_DAYS": str(days)} if days else {})
    subprocess.run(["bash", str(SCRIPT), str(folder)], check=True, capture_output=True, env=env)
    return folder


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _make_ca(tmp_path_factory.mktemp("ca"))


@pytest.fixture(scope="module")
def rogue_ca(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _make_ca(tmp_path_factory.mktemp("rogue"))


def _pem(ca: Path) -> SigningSettings:
    return SigningSettings(key_file=ca / "signing.key", cert_file=ca / "signing.crt")


def _signed(ca: Path) -> bytes:
    built = build_request([PersoonCriteria("62691699717")], sender="s", capacity="c")
    return RequestSigner(load_credentials(_pem(ca)))(built.xml)


# --- the signature's shape and an independent verifier ----------------------------------------


def test_signature_in_header_over_the_body(ca: Path) -> None:
    root = etree.fromstring(_signed(ca))
    header, body = root.find(f"{{{SOAP}}}Header"), root.find(f"{{{SOAP}}}Body")
    signature = header.find(f"{{{DSIG_NS}}}Signature")
    assert signature is not None
    references = signature.findall(f".//{{{DSIG_NS}}}Reference")
    assert [r.get("URI") for r in references] == ["#" + body.get("Id")]
    transforms = [t.get("Algorithm") for t in references[0].iter(f"{{{DSIG_NS}}}Transform")]
    assert transforms == [
        "http://www.w3.org/2000/09/xmldsig#enveloped-signature",
        "http://www.w3.org/2001/10/xml-exc-c14n#",
    ]
    method = signature.find(f".//{{{DSIG_NS}}}SignatureMethod").get("Algorithm")
    assert method == "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
    cert = signature.findtext(f".//{{{DSIG_NS}}}X509Data/{{{DSIG_NS}}}X509Certificate")
    assert cert and cert.strip()
    # the body still is the request: the simulator's parser reads it
    assert parse_response is not None and body.find(".//{*}INSZ").text == "62691699717"


def _xmlsec1(path: Path, ca: Path) -> subprocess.CompletedProcess[str]:
    if shutil.which("xmlsec1") is None:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail("xmlsec1 not installed (CI: .ci/run installs it)")
        pytest.skip("xmlsec1 not installed")
    return subprocess.run(
        [
            "xmlsec1",
            "--verify",
            "--trusted-pem",
            str(ca / "ca.crt"),
            "--id-attr:Id",
            f"{SOAP}:Body",
            str(path),
        ],
        capture_output=True,
        text=True,
    )


def test_xmlsec1_verifies_entitles_signature(ca: Path, rogue_ca: Path, tmp_path: Path) -> None:
    signed = tmp_path / "signed.xml"
    signed.write_bytes(_signed(ca))
    result = _xmlsec1(signed, ca)
    assert result.returncode == 0, result.stderr
    assert "OK" in result.stdout + result.stderr
    # the same tool refuses it when the body changed, or with another CA
    tampered = tmp_path / "tampered.xml"
    tampered.write_bytes(signed.read_bytes().replace(b"62691699717", b"62691699816"))
    assert _xmlsec1(tampered, ca).returncode != 0
    assert _xmlsec1(signed, rogue_ca).returncode != 0


def test_pkcs12_with_passphrase_file_signs_alike(ca: Path, tmp_path: Path) -> None:
    settings = SigningSettings(pkcs12_file=ca / "signing.p12", passphrase_file=ca / "signing.pass")
    signed = tmp_path / "p12.xml"
    built = build_request([PersoonCriteria("62691699717")], sender="s", capacity="c")
    signed.write_bytes(RequestSigner(load_credentials(settings))(built.xml))
    assert _xmlsec1(signed, ca).returncode == 0


# --- the simulator with --require-signature ---------------------------------------------------


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> City:
    return write_city(tmp_path_factory.mktemp("city"))


@pytest.fixture(scope="module")
def strict(city: City, ca: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    log = tmp_path_factory.mktemp("strict") / "server.log"
    options = ("--require-signature", "--signature-ca", str(ca / "ca.crt"))
    with running_server(city.path, log, *options) as server:
        yield server


def _settings(server: Server, signing: SigningSettings) -> MagdaSettings:
    return load_settings(
        base_url=server.url, sender="gent.be/entitle", default_capacity="ENTITLE", signing=signing
    )


def test_simulator_accepts_entitles_signed_requests(strict: Server, city: City, ca: Path) -> None:
    with MagdaClient(_settings(strict, _pem(ca))) as magda:
        results = magda.ask(
            [PersoonCriteria(city.ref), PersoonCriteria(city.spouse)], purpose=PURPOSE
        )
    assert [r.outcome for r in results] == ["ok", "ok"]


def _fault_reason(response_xml: bytes) -> tuple[str, str]:
    root = etree.fromstring(response_xml)
    fault = root.find(f".//{{{SOAP}}}Fault")
    return fault.findtext("faultcode"), fault.findtext("detail/Reden")


def test_simulator_refuses_unsigned_tampered_and_foreign(
    strict: Server, city: City, ca: Path, rogue_ca: Path
) -> None:
    built = build_request([PersoonCriteria(city.ref)], sender="gent.be/entitle", capacity="ENTITLE")
    path = "/GeefPersoon/02.02.0000"
    unsigned = strict.post(path, built.xml)
    signed = RequestSigner(load_credentials(_pem(ca)))(built.xml)
    tampered = strict.post(path, signed.replace(city.ref.encode(), city.spouse.encode()))
    foreign = strict.post(path, RequestSigner(load_credentials(_pem(rogue_ca)))(built.xml))
    fine = strict.post(path, signed)
    assert fine.status_code == 200
    for response, reason in (
        (unsigned, "unsigned"),
        (tampered, "tampered"),
        (foreign, "untrusted-certificate"),
    ):
        assert response.status_code == 500
        assert _fault_reason(response.content) == ("wsse:FailedAuthentication", reason)
        fault = parse_response(response.content, service_hint="GeefPersoon").fault
        assert fault is not None and fault.authentication
    assert city.ref not in strict.output()  # the log names reasons, never a person


@pytest.mark.parametrize("who", ["unsigned", "rogue"])
def test_connector_reports_a_refused_signature_as_configuration_error(
    strict: Server, city: City, rogue_ca: Path, who: str
) -> None:
    signing = SigningSettings(enabled=False) if who == "unsigned" else _pem(rogue_ca)
    statuses = SociaalStatuutCriteria(city.ref, statuses=("BIM_BVT",), on=datetime.now().date())
    with (
        MagdaClient(_settings(strict, signing)) as magda,
        pytest.raises(MagdaAuthenticationError, match="signature") as raised,
    ):
        magda.ask([statuses], purpose=PURPOSE)
    assert isinstance(raised.value, MagdaConfigError)


# --- settings: on by default, bad input named ------------------------------------------------


def test_signing_is_on_unless_turned_off_explicitly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ENTITLE_MAGDA_SIGNING__ENABLED", raising=False)
    with pytest.raises(MagdaConfigError, match=r"signing\.enabled"):
        make_signer(load_settings())
    assert make_signer(load_settings(signing={"enabled": False})) is None


def test_passphrase_comes_from_the_environment(ca: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENTITLE_MAGDA_SIGNING__PKCS12_FILE", str(ca / "signing.p12"))
    monkeypatch.setenv(
        "ENTITLE_MAGDA_SIGNING__PASSPHRASE", (ca / "signing.pass").read_text().strip()
    )
    monkeypatch.setenv("ENTITLE_MAGDA_SIGNING__ENABLED", "true")
    assert isinstance(make_signer(load_settings()), RequestSigner)


def test_bad_signing_settings_name_the_setting(ca: Path, tmp_path: Path) -> None:
    unreadable = tmp_path / "unreadable.key"
    unreadable.write_bytes((ca / "signing.key").read_bytes())
    unreadable.chmod(0)
    wrong = tmp_path / "wrong.pass"
    wrong.write_text("not-the-passphrase\n")
    encrypted = tmp_path / "encrypted.key"
    subprocess.run(
        [
            "openssl",
            "pkey",
            "-in",
            str(ca / "signing.key"),
            "-aes256",
            "-passout",
            "pass:right-one",
            "-out",
            str(encrypted),
        ],
        check=True,
        capture_output=True,
    )
    cert_only = tmp_path / "cert-only.p12"
    subprocess.run(
        [
            "openssl",
            "pkcs12",
            "-export",
            "-nokeys",
            "-in",
            str(ca / "signing.crt"),
            "-passout",
            "pass:x",
            "-out",
            str(cert_only),
        ],
        check=True,
        capture_output=True,
    )
    cases = [
        (
            SigningSettings(key_file=tmp_path / "missing.key", cert_file=ca / "signing.crt"),
            r"signing.key_file \(ENTITLE_MAGDA_SIGNING__KEY_FILE\): no file",
        ),
        (
            SigningSettings(pkcs12_file=ca / "signing.p12", passphrase_file=wrong),
            r"signing.pkcs12_file .*wrong passphrase",
        ),
        (
            SigningSettings(key_file=encrypted, cert_file=ca / "signing.crt"),
            r"signing.key_file .* is encrypted: set signing.passphrase",
        ),
        (
            SigningSettings(key_file=encrypted, cert_file=ca / "signing.crt", passphrase="nope"),
            r"signing.key_file .*wrong passphrase",
        ),
        (
            SigningSettings(key_file=ca / "signing.crt", cert_file=ca / "signing.crt"),
            r"signing.key_file .* holds no private key",
        ),
        (
            SigningSettings(pkcs12_file=cert_only, passphrase="x"),
            r"signing.pkcs12_file .* holds no private key",
        ),
        (
            SigningSettings(key_file=ca / "client.key", cert_file=ca / "client.crt"),
            r"must be an RSA key",
        ),
        (
            SigningSettings(key_file=ca / "signing.key", cert_file=ca / "client.crt"),
            r"does not belong to the signing key",
        ),
        (SigningSettings(key_file=ca / "signing.key"), r"signing.cert_file .* is not set"),
    ]
    if (
        Path("/proc/self").exists()
        and subprocess.run(["id", "-u"], capture_output=True, text=True).stdout.strip() != "0"
    ):
        cases.append(
            (
                SigningSettings(key_file=unreadable, cert_file=ca / "signing.crt"),
                r"signing.key_file .*cannot read",
            )
        )
    for settings, message in cases:
        with pytest.raises(MagdaConfigError, match=message):
            load_credentials(settings)
    # the right passphrase opens the encrypted key
    good = SigningSettings(key_file=encrypted, cert_file=ca / "signing.crt", passphrase="right-one")
    assert load_credentials(good).certificate.subject.rfc4514_string() == "CN=entitle-test-signing"


def test_a_bad_key_fails_before_the_first_request(tmp_path: Path) -> None:
    signing = {"enabled": True, "key_file": tmp_path / "none.key", "cert_file": tmp_path}
    settings = load_settings(signing=signing)
    with pytest.raises(MagdaConfigError, match=r"signing\.key_file"):
        MagdaClient(settings)


# --- certificate expiry -------------------------------------------------------------------------


def test_certificate_expiry_states(ca: Path, tmp_path: Path) -> None:
    settings = _pem(ca)
    not_after = load_credentials(settings).certificate.not_valid_after_utc
    assert certificate_status(settings, not_after - timedelta(days=100)).state == "ok"
    soon = certificate_status(settings, not_after - timedelta(days=10, hours=1))
    assert (soon.state, soon.days_left) == ("expiring", 10)
    assert "renew" in soon.message
    assert certificate_status(settings, not_after + timedelta(seconds=1)).state == "expired"
    short = _make_ca(tmp_path / "short", days=5)
    assert certificate_status(_pem(short), datetime.now(UTC)).state == "expiring"
