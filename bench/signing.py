"""What signing costs: milliseconds per MAGDA request to sign (client) and to verify (the
simulator, as MAGDA would), for a one-question desk request and a five-question campaign request.

    .venv/bin/python bench/signing.py [--repeat 500]

The test CA and signing identity are made by scripts/make-test-ca.sh in a temporary folder.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
import time
from datetime import date
from pathlib import Path

from processes import REPO

from entitle.registry.signature import SignatureVerifier
from entitle.sources.magda import SociaalStatuutCriteria, build_request
from entitle.sources.magda.settings import SigningSettings
from entitle.sources.magda.signing import RequestSigner, load_credentials

INSZ = ["62691699717", "85631403327", "87710204288", "70660120251", "90610130542"]


def _timed(repeat: int, work: object) -> float:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()  # type: ignore[operator]
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        ca = Path(tmp) / "ca"
        script = REPO / "scripts" / "make-test-ca.sh"
        subprocess.run(["bash", str(script), str(ca)], check=True, capture_output=True)
        signer = RequestSigner(
            load_credentials(
                SigningSettings(key_file=ca / "signing.key", cert_file=ca / "signing.crt")
            )
        )
        verifier = SignatureVerifier(ca / "ca.crt")
        day = date(2026, 3, 1)
        for questions in (1, 5):
            criteria = [
                SociaalStatuutCriteria(i, statuses=("BIM_BVT",), on=day) for i in INSZ[:questions]
            ]

            def build(criteria: list[SociaalStatuutCriteria] = criteria) -> bytes:
                return build_request(criteria, sender="gent.be/entitle", capacity="X").xml

            unsigned = _timed(args.repeat, build)
            signed = _timed(args.repeat, lambda: signer(build()))
            body = signer(build())

            def check(body: bytes = body) -> None:
                verifier.verify(body)

            verify = _timed(args.repeat, check)
            print(
                f"{questions} question(s): build {unsigned:.3f} ms, build+sign {signed:.3f} ms "
                f"(signing {signed - unsigned:.3f} ms), verify {verify:.3f} ms, "
                f"{len(body)} bytes signed"
            )


if __name__ == "__main__":
    main()
