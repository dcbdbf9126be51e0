"""The registry simulator as a real separate process (uvicorn on a free port), end to end.

Each server is started with ``python -m entitle.registry.server_cli serve`` (the command the lead
wires in as ``entitle registry serve``), waited for on ``GET /health`` and always stopped in the
fixture's finaliser. Its output goes to a file, read back to check what the logs say.
"""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from test_registry_city import City, write_city
from test_registry_soap import build_request, exceptions, mock_paths, paths, reply
from typer.testing import CliRunner

from entitle.registry.server_cli import registry_app

REPO = Path(__file__).resolve().parents[1]
MAKE_TEST_CA = REPO / "scripts" / "make-test-ca.sh"
ENTITLE: dict[str, Any] = {"sender": "gent.be/entitle", "capacity": "ENTITLE"}
CONFIG = """\
authorisations:
  - sender: gent.be/entitle
    capacity: ENTITLE
    services: [GeefPersoon, GeefSociaalStatuut, GeefLeefloonbedragen]
    statuses: [BIM_BVT]
faults:
  seed: 11
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]
    log: Path
    client: dict[str, Any]  # httpx options (TLS) to reach it

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def post(self, path: str, body: bytes, **options: Any) -> httpx.Response:
        with httpx.Client(**self.client) as client:
            return client.post(self.url + path, content=body, **options)

    def admin(self, path: str, **json: Any) -> httpx.Response:
        with httpx.Client(**self.client) as client:
            return client.post(self.url + path, json=json)


@contextmanager
def running_server(
    data: Path, log: Path, *options: str, scheme: str = "http", **client: Any
) -> Iterator[Server]:
    """Start the simulator, wait until it answers, and always stop it."""
    port = free_port()
    command = [sys.executable, "-m", "entitle.registry.server_cli", "serve"]
    command += ["--data", str(data), "--port", str(port), *options]
    with log.open("wb") as sink:
        process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT, cwd=REPO)
    server = Server(f"{scheme}://127.0.0.1:{port}", process, log, client)
    try:
        deadline = time.monotonic() + 120  # a loaded machine starts Python slowly
        while True:
            if process.poll() is not None:
                pytest.fail(f"simulator exited with {process.returncode}:\n{server.output()}")
            try:
                with httpx.Client(**client) as probe:
                    if probe.get(server.url + "/health", timeout=1).status_code == 200:
                        break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"simulator not ready after 20 s:\n{server.output()}")
            time.sleep(0.05)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> City:
    return write_city(tmp_path_factory.mktemp("city"))


@pytest.fixture(scope="module")
def server(city: City, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("server")
    config = folder / "simulator.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    with running_server(city.path, folder / "server.log", "--config", str(config)) as running:
        yield running


def test_answers_over_http(server: Server, city: City) -> None:
    health = httpx.get(server.url + "/health").json()
    assert health["persons"] == len(city.everyone)
    response = server.post(
        "/GeefPersoon/02.02.0000", build_request("GeefPersoon", city.ref, **ENTITLE)
    )
    assert response.status_code == 200
    answer = reply(response)
    assert paths(answer) <= mock_paths("GeefPersoon")
    assert next(answer.iter("INSZ")).text == city.ref


def test_purpose_binding_from_the_config_file(server: Server, city: City) -> None:
    allowed = build_request("GeefSociaalStatuut", city.ref, statuses=["BIM_BVT"], **ENTITLE)
    assert server.post("/soap", allowed).status_code == 200
    status = build_request(
        "GeefSociaalStatuut", city.ref, statuses=["GENT_PARKING_ADULT"], **ENTITLE
    )
    service = build_request("GeefAanslagbiljetPersonenbelasting", city.ref, **ENTITLE)
    for body in (status, service):
        response = server.post("/soap", body)
        assert response.status_code == 500
        assert reply(response).findtext("detail/Reden") == "not-authorised"


def test_outage_and_recovery(server: Server, city: City) -> None:
    body = build_request("GeefSociaalStatuut", city.ref, statuses=["BIM_BVT"], **ENTITLE)
    try:
        assert server.admin("/_admin/services/GeefSociaalStatuut/down").status_code == 200
        assert server.post("/soap", body).status_code == 503
        assert server.post("/GeefSociaalStatuut/03.00.0000", body).status_code == 503
        server.admin("/_admin/services/GeefSociaalStatuut/down", mode="60006")
        codes = [e[1] for e in exceptions(reply(server.post("/soap", body)))]
        assert codes == ["60006"]
    finally:
        assert server.admin("/_admin/services/GeefSociaalStatuut/up").status_code == 200
    recovered = server.post("/soap", body)
    assert recovered.status_code == 200 and not exceptions(reply(recovered))


def test_a_held_request_times_the_client_out(server: Server, city: City) -> None:
    body = build_request("GeefLeefloonbedragen", city.leefloner, **ENTITLE)
    faults = {"GeefLeefloonbedragen": {"timeout_rate": 1, "timeout_hold_s": 3}}
    server.admin("/_admin/faults", services=faults)
    try:
        with pytest.raises(httpx.ReadTimeout):
            server.post("/soap", body, timeout=0.3)
        other = build_request("GeefPersoon", city.ref, **ENTITLE)
        assert server.post("/soap", other, timeout=5).status_code == 200  # not blocked meanwhile
    finally:
        server.admin("/_admin/faults/reset")
    assert server.post("/soap", body, timeout=5).status_code == 200


def test_local_datasets_over_http(server: Server, city: City) -> None:
    rows = httpx.get(server.url + "/local/ocmw_clients", params={"insz": city.leefloner}).json()
    assert rows["rows"][0]["leefloon_or_equivalent"] is True
    assert httpx.get(server.url + "/local/ocmw_clients.parquet").content.startswith(b"PAR1")


def test_server_output_holds_no_personal_data(server: Server, city: City) -> None:
    for who in [*city.everyone, city.unknown]:
        server.post("/soap", build_request("GeefPersoon", who, **ENTITLE))
        server.post("/soap", build_request("GeefPersoon", who, sender="x", capacity="y"))
        httpx.get(server.url + "/local/ocmw_clients", params={"insz": who})
    time.sleep(0.2)  # let the log lines reach the file
    output = server.output()
    assert "GeefPersoon" in output and "refused" in output and "local ocmw_clients" in output
    assert not [insz for insz in [*city.everyone, city.unknown] if insz in output]
    assert "Claes" not in output and "Voskenslaan" not in output


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")
def test_mutual_tls_refuses_a_client_without_certificate(city: City, tmp_path: Path) -> None:
    certs = tmp_path / "certs"
    subprocess.run(["bash", str(MAKE_TEST_CA), str(certs)], check=True, capture_output=True)
    tls = ["--tls-cert", str(certs / "server.crt"), "--tls-key", str(certs / "server.key")]
    tls += ["--tls-ca", str(certs / "ca.crt")]
    trusted = ssl.create_default_context(cafile=str(certs / "ca.crt"))
    with_cert = ssl.create_default_context(cafile=str(certs / "ca.crt"))
    with_cert.load_cert_chain(str(certs / "client.crt"), str(certs / "client.key"))
    with running_server(
        city.path, tmp_path / "tls.log", *tls, scheme="https", verify=with_cert
    ) as server:
        body = build_request("GeefPersoon", city.ref)
        assert server.post("/soap", body).status_code == 200
        with pytest.raises(httpx.TransportError), httpx.Client(verify=trusted) as anonymous:
            anonymous.post(server.url + "/soap", content=body)
        with pytest.raises(httpx.TransportError):
            httpx.post(server.url.replace("https", "http") + "/soap", content=body)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--tls-key", "k.pem"], "--tls-cert and --tls-key go together"),
        (["--tls-ca", "ca.pem"], "needs --tls-cert"),
        (["--config", "missing.yaml"], "--config"),
    ],
)
def test_serve_rejects_bad_options(city: City, arguments: list[str], message: str) -> None:
    result = CliRunner().invoke(registry_app, ["serve", "--data", str(city.path), *arguments])
    assert result.exit_code == 2
    assert message in result.output


def test_serve_needs_a_city(tmp_path: Path) -> None:
    result = CliRunner().invoke(registry_app, ["serve", "--data", str(tmp_path)])
    assert result.exit_code == 2 and "persons.parquet" in result.output
