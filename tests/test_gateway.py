"""The gateway and the desk check, live against the registry simulator as a separate process."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from test_registry_city import City, write_city
from test_registry_server import Server, running_server

from entitle.decide.check import CheckResult, check
from entitle.rules.catalogue import default_catalogue
from entitle.rules.decision import FactRequest
from entitle.rules.loader import load_benefit
from entitle.rules.model import Benefit
from entitle.rules.plan import plan_benefit
from entitle.rules.scalar import evaluate
from entitle.sources.access import MemoryAccessLog, Pseudonymiser, monthly_files
from entitle.sources.gateway import Gateway
from entitle.sources.local import HttpDatasets
from entitle.sources.magda import MagdaClient, MagdaSettings

REPO = Path(__file__).resolve().parents[1]
AS_OF = date(2025, 6, 30)
BENEFITS = ["uitpas", "garbage-bags", "school-tariff", "lez"]
SENDER, CAPACITY = "gent.be/entitle", "ENTITLE"
ALL_SERVICES = (
    "[GeefPersoon, GeefGezinssamenstelling, GeefSociaalStatuut, GeefAanslagbiljetPersonenbelasting]"
)


def config(statuses: str, faults: str = "") -> str:
    return (
        f"authorisations:\n  - sender: {SENDER}\n    capacity: {CAPACITY}\n"
        f"    services: {ALL_SERVICES}\n    statuses: {statuses}\n" + faults
    )


FULL = config("[BIM_BVT, LIVING_WAGES_PCSA_HELP, GENT_PARKING_ADULT, GENT_PARKING_CHILD]")
NO_PARKING = config("[BIM_BVT, LIVING_WAGES_PCSA_HELP]")
FAULTY = config(
    "[BIM_BVT, LIVING_WAGES_PCSA_HELP, GENT_PARKING_ADULT, GENT_PARKING_CHILD]",
    "faults:\n  seed: 3\n  default: {error_rate: 0.2, overload_rate: 0.1, timeout_rate: 0.05,"
    " timeout_hold_s: 2}\n",
)


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> City:
    return write_city(tmp_path_factory.mktemp("city"))


@pytest.fixture(scope="module")
def benefits() -> dict[str, Benefit]:
    return {name: load_benefit(REPO / "benefits" / "ghent" / f"{name}.yaml") for name in BENEFITS}


def serve(city: City, folder: Path, text: str) -> Any:
    path = folder / "simulator.yaml"
    path.write_text(text, encoding="utf-8")
    return running_server(city.path, folder / "server.log", "--config", str(path))


@pytest.fixture(scope="module")
def server(city: City, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with serve(city, tmp_path_factory.mktemp("full"), FULL) as running:
        yield running


def settings(url: str, **extra: Any) -> MagdaSettings:
    base: dict[str, Any] = {
        "base_url": url,
        "sender": SENDER,
        "default_capacity": CAPACITY,
        "retry": {"max_attempts": 3, "base_delay": 0.01, "max_delay": 0.02},
        "timeouts": {"connect": 1.0, "read": 0.5, "write": 1.0, "pool": 1.0},
    }
    return MagdaSettings(**(base | extra))


def gateway(
    url: str,
    benefit: Benefit,
    log: MemoryAccessLog,
    client: MagdaClient | None = None,
    kind: type[Gateway] = Gateway,
) -> Gateway:
    return kind(
        client=client or MagdaClient(settings(url)),
        local=HttpDatasets(url),
        purpose=benefit.purpose,
        as_of=AS_OF,
        log=log,
        pseudonymise=Pseudonymiser(b"test-key-test-key-test-key"),
    )


def decide(url: str, benefit: Benefit, insz: str, client: MagdaClient | None = None) -> CheckResult:
    return check(benefit, insz, gateway(url, benefit, MemoryAccessLog(), client), AS_OF)


def test_desk_checks_decide_from_the_registries(
    server: Server, city: City, benefits: dict[str, Benefit]
) -> None:
    uitpas = benefits["uitpas"]
    assert decide(server.url, uitpas, city.ref).decision.outcome == "eligible"
    assert decide(server.url, uitpas, city.leefloner).decision.outcome == "eligible"
    assert decide(server.url, uitpas, city.pupil).decision.outcome == "not_eligible"
    garbage = decide(server.url, benefits["garbage-bags"], city.pupil).decision
    assert garbage.outcome == "eligible"  # the household of the pupil: OCMW budget guidance
    assert garbage.subject_kind == "household"


def test_no_data_is_undetermined_with_its_reason(
    server: Server, city: City, benefits: dict[str, Benefit]
) -> None:
    result = decide(server.url, benefits["uitpas"], city.not_integrated)
    assert result.decision.outcome == "undetermined"
    assert "person.increased_allowance" in result.decision.facts_missing
    assert result.reasons["person.increased_allowance"].kind == "no_data"


def test_an_unknown_household_is_undetermined(
    server: Server, city: City, benefits: dict[str, Benefit]
) -> None:
    result = decide(server.url, benefits["garbage-bags"], city.unknown)
    assert result.decision.outcome == "undetermined"
    assert result.decision.facts_missing == ["household.members"]


def test_income_is_not_fetched_when_a_status_decides(
    server: Server, city: City, benefits: dict[str, Benefit]
) -> None:
    log = MemoryAccessLog()
    result = check(
        benefits["uitpas"], city.ref, gateway(server.url, benefits["uitpas"], log), AS_OF
    )
    assert result.decision.outcome == "eligible"
    sources = {entry.source for entry in log.entries}
    assert "GeefAanslagbiljetPersonenbelasting" not in sources


def test_every_access_is_logged_with_its_purpose_and_no_value(
    server: Server, city: City, benefits: dict[str, Benefit]
) -> None:
    log = MemoryAccessLog()
    for benefit in benefits.values():
        for insz in city.everyone:
            check(benefit, insz, gateway(server.url, benefit, log), AS_OF)
    assert log.entries
    text = json.dumps([entry.__dict__ for entry in log.entries])
    for insz in city.everyone:
        assert insz not in text  # pseudonyms only
    assert {entry.purpose for entry in log.entries} == {b.purpose for b in benefits.values()}
    assert all(
        entry.result in {"ok", "partial", "no_data", "error", "retry", "kept"}
        for entry in log.entries
    )


def test_a_later_fact_of_a_whole_record_answer_needs_no_new_question(
    server: Server, city: City, benefits: dict[str, Benefit]
) -> None:
    """The household composition asked to find the household also gives its residence and
    whether it is collective: read from that answer (logged as `kept`), not asked again."""
    log = MemoryAccessLog()
    benefit = benefits["garbage-bags"]
    result = check(benefit, city.pupil, gateway(server.url, benefit, log), AS_OF)
    assert "household.municipality_nis" in result.decision.facts_used
    compositions = [e for e in log.entries if e.source == "GeefGezinssamenstelling"]
    assert [e.result for e in compositions if e.result != "kept"] == ["ok"]  # one question
    kept = [f for e in compositions if e.result == "kept" for f in e.facts]
    assert "household.municipality_nis" in kept


class Asked(Gateway):
    """The gateway, keeping what the engine asked it."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.asked: list[FactRequest] = []

    def __call__(self, requests: Sequence[FactRequest]) -> dict[FactRequest, Any]:
        self.asked += requests
        return super().__call__(requests)


