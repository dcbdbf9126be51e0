"""Where a campaign's subjects and facts come from.

- The **register extract** (`RegisterExtract`): the municipality's copy of the national register
  for its residents — persons (INSZ, household, position, name, address) and households (reference
  person, address, size). It defines the target population and gives letters their name and
  address; it is never used as a source of the facts a rule decides on.
- The **target** (`select_target`): the subjects of one run, grouped by household and cut into
  chunks of whole households, in a deterministic order (same extract, same chunks): chunks are the
  unit of checkpointing.
- The **fact source** (`GatewaySource`): a gateway per chunk that fetches, stage by stage, only
  for the subjects still undecided. Facts of one stage that one registry question answers together
  (e.g. household.collective and household.municipality_nis, both from GeefGezinssamenstelling)
  are asked in one question. `TableSource` answers from tables instead (tests, offline what-ifs).
"""

from __future__ import annotations

import hashlib
import io
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Protocol

import httpx
import polars as pl

from entitle.decide.campaign.definition import Campaign, CampaignError
from entitle.decide.reasons import MissingReason
from entitle.rules.catalogue import Catalogue, default_catalogue
from entitle.rules.decision import FactRequest
from entitle.rules.model import Benefit
from entitle.rules.periods import school_year
from entitle.rules.plan import plan_benefit
from entitle.sources.access import Access, AccessLog, Pseudonymiser, now_iso
from entitle.sources.gateway import Gateway
from entitle.sources.local import FileDatasets, LocalSource
from entitle.sources.magda import MagdaClient, MagdaSettings

PERSON_COLUMNS = (
    "person_id",
    "household_id",
    "position_code",
    "first_name",
    "last_name",
    "birth_date",
    "municipality_nis",
    "postcode",
    "street",
    "house_number",
)
HOUSEHOLD_COLUMNS = (
    "household_id",
    "reference_person_id",
    "municipality_nis",
    "postcode",
    "street",
    "house_number",
    "size",
)
OPTIONAL_PERSON_COLUMNS = ("reference_address",)
OPTIONAL_HOUSEHOLD_COLUMNS = ("collective", "reference_address")
# Identification and residence facts the register extract holds, by fact: (table, column).
REGISTER_FACTS = {
    "household.municipality_nis": ("households", "municipality_nis"),
    "household.collective": ("households", "collective"),
    "household.reference_address": ("households", "reference_address"),
    "person.municipality_nis": ("persons", "municipality_nis"),
    "person.birth_date": ("persons", "birth_date"),
    "person.position_code": ("persons", "position_code"),
    "person.reference_address": ("persons", "reference_address"),
}
NOT_IN_REGISTER = "not in the register extract"


# --------------------------------------------------------------------------- register extract


@dataclass
class RegisterExtract:
    """The municipality's register extract: persons and households (Parquet or CSV files)."""

    persons: pl.DataFrame
    households: pl.DataFrame

    @classmethod
    def load(cls, folder: Path) -> RegisterExtract:
        def read(name: str, columns: Sequence[str], optional: Sequence[str]) -> pl.DataFrame:
            parquet, csv = folder / f"{name}.parquet", folder / f"{name}.csv"
            try:
                if parquet.exists():
                    table = pl.read_parquet(parquet)
                elif csv.exists():
                    table = pl.read_csv(csv, infer_schema=False)
                else:
                    raise CampaignError(f"register extract: no {name}.parquet or .csv in {folder}")
            except (OSError, pl.exceptions.PolarsError) as exc:
                raise CampaignError(f"register extract: cannot read {name}: {exc}") from None
            missing = [c for c in columns if c not in table.columns]
            if missing:
                raise CampaignError(f"register extract {name}: missing columns {missing}")
            return table.select(*columns, *(c for c in optional if c in table.columns))

        persons = read("persons", PERSON_COLUMNS, OPTIONAL_PERSON_COLUMNS).with_columns(
            pl.col("birth_date").cast(pl.Date(), strict=False),
            pl.col("person_id", "household_id").cast(pl.String()),
        )
        households = read("households", HOUSEHOLD_COLUMNS, OPTIONAL_HOUSEHOLD_COLUMNS).with_columns(
            pl.col("household_id").cast(pl.String()),
            pl.col("size").cast(pl.Int64(), strict=False),
        )
        return cls(persons, households)


