"""A small synthetic city per ``docs/synthetic-city.md``, for the registry simulator's tests.

`write_city` writes ``DIR/registry/*.parquet``, ``DIR/local/*.parquet`` and ``DIR/meta.json`` for a
handful of persons chosen to hit every kind of answer; the other ``test_registry_*`` modules import
it. The tests here check that the store reads the contract (and tolerates a partial city).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from entitle.insz import make_insz
from entitle.registry.store import LocalDatasets, RegistryStore

REFERENCE_DATE = date(2025, 6, 30)


def synthetic_insz(birth: date, counter: int) -> str:
    """A MAGDA test number (month + 60) with valid check digits."""
    return make_insz(birth, counter, kind="test").normalized


@dataclass(frozen=True)
class City:
    """Where the city is and who is who in it."""

    path: Path
    ref: str  # reference person of household 1: BIM_BVT, tax assessments, OCMW budget guidance
    spouse: str  # spouse in household 1, no tax assessment
    pupil: str  # child in household 1, primary school
    disabled_child: str  # child in household 1: disability file, parking card, school history
    leefloner: str  # alone at a reference address: leefloon, OCMW client
    not_integrated: str  # known to the register, not integrated at the KSZ
    no_household: str  # registered without a household
    unknown: str  # a valid test INSZ nobody in the city has

    @property
    def everyone(self) -> list[str]:
        return [
            self.ref,
            self.spouse,
            self.pupil,
            self.disabled_child,
            self.leefloner,
            self.not_integrated,
            self.no_household,
        ]


def write_city(folder: Path) -> City:
    """Write the test city under ``folder`` and say who is who."""
    city = City(
        path=folder,
        ref=synthetic_insz(date(1985, 3, 14), 33),
        spouse=synthetic_insz(date(1987, 11, 2), 42),
        pupil=synthetic_insz(date(2015, 9, 20), 64),
        disabled_child=synthetic_insz(date(2009, 3, 10), 101),
        leefloner=synthetic_insz(date(1970, 6, 1), 202),
        not_integrated=synthetic_insz(date(1990, 1, 1), 305),
        no_household=synthetic_insz(date(1999, 12, 31), 7),
        unknown=synthetic_insz(date(1960, 1, 1), 1),
    )
    registry, local = folder / "registry", folder / "local"
    registry.mkdir(parents=True)
    local.mkdir()

    def person(
        insz: str,
        household: str | None,
        position: str | None,
        first: str,
        last: str,
        birth: date,
        sex: str,
        **other: object,
    ) -> dict[str, object]:
        row: dict[str, object] = {
            "person_id": insz,
            "household_id": household,
            "position_code": position,
            "first_name": first,
            "last_name": last,
            "birth_date": birth,
            "sex": sex,
            "nationality": "BE",
            "register": "population",
            "municipality_nis": "44021",
            "postcode": "9000",
            "street": "Voskenslaan",
            "house_number": "12",
            "reference_address": False,
            "shared_residence": False,
            "integrated_ksz": True,
        }
        row.update(other)
        return row

    ocmw_address = {"postcode": "9000", "street": "Onderbergen", "house_number": "86"}
    persons = [
        person(city.ref, "H00000001", "01", "Pieter", "Claes", date(1985, 3, 14), "M"),
        person(
            city.spouse,
            "H00000001",
            "02",
            "Amal",
            "Claes",
            date(1987, 11, 2),
            "F",
            nationality="MA",
        ),
        person(city.pupil, "H00000001", "03", "Lotte", "Claes", date(2015, 9, 20), "F"),
        person(
            city.disabled_child,
            "H00000001",
            "03",
            "Mats",
            "Claes",
            date(2009, 3, 10),
            "M",
            shared_residence=True,
        ),
        person(
            city.leefloner,
            "H00000002",
            "01",
            "Rita",
            "De Smet",
            date(1970, 6, 1),
            "F",
            reference_address=True,
            **ocmw_address,
        ),
        person(
            city.not_integrated,
            "H00000003",
            "01",
            "Andrei",
            "Popescu",
            date(1990, 1, 1),
            "M",
            nationality="RO",
            register="foreigners",
            integrated_ksz=False,
            postcode="9040",
            street="Antwerpsesteenweg",
            house_number="301",
        ),
        person(
            city.no_household,
            None,
            None,
            "Noor",
            "Peeters",
            date(1999, 12, 31),
            "F",
            register="waiting",
        ),
    ]
    pl.DataFrame(persons).write_parquet(registry / "persons.parquet")

    households = [
        {
            "household_id": "H00000001",
            "reference_person_id": city.ref,
            "municipality_nis": "44021",
            "postcode": "9000",
            "street": "Voskenslaan",
            "house_number": "12",
            "size": 4,
            "collective": False,
            "reference_address": False,
        },
        {
            "household_id": "H00000002",
            "reference_person_id": city.leefloner,
            "municipality_nis": "44021",
            "size": 1,
            "collective": False,
            "reference_address": True,
            **ocmw_address,
        },
        {
            "household_id": "H00000003",
            "reference_person_id": city.not_integrated,
            "municipality_nis": "44021",
            "postcode": "9040",
            "street": "Antwerpsesteenweg",
            "house_number": "301",
            "size": 1,
            "collective": False,
            "reference_address": False,
        },
    ]
    pl.DataFrame(households).write_parquet(registry / "households.parquet")

    tax = [
        (city.ref, 2023, 2024, "A", "A7555", 2_156_275),
        (city.ref, 2023, 2024, "A", "A7270", 1_800_000),
        (city.ref, 2022, 2023, "A", "A7555", 2_004_100),
        (city.not_integrated, 2023, 2024, "A", "A7555", 1_250_000),
    ]
    pl.DataFrame(
        tax,
        schema=["person_id", "income_year", "tax_year", "fiscal_status", "item_code", "item_value"],
        orient="row",
    ).write_parquet(registry / "tax_assessments.parquet")

    statuses = [
        (city.ref, "BIM_BVT", date(2024, 1, 1), None),
        (city.leefloner, "LIVING_WAGES_PCSA_HELP", date(2024, 5, 1), None),
        (city.leefloner, "PCSA_AND_BIM_HELP", date(2024, 5, 1), date(2024, 12, 31)),
        (city.disabled_child, "GENT_PARKING_CHILD", date(2024, 3, 1), date(2030, 3, 1)),
        (city.not_integrated, "BIM_BVT", date(2023, 1, 1), None),
    ]
    pl.DataFrame(
        statuses, schema=["person_id", "status", "start", "end"], orient="row"
    ).write_parquet(registry / "social_statuses.parquet")

    pl.DataFrame(
        [(city.disabled_child, True, date(2020, 9, 4), 9)],
        schema=["person_id", "recognised", "since", "points"],
        orient="row",
    ).write_parquet(registry / "disability.parquet")

    payments = [
        (
            city.leefloner,
            date(year, month, 1),
            "2",
            128_846 if (year, month) < (2025, 2) else 131_420,
        )
        for year, month in [(2024, m) for m in range(5, 13)] + [(2025, m) for m in range(1, 7)]
    ]
    pl.DataFrame(
        payments, schema=["person_id", "month", "category", "amount"], orient="row"
    ).write_parquet(registry / "leefloon_payments.parquet")

    enrolments = [
        (
            city.pupil,
            "012345",
            "Stedelijke Basisschool De Regenboog",
            "primary",
            date(2021, 9, 1),
            None,
        ),
        (
            city.disabled_child,
            "012345",
            "Stedelijke Basisschool De Regenboog",
            "primary",
            date(2015, 9, 1),
            date(2021, 6, 30),
        ),
        (city.disabled_child, "034165", "Sint-Barbaracollege", "secondary", date(2021, 9, 1), None),
    ]
    pl.DataFrame(
        enrolments,
        schema=["person_id", "school_id", "school_name", "level", "start", "end"],
        orient="row",
    ).write_parquet(registry / "enrolments.parquet")

    pl.DataFrame(
        [(city.leefloner, True, True, False), (city.ref, False, False, True)],
        schema=["person_id", "leefloon_or_equivalent", "debt_help", "budget_guidance"],
        orient="row",
    ).write_parquet(local / "ocmw_clients.parquet")
    pl.DataFrame(
        [(city.pupil, "012345", "Stedelijke Basisschool De Regenboog", "3A", True, "2025-2026")],
        schema=["person_id", "school_id", "school_name", "class", "care", "school_year"],
        orient="row",
    ).write_parquet(local / "school_enrolments.parquet")

    meta = {
        "seed": 1,
        "persons": len(persons),
        "households": len(households),
        "municipality_nis": "44021",
        "reference_date": REFERENCE_DATE.isoformat(),
        "version": "test",
    }
    (folder / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    return city


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> City:
    return write_city(tmp_path_factory.mktemp("city"))


def test_store_indexes_persons_households_and_facts(city: City) -> None:
    store = RegistryStore.load(city.path)
    assert set(store.persons) == set(city.everyone)
    assert store.reference_date == REFERENCE_DATE
    ref = store.persons[city.ref]
    assert ref.birth_date == date(1985, 3, 14) and ref.integrated_ksz
    assert not store.persons[city.not_integrated].integrated_ksz
    members = [p.insz for p in store.household_members(ref)]
    assert members[0] == city.ref and set(members) == {
        city.ref,
        city.spouse,
        city.pupil,
        city.disabled_child,
    }
    assert store.households["H00000002"].reference_address
    assert {t.income_year for t in store.tax[city.ref]} == {2022, 2023}
    assert [p.amount for p in store.leefloon[city.leefloner]][-1] == 131_420
    assert store.disability[city.disabled_child].points == 9
    assert [e.level for e in store.enrolments[city.disabled_child]] == ["primary", "secondary"]


def test_store_reads_a_partial_city(tmp_path: Path, city: City) -> None:
    """Only persons.parquet is required; absent files are empty, absent columns null."""
    (tmp_path / "registry").mkdir()
    pl.read_parquet(city.path / "registry" / "persons.parquet").select(
        "person_id", "household_id", "birth_date"
    ).write_parquet(tmp_path / "registry" / "persons.parquet")
    store = RegistryStore.load(tmp_path)
    person = store.persons[city.ref]
    assert person.integrated_ksz and person.first_name is None and not store.tax
    assert store.reference_date is None
    with pytest.raises(FileNotFoundError):
        RegistryStore.load(tmp_path / "nowhere")


def test_local_datasets_lookup_by_insz(city: City) -> None:
    local = LocalDatasets(city.path)
    assert local.names() == ["ocmw_clients", "school_enrolments"]
    rows = local.lookup("ocmw_clients", [city.leefloner, city.unknown])
    assert rows == [
        {
            "person_id": city.leefloner,
            "leefloon_or_equivalent": True,
            "debt_help": True,
            "budget_guidance": False,
        }
    ]
    assert local.file("ocmw_clients", "parquet") is not None
    assert local.file("ocmw_clients", "csv") is None