def test_the_composition_facts_are_at_hand_before_deciding(
    server: Server, city: City, benefits: dict[str, Benefit]
) -> None:
    """The household's residence and collective flag and the members' position codes and own
    residences, held by the composition asked to find the household, are given to the engine as
    known: read from that answer (logged as `kept`), never asked by the engine (so the LEZ check
    asks no GeefPersoon question), and the decision is the one the engine reaches asking them
    itself."""
    composition = {
        "household.municipality_nis",
        "household.collective",
        "person.position_code",
        "person.municipality_nis",
    }
    for name in ("lez", "garbage-bags"):
        benefit, log = benefits[name], MemoryAccessLog()
        desk = gateway(server.url, benefit, log, kind=Asked)
        assert isinstance(desk, Asked)
        result = check(benefit, city.disabled_child, desk, AS_OF)
        given = {r.fact for r in result.given}
        assert given == composition & set(plan_benefit(benefit, default_catalogue()).facts)
        assert "person.position_code" in given or name == "garbage-bags"
        assert not [r for r in desk.asked if r.fact in composition]
        assert given <= set(result.decision.facts_used)
        kept = {f for e in log.entries if e.result == "kept" for f in e.facts}
        assert given - {"person.position_code"} <= kept
        if name == "lez":
            assert "person.municipality_nis" in given
            assert not [e for e in log.entries if e.source == "GeefPersoon"]
        plain = gateway(server.url, benefit, MemoryAccessLog())
        subject = plain.subject(benefit.subject, city.disabled_child, True)
        assert subject is not None
        alone = evaluate(benefit, subject, plain, AS_OF, explain=False)
        decision = result.decision
        assert (decision.outcome, decision.outputs, decision.facts_missing) == (
            alone.outcome,
            alone.outputs,
            alone.facts_missing,
        )


