"""The simulator's weekly mutation notifications, in MAGDA's formats.

`advance_city` writes each week's notifications to ``notifications/week-NNNN.parquet``; these
builders serve them as batches, one week per batch, with a stable ``Ontvangstreferte`` per week:

- ``GeefPersoonMutatiesNotificaties`` 02.00 (feed ``persoon``): one ``PersoonMutatieNotificatie``
  per person, its ``PersoonMutatiesNotificaties`` shaped as ``PersoonMutatiesNotificaties2_0Type``
  of ``Persoon-02.00/PersoonComplex.xsd`` (INSZ, Type, DatumModificatie, Informaties);
- ``GeefMutatiesNotificaties`` 02.01 (feed ``algemeen``): one ``MutatieNotificatie`` per person,
  source and information type (KSZ statuses, FOD Financiën assessments).

``Criteria/Ontvangstreferte`` acknowledges a batch; the answer is the next week's batch, ``30016``
when none is published yet, ``30014`` for a reference the simulator never gave. Notifications go
to every person, unless the simulator requires inscriptions (``--require-inscriptions``): then a
consumer is told only about the persons it has inscribed (for any capacity) on the mutation's day.
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from entitle.registry.soap import (
    Answer,
    Element,
    Uitzondering,
    Vraag,
    child_text,
    new_element,
    sub,
)
from entitle.registry.store import RegistryStore

__all__ = ["batch_reference", "geef_mutaties_notificaties", "geef_persoon_mutaties_notificaties"]

NO_MORE_DATA = Uitzondering("30016", "MAGDA", "FOUT", "Geen verdere gegevens beschikbaar")
BAD_RECEIPT = Uitzondering("30014", "MAGDA", "FOUT", "Ongeldige ontvangstreferte")
_NAMESPACE = uuid.UUID("6d1a2f7e-5b1c-4f0e-9a57-0c6e8e1d1818")
_INFORMATION = {
    "001": "Hoofdverblijfplaats",
    "100": "Geboorte",
    "140": "Referentiepersoon",
    "150": "Overlijden",
}
_MUTATION = {"1": "Toevoeging", "2": "Modificatie", "3": "Suppressie", "4": "Annulatie"}
_TYPE = {"1": "Creatie", "2": "Mutatie"}


def _seed(folder: Path) -> int:
    try:
        return int(json.loads((folder / "meta.json").read_text(encoding="utf-8")).get("seed", 0))
    except (OSError, ValueError):
        return 0


def batch_reference(seed: int, feed: str, week: int) -> str:
    """The stable Ontvangstreferte of one week's batch of one feed."""
    return str(uuid.uuid5(_NAMESPACE, f"{seed}/{feed}/{week}"))


def _for_consumer(rows: pl.DataFrame, ctx: Any) -> pl.DataFrame:
    """The rows about persons the asking consumer has inscribed on the row's day (all rows when
    inscriptions are not required)."""
    if not getattr(ctx, "require_inscriptions", False) or rows.is_empty():
        return rows
    repertory = ctx.repertory
    keep: list[tuple[date, str]] = []
    for day, persons in (
        rows.group_by("day", maintain_order=True).agg(pl.col("person_id").unique()).iter_rows()
    ):
        if repertory is not None:
            keep.extend((day, p) for p in repertory.inscribed_by(ctx.sender, set(persons), day))
    wanted = pl.DataFrame(
        keep, schema={"day": rows.schema["day"], "person_id": pl.String()}, orient="row"
    )
    return rows.join(wanted, on=["day", "person_id"], how="semi", maintain_order="left")


def _batch(
    store: RegistryStore, vraag: Vraag, feed: str, ctx: Any
) -> tuple[Element, Element, pl.DataFrame] | Answer:
    """The feed's next batch for the consumer: the answer's ``Inhoud`` begun (its receipt, and
    ``Notificaties`` to fill) and the batch's rows; or the error answer."""
    folder = store.data_dir
    if folder is None:
        return Answer.error(NO_MORE_DATA)
    weeks = sorted(
        int(p.stem.removeprefix("week-")) for p in (folder / "notifications").glob("week-*.parquet")
    )
    seed = _seed(folder)
    after = child_text(vraag.criteria, "Ontvangstreferte")
    following = weeks[0] if weeks else None
    if after is not None:
        known = {batch_reference(seed, feed, w): w for w in weeks}
        if after not in known:
            return Answer.error(BAD_RECEIPT)
        later = [w for w in weeks if w > known[after]]
        following = later[0] if later else None
    if following is None:
        return Answer.error(NO_MORE_DATA)
    rows = pl.read_parquet(folder / "notifications" / f"week-{following:04d}.parquet")
    inhoud = new_element("Inhoud")
    sub(inhoud, "Ontvangstreferte", batch_reference(seed, feed, following))
    notificaties = sub(inhoud, "Notificaties")
    return inhoud, notificaties, _for_consumer(rows.filter(pl.col("feed") == feed), ctx)


def _code(parent: Any, tag: str, code: str, names: dict[str, str]) -> None:
    element = sub(parent, tag)
    if code in names:
        sub(element, "Code", code, Beschrijving=names[code])
    else:
        sub(element, "Code", code)


def geef_persoon_mutaties_notificaties(store: RegistryStore, vraag: Vraag, ctx: Any) -> Answer:
    """The next week's person mutations of the national register."""
    found = _batch(store, vraag, "persoon", ctx)
    if isinstance(found, Answer):
        return found
    inhoud, notificaties, rows = found
    by_person: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows.iter_rows(named=True):
        by_person[row["person_id"]].append(row)
    for insz, items in by_person.items():
        body = sub(sub(notificaties, "PersoonMutatieNotificatie"), "PersoonMutatiesNotificaties")
        sub(body, "INSZ", insz)
        kind = min(item["notification_type"] for item in items)
        _code(body, "Type", kind, _TYPE)
        last: date = max(item["day"] for item in items)
        sub(body, "DatumModificatie", last.isoformat())
        informaties = sub(body, "Informaties")
        by_info: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for item in items:
            by_info[item["information"]].append(item)
        for info, changes in sorted(by_info.items()):
            day = max(c["day"] for c in changes).isoformat()
            informatie = sub(informaties, "Informatie", DatumModificatie=day)
            _code(informatie, "Identificatie", info, _INFORMATION)
            types = sub(informatie, "TypeMutaties")
            for mutation in sorted({c["mutation"] for c in changes})[:4]:
                _code(types, "TypeMutatie", mutation, _MUTATION)
    return Answer(inhoud)


def geef_mutaties_notificaties(store: RegistryStore, vraag: Vraag, ctx: Any) -> Answer:
    """The next week's generic mutations: KSZ social statuses, FOD Financiën assessments."""
    found = _batch(store, vraag, "algemeen", ctx)
    if isinstance(found, Answer):
        return found
    inhoud, notificaties, rows = found
    for row in rows.unique(maintain_order=True).iter_rows(named=True):
        item = sub(notificaties, "MutatieNotificatie")
        sub(item, "INSZ", row["person_id"])
        sub(item, "Bron", row["source"])
        sub(item, "Informatietype", row["information"])
        _code(item, "TypeMutatie", row["mutation"], _MUTATION)
        tijdstip = sub(sub(item, "MutatieInformatie"), "Tijdstip")
        sub(tijdstip, "Datum", row["day"].isoformat())
        sub(tijdstip, "Tijd", "00:00:00.000")
    return Answer(inhoud)