# --------------------------------------------------------------------------- local datasets


def read_dataset(local: str | None, registry_url: str, name: str) -> pl.DataFrame:
    """A whole local dataset (the city's own data): from a folder, or from the endpoint
    (`GET {url}/local/{name}.parquet`)."""
    if local and not local.startswith(("http://", "https://")):
        return FileDatasets(Path(local)).table(name)
    base = (local or registry_url).rstrip("/")
    try:
        response = httpx.get(f"{base}/local/{name}.parquet", timeout=60.0)
        response.raise_for_status()
        return pl.read_parquet(io.BytesIO(response.content)).with_columns(
            pl.col("person_id").cast(pl.String())
        )
    except (httpx.HTTPError, pl.exceptions.PolarsError) as exc:
        raise CampaignError(f"dataset {name} unavailable at {base}: {exc}") from None


def pupils_table(dataset: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """The dataset's rows for the school year of `as_of`."""
    if "school_year" in dataset.columns:
        dataset = dataset.filter(pl.col("school_year") == school_year(as_of))
    return dataset


# --------------------------------------------------------------------------- target population


@dataclass
class Target:
    """The subjects of a run, cut into chunks of whole households."""

    subject_kind: str  # household | person
    subjects: pl.DataFrame  # subject_id, household_id, chunk (in order)
    persons: pl.DataFrame  # person_id, household_id, position_code, chunk (grouped by household)
    households: pl.DataFrame  # household_id, chunk
    unknown: list[str]  # target subjects missing from the register extract
    chunk_size: int
    chunks: int  # regular chunks; one more holds `unknown` when it is not empty
    _offsets: dict[str, list[int]] = field(default_factory=dict, repr=False)

    @property
    def total_chunks(self) -> int:
        return self.chunks + (1 if self.unknown else 0)

    @property
    def size(self) -> int:
        return self.subjects.height + len(self.unknown)

    def fingerprint(self) -> str:
        """Identifies the target and its chunking: a resumed run must see the same."""
        digest = hashlib.sha256(f"{self.subject_kind}|{self.chunk_size}|".encode())
        for value in self.subjects["subject_id"].to_list():
            digest.update(value.encode() + b"\n")
        digest.update(b"|unknown|")
        for value in self.unknown:
            digest.update(value.encode() + b"\n")
        return digest.hexdigest()

    def _slice(self, name: str, frame: pl.DataFrame, chunk: int) -> pl.DataFrame:
        if name not in self._offsets:
            counts = frame["chunk"].value_counts().sort("chunk")
            offsets = [0] * (self.chunks + 1)
            for number, count in counts.iter_rows():
                offsets[number + 1] = count
            for i in range(1, len(offsets)):
                offsets[i] += offsets[i - 1]
            self._offsets[name] = offsets
        offsets = self._offsets[name]
        return frame.slice(offsets[chunk], offsets[chunk + 1] - offsets[chunk])

    def chunk(self, number: int) -> tuple[list[str], pl.DataFrame, pl.DataFrame]:
        """(subject ids, persons, households) of a regular chunk."""
        subjects = self._slice("subjects", self.subjects, number)["subject_id"].to_list()
        persons = self._slice("persons", self.persons, number)
        households = self._slice("households", self.households, number)
        return subjects, persons, households


def _chunked(subjects_per_household: pl.Series, size: int) -> pl.Series:
    """Chunk number per household: whole households, about `size` subjects per chunk."""
    before = subjects_per_household.cum_sum() - subjects_per_household
    return (before // size).cast(pl.Int64()).alias("chunk")


def select_target(
    campaign: Campaign,
    extract: RegisterExtract,
    as_of: date,
    *,
    dataset: pl.DataFrame | None = None,
    chunk_size: int | None = None,
) -> Target:
    """The run's subjects from the register extract (and, for pupils, the enrolment dataset)."""
    spec = campaign.spec.target
    size = chunk_size or campaign.spec.chunk_size
    persons, households = extract.persons, extract.households
    for fact in campaign.spec.facts_from_register:
        table, column = REGISTER_FACTS[fact]
        if column not in (persons if table == "persons" else households).columns:
            raise CampaignError(
                f"facts_from_register: the register extract has no {table}.{column}"
            )
    unknown: list[str] = []
    if spec.kind == "households":
        chosen = households.filter(pl.col("municipality_nis") == spec.municipality_nis)
        subject_ids = chosen.select(
            pl.col("household_id").alias("subject_id"), pl.col("household_id")
        )
    else:
        if spec.kind == "persons":
            people = persons.filter(pl.col("municipality_nis") == spec.municipality_nis)
            if spec.min_age is not None:
                year = as_of.year - spec.min_age
                try:
                    limit = as_of.replace(year=year)
                except ValueError:  # 29 February
                    limit = date(year, 2, 28)
                people = people.filter(pl.col("birth_date") <= limit)
            wanted = people.select("person_id")
        else:
            if dataset is None:
                raise CampaignError("a pupil campaign needs the enrolment dataset")
            rows = pupils_table(dataset, as_of)
            wanted = rows.select(pl.col("person_id").cast(pl.String())).unique(maintain_order=True)
            known = set(persons["person_id"].to_list())
            unknown = [i for i in wanted["person_id"].to_list() if i not in known]
        subject_ids = (
            persons.select("person_id", "household_id")
            .join(wanted, on="person_id", how="semi", maintain_order="left")
            .rename({"person_id": "subject_id"})
        )
        chosen = households.join(
            subject_ids.select("household_id").unique(),
            on="household_id",
            how="semi",
            maintain_order="left",
        )
    per_household = (
        chosen.select("household_id")
        .join(
            subject_ids.group_by("household_id").len(),
            on="household_id",
            how="left",
            maintain_order="left",
        )["len"]
        .fill_null(0)
    )
    chunk = _chunked(per_household, size)
    register = [
        column
        for fact in campaign.spec.facts_from_register
        for table, column in [REGISTER_FACTS[fact]]
        if table == "households" and column != "household_id"
    ]
    chosen = chosen.select("household_id", *dict.fromkeys(register)).with_columns(chunk)
    chunks = int(chunk.max()) + 1 if chosen.height else 0  # type: ignore[arg-type]
    person_register = [
        column
        for fact in campaign.spec.facts_from_register
        for table, column in [REGISTER_FACTS[fact]]
        if table == "persons" and column not in ("person_id", "household_id", "position_code")
    ]
    members = (
        persons.select(
            "person_id", "household_id", "position_code", *dict.fromkeys(person_register)
        )
        .join(
            chosen.select("household_id", "chunk"),
            on="household_id",
            how="inner",
            maintain_order="left",
        )
        .sort("chunk", maintain_order=True)
    )
    subjects = subject_ids.join(
        chosen.select("household_id", "chunk"),
        on="household_id",
        how="inner",
        maintain_order="left",
    ).sort("chunk", maintain_order=True)
    return Target(
        subject_kind=campaign.benefit.subject,
        subjects=subjects,
        persons=members,
        households=chosen,
        unknown=unknown,
        chunk_size=size,
        chunks=chunks,
    )


# --------------------------------------------------------------------------- fact sources


class ChunkProvider(Protocol):
    """A columnar provider for one chunk that also says why facts were missing."""

    def fetch(self, fact: str, ids: pl.Series) -> pl.Series: ...

    def reasons(self) -> dict[tuple[str, str], MissingReason]: ...  # (entity id, fact) -> why

    def stats(self) -> dict[str, Any]: ...


OnFetch = Callable[[int, int], None]  # (stage, entities asked)


class FactSource(Protocol):
    def open_chunk(
        self,
        benefit: Benefit,
        as_of: date,
        persons: pl.DataFrame,
        households: pl.DataFrame,
        on_fetch: OnFetch | None = None,
        from_register: Sequence[str] = (),
    ) -> ChunkProvider: ...

    def close(self) -> None: ...


class _Counting:
    def __init__(self, stage_of: dict[str, int], on_fetch: OnFetch | None) -> None:
        self.stage_of = stage_of
        self.on_fetch = on_fetch
        self.fetched: dict[str, int] = defaultdict(int)

    def count(self, fact: str, n: int) -> None:
        self.fetched[fact] += n
        if self.on_fetch is not None:
            self.on_fetch(self.stage_of.get(fact, 0), n)


class GatewayChunk:
    """One chunk's gateway; asks the facts one registry question answers in one question (those
    of the same fetch phase: a campaign weighs registry calls more than the single facts)."""

    def __init__(
        self,
        gateway: Gateway,
        benefit: Benefit,
        catalogue: Catalogue,
        on_fetch: OnFetch | None = None,
        register: dict[str, pl.DataFrame] | None = None,
    ) -> None:
        self.gateway = gateway
        self.register = register or {}
        self.from_register: dict[str, int] = {}
        plan = plan_benefit(benefit, catalogue)
        self.counting = _Counting(plan.stage_of, on_fetch)
        self.siblings: dict[str, tuple[str, ...]] = {}
        for fact, spec in plan.facts.items():
            source = spec.source
            key = (source.get("kind"), source.get("service") or source.get("dataset"))
            self.siblings[fact] = tuple(
                other
                for other, other_spec in plan.facts.items()
                if plan.phase_of[other] == plan.phase_of[fact]
                and (
                    other_spec.source.get("kind"),
                    other_spec.source.get("service") or other_spec.source.get("dataset"),
                )
                == key
                and other.split(".")[0] == fact.split(".")[0]
            )

    def fetch(self, fact: str, ids: pl.Series) -> pl.Series:
        if fact in self.register:
            return self._from_register(fact, ids)
        siblings = self.siblings.get(fact, (fact,))
        if len(siblings) > 1:
            cache = self.gateway.cache
            wanted = [
                FactRequest(i, f)
                for i in ids.to_list()
                for f in siblings
                if FactRequest(i, f) not in cache
            ]
            if wanted:
                self.gateway.outcomes(wanted)
        self.counting.count(fact, len(ids))
        return self.gateway.fetch(fact, ids)

    def _from_register(self, fact: str, ids: pl.Series) -> pl.Series:
        """A fact the register extract holds, from the chunk's rows (logged as an access to the
        register extract, under the same purpose)."""
        table, column = REGISTER_FACTS[fact]
        frame = self.register[fact]
        key = "household_id" if table == "households" else "person_id"
        self.counting.count(fact, len(ids))
        self.from_register[fact] = self.from_register.get(fact, 0) + len(ids)
        gateway = self.gateway
        stamp = now_iso()
        person_of = (
            {c.household_id: c.reference for c in gateway.compositions.values()}
            if key == "household_id"
            else {}
        )
        for entity in ids.to_list():
            subject = person_of.get(entity, entity)
            gateway.log.record(
                Access(
                    stamp,
                    gateway.purpose,
                    "register_extract",
                    gateway.pseudonymise(subject),
                    "ok",
                    (fact,),
                )
            )
        return pl.DataFrame({key: ids}).join(
            frame.select(key, column), on=key, how="left", maintain_order="left"
        )[column]

    def reasons(self) -> dict[tuple[str, str], MissingReason]:
        return {
            (request.entity_id, request.fact): MissingReason.of(unavailable)
            for request, unavailable in self.gateway.reasons.items()
        }

    def stats(self) -> dict[str, Any]:
        return {
            "fetched": dict(self.counting.fetched),
            "questions": self.gateway.questions,
            "from_register": dict(self.from_register),
        }


class CachingPseudonymiser(Pseudonymiser):
    """The same pseudonyms, remembered (a campaign asks about each person several times)."""

    def __init__(self, key: bytes) -> None:
        super().__init__(key)
        self._seen: dict[str, str] = {}

    def __call__(self, insz: str) -> str:
        value = self._seen.get(insz)
        if value is None:
            value = self._seen[insz] = super().__call__(insz)
        return value

    def forget(self) -> None:
        self._seen.clear()


class GatewaySource:
    """Facts through the gateway: MAGDA (or the registry simulator) and the local datasets."""

    def __init__(
        self,
        *,
        settings: MagdaSettings,
        local: LocalSource,
        log: AccessLog,
        pseudonymise: Pseudonymiser,
        catalogue: Catalogue | None = None,
    ) -> None:
        self.settings = settings
        self.client = MagdaClient(settings)
        self.local = local
        self.log = log
        self.pseudonymise = pseudonymise
        self.catalogue = catalogue or default_catalogue()

    def open_chunk(
        self,
        benefit: Benefit,
        as_of: date,
        persons: pl.DataFrame,
        households: pl.DataFrame,
        on_fetch: OnFetch | None = None,
        from_register: Sequence[str] = (),
    ) -> GatewayChunk:
        gateway = Gateway(
            client=self.client,
            local=self.local,
            purpose=benefit.purpose,
            as_of=as_of,
            log=self.log,
            pseudonymise=self.pseudonymise,
            catalogue=self.catalogue,
        )
        gateway.register_households(persons)
        register = {
            fact: persons if REGISTER_FACTS[fact][0] == "persons" else households
            for fact in from_register
        }
        return GatewayChunk(gateway, benefit, self.catalogue, on_fetch, register)

    def close(self) -> None:
        closer = getattr(self.client, "close", None)
        if callable(closer):
            closer()
        log_closer = getattr(self.log, "close", None)
        if callable(log_closer):
            log_closer()


class TableChunk:
    """Answers from full fact tables (person and household facts by column name)."""

    def __init__(
        self,
        persons: pl.DataFrame,
        households: pl.DataFrame,
        stage_of: dict[str, int],
        on_fetch: OnFetch | None,
    ) -> None:
        self.tables = {"person": persons, "household": households}
        self.counting = _Counting(stage_of, on_fetch)

    def fetch(self, fact: str, ids: pl.Series) -> pl.Series:
        entity, column = fact.split(".", 1)
        table = self.tables[entity]
        self.counting.count(fact, len(ids))
        if column not in table.columns:
            return pl.Series("value", [None] * len(ids))
        key = f"{entity}_id"
        return pl.DataFrame({key: ids}).join(
            table.select(key, column), on=key, how="left", maintain_order="left"
        )[column]

    def reasons(self) -> dict[tuple[str, str], MissingReason]:
        return {}

    def stats(self) -> dict[str, Any]:
        return {"fetched": dict(self.counting.fetched), "questions": 0}


class TableSource:
    """Facts from tables shaped like the engine's input (`person_id` / `household_id` + facts)."""

    def __init__(self, persons: pl.DataFrame, households: pl.DataFrame) -> None:
        self.persons = persons
        self.households = households

    def open_chunk(
        self,
        benefit: Benefit,
        as_of: date,
        persons: pl.DataFrame,
        households: pl.DataFrame,
        on_fetch: OnFetch | None = None,
        from_register: Sequence[str] = (),
    ) -> TableChunk:
        stage_of = plan_benefit(benefit, default_catalogue()).stage_of
        return TableChunk(self.persons, self.households, stage_of, on_fetch)

    def close(self) -> None:
        return None
