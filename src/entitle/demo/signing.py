"""The demo signs its MAGDA requests as production does: a test CA and a signing certificate made
by ``scripts/make-test-ca.sh`` (once, kept in the demo's state folder, made again when it runs
out), the simulator started with ``--require-signature``, the product's processes given the
PKCS#12 file and its passphrase file through the MAGDA settings."""

from __future__ import annotations

import shutil
import subprocess  # nosec B404  # the project's own script, fixed argv
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from entitle.demo.procs import DemoError

__all__ = ["SigningFiles", "ensure_signing_files", "make_test_ca_script"]

_RENEW_BEFORE = timedelta(days=30)


def make_test_ca_script() -> Path:
    """``scripts/make-test-ca.sh`` of this source tree."""
    return Path(__file__).resolve().parents[3] / "scripts" / "make-test-ca.sh"


@dataclass(frozen=True)
class SigningFiles:
    """The demo's test CA and signing identity."""

    folder: Path

    @property
    def ca(self) -> Path:
        return self.folder / "ca.crt"

    @property
    def pkcs12(self) -> Path:
        return self.folder / "signing.p12"

    @property
    def passphrase(self) -> Path:
        return self.folder / "signing.pass"

    def simulator_options(self) -> list[str]:
        return ["--require-signature", "--signature-ca", str(self.ca)]

    def settings(self) -> dict[str, object]:
        """The MAGDA signing settings (for a client made in the demo's own process)."""
        return {"enabled": True, "pkcs12_file": self.pkcs12, "passphrase_file": self.passphrase}

    def settings_env(self) -> dict[str, str]:
        return {
            "ENTITLE_MAGDA_SIGNING__ENABLED": "true",
            "ENTITLE_MAGDA_SIGNING__PKCS12_FILE": str(self.pkcs12),
            "ENTITLE_MAGDA_SIGNING__PASSPHRASE_FILE": str(self.passphrase),
        }


def _still_valid(files: SigningFiles) -> bool:
    from cryptography import x509

    try:
        certs = [x509.load_pem_x509_certificate(files.ca.read_bytes())]
    except (OSError, ValueError):
        return False
    if not files.pkcs12.is_file() or not files.passphrase.is_file():
        return False
    return all(c.not_valid_after_utc - datetime.now(UTC) > _RENEW_BEFORE for c in certs)


def ensure_signing_files(folder: Path) -> SigningFiles:
    """The test CA and signing identity in ``folder``, made (again) when missing or running out.
    `DemoError` when openssl or the script is missing."""
    files = SigningFiles(folder)
    if _still_valid(files):
        return files
    script = make_test_ca_script()
    bash = shutil.which("bash")
    if not script.is_file() or shutil.which("openssl") is None or bash is None:
        raise DemoError(
            f"the demo signs its MAGDA requests with a test certificate made by {script}, "
            "which needs bash and openssl"
        )
    shutil.rmtree(folder, ignore_errors=True)
    done = subprocess.run(  # nosec B603
        [bash, str(script), str(folder)], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise DemoError(f"{script.name} failed: {done.stderr.strip()[-300:]}")
    return files