def test_a_refused_purpose_names_purpose_and_service(
    city: City, benefits: dict[str, Benefit], tmp_path: Path
) -> None:
    with serve(city, tmp_path, NO_PARKING) as running:
        result = decide(running.url, benefits["lez"], city.disabled_child)
    refused = {fact: why for fact, why in result.reasons.items() if why.kind == "refused"}
    assert {"person.disability_parking_card", "person.disability_parking_card_child"} & set(refused)
    assert result.decision.outcome != "not_eligible"


def test_faults_never_give_a_wrong_decision(
    server: Server, city: City, benefits: dict[str, Benefit], tmp_path: Path
) -> None:
    """With 20% errors, overloads and timeouts: the fault-free outcome, or undetermined."""
    expected = {
        (name, insz): decide(server.url, benefit, insz).decision
        for name, benefit in benefits.items()
        for insz in city.everyone
    }
    seen_undetermined = 0
    exchanges: list[Any] = []
    with serve(city, tmp_path, FAULTY) as faulty:
        client = MagdaClient(settings(faulty.url), audit=exchanges.append)
        for (name, insz), clean in expected.items():
            result = decide(faulty.url, benefits[name], insz, client)
            got = result.decision
            if got.outcome == clean.outcome:
                assert got.outputs == clean.outputs
            else:
                assert got.outcome == "undetermined", (name, insz, got.outcome, clean.outcome)
                assert result.reasons, "an undetermined decision says why"
                seen_undetermined += 1
        stats = httpx.get(faulty.url + "/_admin/stats").json()
    assert seen_undetermined or "injected" in json.dumps(stats)
    assert "injected" in json.dumps(stats)  # faults really happened
    bound = settings(server.url).retry.max_attempts
    assert max(record.attempt for record in exchanges) <= bound  # retries stop at the bound
    assert any(record.attempt > 1 for record in exchanges)  # transient failures were retried


def test_an_outage_trips_the_breaker_and_recovery_closes_it(
    city: City, benefits: dict[str, Benefit], tmp_path: Path
) -> None:
    with serve(city, tmp_path, FULL) as running:
        client = MagdaClient(
            settings(
                running.url,
                retry={"max_attempts": 2, "base_delay": 0.0, "max_delay": 0.0},
                breaker={"failure_threshold": 2, "reset_timeout": 0.3},
            )
        )
        uitpas = benefits["uitpas"]
        running.admin("/_admin/services/GeefSociaalStatuut/down")
        down = [decide(running.url, uitpas, city.ref, client) for _ in range(3)]
        assert all(r.decision.outcome == "undetermined" for r in down)
        assert all(r.reasons["person.increased_allowance"].kind == "retry" for r in down)
        stats = httpx.get(running.url + "/_admin/stats").json()["GeefSociaalStatuut"]
        refused_while_down = sum(n for outcome, n in stats.items() if outcome.startswith("down"))
        # the open breaker stops calls: without it, 3 checks x 2 attempts reach the service
        assert 0 < refused_while_down < 6
        running.admin("/_admin/services/GeefSociaalStatuut/up")
        time.sleep(0.35)  # the breaker's reset timeout: half-open, one trial call
        again = decide(running.url, uitpas, city.ref, client)
        assert again.decision.outcome == "eligible"


