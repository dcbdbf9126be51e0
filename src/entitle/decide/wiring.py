"""Build a gateway from settings: the MAGDA client, local datasets, access log, pseudonyms."""

from __future__ import annotations

import threading
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from entitle.datadir import data_dir
from entitle.decide.inscriptions import InscriptionLedger, check_period, not_inscribed
from entitle.rules.catalogue import Catalogue
from entitle.sources.access import AccessLog, JsonlAccessLog, Pseudonymiser
from entitle.sources.gateway import Gateway
from entitle.sources.local import FileDatasets, HttpDatasets, LocalSource
from entitle.sources.magda import MagdaClient
from entitle.sources.magda import MagdaConfigError as MagdaConfigError  # for web and CLI
from entitle.sources.magda.repertorium import inscription_criteria
from entitle.sources.magda.settings import load_settings


def local_source(spec: str | None, registry_url: str) -> LocalSource:
    """Local datasets from a folder, an URL, or (default) the registry endpoint's `/local`."""
    if spec and not spec.startswith(("http://", "https://")):
        return FileDatasets(Path(spec))
    return HttpDatasets(spec or registry_url)


class Registries:
    """A process's links to the registries: one MAGDA client (and its circuit breakers), the local
    datasets, the access log and the pseudonymiser, shared by every check it runs.

    Clients open on first use and close with `close` (a closed instance reopens when used).
    """

    def __init__(
        self,
        *,
        registry: str | None = None,
        local: str | None = None,
        state: Path | None = None,
        log: AccessLog | None = None,
        magda: dict[str, Any] | None = None,
        database_url: str | None = None,
    ) -> None:
        overrides = dict(magda or {})
        if registry:
            overrides["base_url"] = registry
        self.settings = load_settings(**overrides)
        folder = state or data_dir()
        self.folder = folder
        self.local_spec = local
        self.log = log or JsonlAccessLog(folder / "access.jsonl")
        self.pseudonymise = Pseudonymiser.from_key_file(folder / "pseudonym.key")
        self._lock = threading.Lock()
        self._client: MagdaClient | None = None
        self._local: LocalSource | None = None
        self.database_url = database_url
        self._ledger: tuple[Engine, InscriptionLedger] | None = None

    def _clients(self) -> tuple[MagdaClient, LocalSource]:
        with self._lock:
            if self._client is None or self._local is None:
                self._client = MagdaClient(self.settings)
                self._local = local_source(self.local_spec, self.settings.base_url)
            return self._client, self._local

    def gateway(self, purpose: str, as_of: date, catalogue: Catalogue | None = None) -> Gateway:
        """A gateway for one check or campaign run (its own cache, the shared clients)."""
        client, local = self._clients()
        return Gateway(
            client=client,
            local=local,
            purpose=purpose,
            as_of=as_of,
            log=self.log,
            pseudonymise=self.pseudonymise,
            catalogue=catalogue,
        )

    def ledger(self) -> InscriptionLedger:
        """What Entitle inscribed in the KSZ directory: the store's ``inscriptions`` table
        (`database_url`, else ENTITLE_DATABASE_URL), opened on first use."""
        from entitle.store.db import make_engine, session_factory

        with self._lock:
            if self._ledger is None:
                engine = make_engine(self.database_url)
                self._ledger = engine, InscriptionLedger(session_factory(engine))
            return self._ledger[1]

    def not_inscribed(self, purpose: str, insz: str, on: date) -> bool:
        """Whether the KSZ would give no data for this person because Entitle has not inscribed
        them for the purpose's capacity on `on` (False when inscriptions are not required)."""
        if not self.settings.require_inscriptions:
            return False
        capacity = self.settings.capacity(purpose)
        return bool(
            not_inscribed(self.ledger(), purpose=purpose, capacity=capacity, insz=[insz], on=on)
        )

    def inscribe(self, purpose: str, insz: str, start: date, end: date, today: date) -> str:
        """Inscribe one person for the purpose from the desk; the outcome (``ok`` when MAGDA
        confirmed it, then recorded in the ledger). `InscriptionPeriodError` for a past period."""
        check_period(start, end, today)
        capacity = self.settings.capacity(purpose)
        criteria = inscription_criteria(
            self.settings.inscription_version,
            insz,
            consumer=self.settings.sender,
            capacity=capacity,
            start=start,
            end=end,
        )
        client, _ = self._clients()
        result = client.ask([criteria], purpose=purpose)[0]
        if result.outcome == "ok":
            self.ledger().record(purpose, capacity, [criteria.insz], start, end)
        return result.outcome

    def close(self) -> None:
        """Close the network clients."""
        with self._lock:
            client, local = self._client, self._local
            self._client = self._local = None
            ledger, self._ledger = self._ledger, None
        if ledger is not None:
            ledger[0].dispose()
        if client is not None:
            client.close()
        if isinstance(local, HttpDatasets):
            local.close()


def make_gateway(
    *,
    purpose: str,
    as_of: date,
    registry: str | None = None,
    local: str | None = None,
    log: AccessLog | None = None,
) -> Gateway:
    """A gateway for one check or run, configured from the environment (ENTITLE_MAGDA_*)."""
    return Registries(registry=registry, local=local, log=log).gateway(purpose, as_of)


def signing_warning() -> str | None:
    """At start-up: the MAGDA signing certificate is expired, expires within the warning days, or
    cannot be read (None when signing is off or all is well). Settings from the environment."""
    from entitle.sources.magda.signing import expiry_warning

    try:
        return expiry_warning(load_settings())
    except MagdaConfigError as exc:
        return f"MAGDA settings: {exc}"
