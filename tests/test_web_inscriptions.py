"""The desk when KSZ data needs an inscription (the simulator with --require-inscriptions): a
person not inscribed is told to the officer with the guidance, an officer who may override
inscribes from the card (audited with the pseudonym), and the check then decides."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import text
from test_registry_city import City
from test_registry_server import running_server
from test_web_support import (
    CAPACITY,
    SENDER,
    Web,
    csrf_token,
    desk_check,
    magda_overrides,
    settings_for,
    signed_in,
    write_web_city,
)

from entitle.web.app import create_app

UITPAS = "ghent.uitpas"
CONFIG = f"""\
authorisations:
  - sender: {SENDER}
    capacity: {CAPACITY}
    services: [GeefPersoon, GeefGezinssamenstelling, GeefSociaalStatuut, RegistreerInschrijving]
    statuses: [BIM_BVT, LIVING_WAGES_PCSA_HELP]
"""
NOT_INSCRIBED = "niet ingeschreven in het verwijzingsrepertorium"


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Web]:
    folder = tmp_path_factory.mktemp("web")
    city = write_web_city(folder / "city")
    config = folder / "simulator.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    options = ("--config", str(config), "--require-inscriptions")
    with running_server(city.path, folder / "simulator.log", *options) as server:
        magda = {**magda_overrides(), "require_inscriptions": True}
        app = create_app(settings_for(server.url, folder, magda=magda))
        web = Web(app, server, city, folder)
        web.add_user("desk", "desk_officer")
        web.add_user("campaign", "campaign_manager")
        try:
            yield web
        finally:
            web.state.desk.close()
            web.state.backend.close()


def _outcome(html: str) -> str:
    return html.split('class="card outcome-', 1)[1].split('"', 1)[0]


def test_not_inscribed_is_said_and_the_officer_inscribes(web: Web) -> None:
    city: City = web.city
    viewer, csrf = signed_in(web, "campaign")  # may check, may not inscribe
    seen = desk_check(viewer, csrf, city.ref, UITPAS)
    assert _outcome(seen.text) == "undetermined"
    assert NOT_INSCRIBED in seen.text and "vraag het attest" in seen.text
    assert 'action="/desk/inscribe"' not in seen.text
    refused = viewer.post(
        "/desk/inscribe", data={"insz": city.ref, "benefit": UITPAS, "csrf_token": csrf}
    )
    assert refused.status_code == 403

    officer, csrf = signed_in(web, "desk")
    card = desk_check(officer, csrf, city.ref, UITPAS)
    assert NOT_INSCRIBED in card.text and 'action="/desk/inscribe"' in card.text
    done = officer.post(
        "/desk/inscribe",
        data={"insz": city.ref, "benefit": UITPAS, "csrf_token": csrf_token(card.text)},
    )
    assert done.status_code == 200, done.text
    assert "De persoon is ingeschreven voor dit doel" in done.text
    assert _outcome(done.text) == "eligible"
    assert NOT_INSCRIBED not in done.text
    # audited: who, for which purpose, the pseudonym — never the INSZ
    entries = web.state.backend.search(kind="inscription")
    assert len(entries) == 1
    entry = entries[0]
    assert entry["actor"] == "desk" and entry["outcome"] == "inscribed"
    assert entry["subject"] == web.pseudonym(city.ref)
    assert city.ref not in str(entry)
    # a later check needs no inscription any more
    again = desk_check(officer, csrf_token(done.text), city.ref, UITPAS)
    assert _outcome(again.text) == "eligible" and NOT_INSCRIBED not in again.text
    # the ledger is the store's table, in the web app's database
    with web.state.backend.engine.connect() as connection:
        rows = connection.execute(text("SELECT purpose, insz FROM inscriptions")).all()
    assert [tuple(row) for row in rows] == [("ghent-uitpas", city.ref)]
