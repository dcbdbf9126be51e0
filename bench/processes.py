"""What the benchmarks share: free ports, and the registry simulator as a separate process.

The simulator requires signed requests, as MAGDA does: a test CA is made in the benchmark's
folder and this process's environment gets the signing settings (inherited by the processes it
starts). ``BENCH_UNSIGNED=1`` measures without signing, for comparison."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(
    url: str, process: subprocess.Popen[bytes], what: str, log: Path, timeout: float = 60
) -> None:
    """Until `url` answers 200; exit with `what`'s log when it dies or does not start."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{what} exited:\n{log.read_text(errors='replace')}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    process.kill()
    raise SystemExit(f"{what} did not start:\n{log.read_text(errors='replace')}")


def start_simulator(
    city: Path,
    folder: Path,
    latency_ms: int | None = None,
    *options: str,
    timeout: float = 60,
) -> tuple[subprocess.Popen[bytes], str]:
    """The registry simulator on `city` (log in `folder`), every registry call waiting
    `latency_ms` when given, with further `options`; returns the process and its URL once it
    answers."""
    port = free_port()
    command = [sys.executable, "-m", "entitle.registry.server_cli", "serve", "--data", str(city)]
    command += ["--port", str(port), "--log-level", "warning", *options]
    if not os.environ.get("BENCH_UNSIGNED"):
        command += _signing(folder)
    else:
        os.environ["ENTITLE_MAGDA_SIGNING__ENABLED"] = "false"
    if latency_ms is not None:
        config = folder / "simulator.yaml"
        config.write_text(
            f"faults:\n  default: {{latency_ms: {{distribution: fixed, value: {latency_ms}}}}}\n",
            encoding="utf-8",
        )
        command += ["--config", str(config)]
    log = folder / "simulator.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT, cwd=REPO)
    url = f"http://127.0.0.1:{port}"
    wait_for(url + "/health", process, "the registry simulator", log, timeout)
    return process, url


def _signing(folder: Path) -> list[str]:
    """A test CA and signing identity in `folder`; the signing settings in this process's
    environment; the simulator's options to require signatures by that CA."""
    ca = folder / "test-ca"
    script = REPO / "scripts" / "make-test-ca.sh"
    subprocess.run(["bash", str(script), str(ca)], check=True, capture_output=True)
    os.environ.update(
        ENTITLE_MAGDA_SIGNING__ENABLED="true",
        ENTITLE_MAGDA_SIGNING__PKCS12_FILE=str(ca / "signing.p12"),
        ENTITLE_MAGDA_SIGNING__PASSPHRASE_FILE=str(ca / "signing.pass"),
    )
    return ["--require-signature", "--signature-ca", str(ca / "ca.crt")]