def test_the_check_command_names_a_refused_purpose_and_service(city: City, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from entitle.cli.main import app

    with serve(city, tmp_path, NO_PARKING) as running:
        result = CliRunner().invoke(
            app,
            ["check", "ghent.lez", city.disabled_child, "--as-of", AS_OF.isoformat()],
            env={
                "ENTITLE_MAGDA_BASE_URL": running.url,
                "ENTITLE_MAGDA_SENDER": SENDER,
                "ENTITLE_MAGDA_DEFAULT_CAPACITY": CAPACITY,
                "ENTITLE_DATA_DIR": str(tmp_path / "state"),
                "ENTITLE_BENEFITS": str(REPO / "benefits"),
            },
        )
    assert result.exit_code == 0, result.output
    assert "refused: purpose 'ghent-lez' is not authorised for GeefSociaalStatuut" in result.output
    decision = json.loads(result.stdout[result.stdout.index("{") :])
    assert decision["outcome"] != "not_eligible"
    files = monthly_files(tmp_path / "state" / "access.jsonl").values()
    access_log = "".join(f.read_text(encoding="utf-8") for f in files)
    assert access_log
    assert city.disabled_child not in access_log  # pseudonyms only


def test_the_check_command_stores_and_audits_like_the_desk(city: City, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from entitle.cli.main import app
    from entitle.sources.access import Pseudonymiser
    from entitle.store import audit, decisions
    from entitle.store.transactions import Transactions

    state = tmp_path / "state"
    url = f"sqlite:///{tmp_path / 'entitle.db'}"
    with serve(city, tmp_path, NO_PARKING) as running:
        result = CliRunner().invoke(
            app,
            ["check", "ghent.uitpas", city.ref, "--as-of", AS_OF.isoformat(), "--as", "an.officer"],
            env={
                "ENTITLE_MAGDA_BASE_URL": running.url,
                "ENTITLE_MAGDA_SENDER": SENDER,
                "ENTITLE_MAGDA_DEFAULT_CAPACITY": CAPACITY,
                "ENTITLE_DATA_DIR": str(state),
                "ENTITLE_DATABASE_URL": url,
                "ENTITLE_BENEFITS": str(REPO / "benefits"),
            },
        )
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout[result.stdout.index("{") :])
    store = Transactions(url, migrate=False)
    try:
        entries = store.run(lambda s: audit.search(s, kind="check"))
        stored = store.run(lambda s: decisions.get_decision(s, printed["id"]))
    finally:
        store.close()
    pseudonym = Pseudonymiser.from_key_file(state / "pseudonym.key")(city.ref)
    assert [(e["actor"], e["purpose"], e["subject"]) for e in entries] == [
        ("an.officer", "ghent-uitpas", pseudonym)
    ]
    assert entries[0]["outcome"] == printed["outcome"]
    assert entries[0]["details"]["decision"] == printed["id"]
    assert entries[0]["details"]["via"] == "cli"
    assert stored is not None and stored["outcome"] == printed["outcome"]
    assert city.ref not in json.dumps(entries) + json.dumps(stored, default=str)


def test_the_check_command_checks_a_benefit_only_for_its_own_purpose(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from entitle.cli.main import app

    result = CliRunner().invoke(
        app,
        ["check", "ghent.uitpas", "85.07.30-033.28", "--purpose", "ghent-lez"],
        env={"ENTITLE_DATA_DIR": str(tmp_path), "ENTITLE_BENEFITS": str(REPO / "benefits")},
    )
    assert result.exit_code == 2
    assert "only for its purpose 'ghent-uitpas'" in result.output
    assert not (tmp_path / "entitle.db").exists()  # nothing asked, nothing stored
