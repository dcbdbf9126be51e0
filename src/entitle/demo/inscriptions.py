"""The demo requires KSZ inscriptions, as MAGDA does.

The simulator runs with ``--require-inscriptions`` and keeps its repertory in a journal in the
demo's state folder (``--repertory``), so a restarted demo finds it equal to the ledger in the
store. At start the desk examples (and the members of their households, whose KSZ facts decide
household benefits) are inscribed for their benefits' purposes — a handful of calls, none on a
restart; the background campaigns sync their targets before each run (`entitle.demo.campaigns`).
Anyone else an officer checks is "not inscribed" at the desk, with the button to inscribe.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from entitle.demo.examples import BenefitExamples
from entitle.insz import parse_insz
from entitle.rules.model import Benefit

__all__ = ["SETTINGS_ENV", "inscribe_desk_examples", "simulator_options"]

SETTINGS_ENV = {"ENTITLE_MAGDA_REQUIRE_INSCRIPTIONS": "true"}


def simulator_options(state: Path) -> list[str]:
    """The simulator's options: require inscriptions, keep the repertory across restarts."""
    return ["--require-inscriptions", "--repertory", str(state / "repertory.jsonl")]


def _with_households(city: Path, insz: set[str]) -> list[str]:
    persons = pl.read_parquet(
        city / "registry" / "persons.parquet", columns=["person_id", "household_id"]
    )
    homes = persons.filter(pl.col("person_id").is_in(list(insz)))["household_id"].drop_nulls()
    members = persons.filter(pl.col("household_id").is_in(homes.to_list()))["person_id"]
    return sorted(insz | set(members.to_list()))


def inscribe_desk_examples(
    *,
    city: Path,
    benefits: dict[str, Benefit],
    examples: list[BenefitExamples],
    as_of: date,
    database_url: str,
    magda: dict[str, Any],
) -> int:
    """Inscribe each example person and their household for the example's benefit purpose over
    the decision's validity (persons the purpose holds already stay, extended when needed; one
    audit entry per purpose, with counts). The number of calls made."""
    from entitle.decide.inscriptions import InscriptionLedger, sync_inscriptions
    from entitle.sources.magda import MagdaClient, load_settings
    from entitle.store import audit
    from entitle.store.db import make_engine, session_factory

    engine = make_engine(database_url)
    factory = session_factory(engine)
    ledger = InscriptionLedger(factory)
    calls = 0
    try:
        with MagdaClient(load_settings(**magda)) as client:
            for entry in examples:
                benefit = benefits[entry.benefit]
                capacity = client.settings.capacity(benefit.purpose)
                people = {parse_insz(e.insz).normalized for e in entry.examples}
                wanted = [*ledger.held(benefit.purpose, capacity), *_with_households(city, people)]
                result = sync_inscriptions(
                    client,
                    ledger,
                    purpose=benefit.purpose,
                    wanted=wanted,
                    start=as_of,
                    end=benefit.valid_until(as_of),
                    today=as_of,
                )
                calls += result.calls
                if result.calls:
                    with factory() as session, session.begin():
                        audit.append(
                            session,
                            kind="inscription",
                            actor="demo",
                            purpose=benefit.purpose,
                            subject=None,
                            outcome="synced" if not result.failed else "partly synced",
                            details={"desk_examples": entry.benefit, **result.to_json()},
                        )
    finally:
        engine.dispose()
    return calls
