"""Mutation notifications end to end: the simulator (a separate process) publishes each advanced
week as a batch; the connector builds the request, parses the reply (its person notifications
validate against MAGDA's PersoonComplex.xsd) and follows the receipt cursor."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import httpx
import polars as pl
import pytest
from lxml import etree  # type: ignore[import-untyped,unused-ignore]
from test_registry_server import Server, running_server

from entitle.registry.advance import advance_city, notifications_path
from entitle.registry.synth import write_city
from entitle.sources.magda import parse_response
from entitle.sources.magda.envelope import build_request
from entitle.sources.magda.errors import ErrorKind, MagdaParseError
from entitle.sources.magda.mutations import (
    MutatiesNotificatiesCriteria,
    NotificationBatch,
    NotificationError,
    PersoonMutatiesNotificatiesCriteria,
    read_batch,
)

MOCK = Path(__file__).resolve().parents[2] / "shared" / "magda-mock"
XSD = MOCK / "xsd" / "responses" / "Persoon-02.00" / "PersoonComplex.xsd"
NOW = datetime(2026, 3, 9, 8, 0, 0)
WRAPPER = """<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"
  xmlns:p="http://persoon-02_00.vip.vlaanderen.be"
  targetNamespace="http://persoon-02_00.vip.vlaanderen.be" elementFormDefault="unqualified">
  <xs:include schemaLocation="{xsd}"/>
  <xs:element name="PersoonMutatieNotificatie" type="p:PersoonMutatieNotificatieType"/>
</xs:schema>"""


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("city") / "city"
    write_city(2500, 8, folder)
    advance_city(folder, 2)
    return folder


@pytest.fixture(scope="module")
def server(city: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running_server(city, tmp_path_factory.mktemp("log") / "server.log") as running:
        yield running


def fetch(server: Server, criteria: PersoonMutatiesNotificatiesCriteria) -> NotificationBatch:
    built = build_request([criteria], sender="gent.be/entitle", capacity="ENTITLE", now=NOW)
    response = server.post("/soap", built.xml)
    assert response.status_code == 200
    return read_batch(parse_response(response.content))


def test_batches_follow_the_receipt_cursor_week_by_week(server: Server, city: Path) -> None:
    first = fetch(server, PersoonMutatiesNotificatiesCriteria())
    again = fetch(server, PersoonMutatiesNotificatiesCriteria())
    assert first == again and first.receipt is not None  # nothing moves until acknowledged
    second = fetch(server, PersoonMutatiesNotificatiesCriteria(after=first.receipt))
    assert second.receipt not in (None, first.receipt)
    done = fetch(server, PersoonMutatiesNotificatiesCriteria(after=second.receipt))
    assert done.empty and done.notifications == ()  # 30016: nothing more waiting
    for week, batch in ((1, first), (2, second)):
        rows = pl.read_parquet(notifications_path(city, week)).filter(pl.col("feed") == "persoon")
        assert {n.insz for n in batch.notifications} == set(rows["person_id"].to_list())
        published = {
            (r["person_id"], r["information"], r["mutation"]) for r in rows.iter_rows(named=True)
        }
        parsed = {
            (n.insz, c.information, m)
            for n in batch.notifications
            for c in n.changes
            for m in c.mutations
        }
        assert parsed == published


def test_general_feed_carries_ksz_and_tax_mutations(server: Server, city: Path) -> None:
    batch = fetch(server, MutatiesNotificatiesCriteria())
    rows = pl.read_parquet(notifications_path(city, 1)).filter(pl.col("feed") == "algemeen")
    assert rows.height > 0
    assert {(n.insz, n.source, next(iter(n.informations))) for n in batch.notifications} == {
        (r["person_id"], r["source"], r["information"]) for r in rows.iter_rows(named=True)
    }
    assert {n.source for n in batch.notifications} <= {"KSZ", "FODFIN"}


def test_an_unknown_receipt_is_refused(server: Server) -> None:
    with pytest.raises(NotificationError) as refused:
        fetch(
            server,
            PersoonMutatiesNotificatiesCriteria(after="00000000-dead-beef-0000-000000000000"),
        )
    assert refused.value.code == "30014"
    assert refused.value.kind == ErrorKind.BAD_REQUEST


def test_person_notifications_validate_against_the_magda_schema(
    server: Server, tmp_path: Path
) -> None:
    if not XSD.is_file():
        pytest.skip("MAGDA mock XSDs not found")
    wrapper = tmp_path / "wrapper.xsd"
    wrapper.write_text(WRAPPER.format(xsd=XSD.as_uri()), encoding="utf-8")
    schema = etree.XMLSchema(etree.parse(str(wrapper)))
    items = []
    after = None
    for _ in range(2):  # both published weeks
        built = build_request(
            [PersoonMutatiesNotificatiesCriteria(after=after)],
            sender="gent.be/entitle",
            capacity="ENTITLE",
        )
        reply = etree.fromstring(server.post("/soap", built.xml).content)
        items += reply.findall(".//PersoonMutatieNotificatie")
        after = reply.findtext(".//Ontvangstreferte")
    assert items
    for item in items:
        item.tag = "{http://persoon-02_00.vip.vlaanderen.be}PersoonMutatieNotificatie"
        assert schema.validate(item), schema.error_log


def test_the_mock_replies_parse_to_typed_outcomes() -> None:
    folder = MOCK / "responses" / "Persoon" / "GeefPersoonMutatiesNotificaties" / "02.00.0000"
    if not folder.is_dir():
        pytest.skip("MAGDA mock responses not found")
    empty = read_batch(parse_response((folder / "notfound.xml").read_bytes()))
    assert empty.empty
    with pytest.raises(NotificationError) as refused:
        read_batch(parse_response((folder / "Monitoring.xml").read_bytes()))
    assert refused.value.code == "30014"


def test_a_malformed_batch_is_a_clear_error_that_never_quotes_the_number(
    server: Server,
) -> None:
    built = build_request(
        [MutatiesNotificatiesCriteria()], sender="gent.be/entitle", capacity="ENTITLE"
    )
    good = server.post("/soap", built.xml).content
    first = etree.fromstring(good).findtext(".//MutatieNotificatie/INSZ")
    broken = good.replace(f"<INSZ>{first}</INSZ>".encode(), b"<INSZ>12345678901</INSZ>", 1)
    with pytest.raises(MagdaParseError) as bad:
        read_batch(parse_response(broken))
    assert "invalid INSZ" in str(bad.value) and "12345678901" not in str(bad.value)
    no_receipt = etree.fromstring(good)
    for node in no_receipt.iter("Ontvangstreferte"):
        node.getparent().remove(node)
    with pytest.raises(MagdaParseError, match="Ontvangstreferte"):
        read_batch(parse_response(etree.tostring(no_receipt)))


def test_the_admin_clock_moves_the_served_city(city: Path, tmp_path: Path) -> None:
    folder = tmp_path / "city"
    write_city(1500, 9, folder)
    with running_server(folder, tmp_path / "server.log") as running:
        before = httpx.get(running.url + "/health").json()
        moved = running.admin("/_admin/advance", weeks=2).json()
        assert [w["week"] for w in moved["weeks"]] == [1, 2]
        assert moved["reference_date"] == "2026-03-15"
        batch = fetch(running, PersoonMutatiesNotificatiesCriteria())
        assert batch.receipt is not None
        after = httpx.get(running.url + "/health").json()
        assert after != before or batch.notifications
        refused = running.admin("/_admin/advance", weeks="two")
        assert refused.status_code == 400
