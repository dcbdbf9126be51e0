"""A second municipality: `entitle demo --municipality vlasbeke` end to end, and the definitions.

Vlasbeke is fictional (docs/municipalities.md). Its demo generates a city with the town's NIS code,
shows only the town's benefits at the desk (in its own order), decides the town-only heating
allowance at the desk as the demo printed, runs the town's campaign, and leaves no process behind.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from test_demo import (
    ACCOUNT_LINE,
    CAMPAIGN_TIMEOUT,
    CSRF,
    OUTCOME,
    PERSONS,
    PID,
    READY_LINE,
    START_TIMEOUT,
    STOP_TIMEOUT,
    Demo,
    alive,
    demo_env,
    entitle_command,
    printed_examples,
    process_groups,
    running_demo,
    sign_in,
)
from test_letters import letter, pdf_pages

from entitle.decide.campaign.definition import load_campaigns
from entitle.decide.letters import write_letters
from entitle.municipality import MunicipalityError, known_ids, load_municipality
from entitle.registry.synth_place import PLACES
from entitle.rules.folder import load_benefits

REPO = Path(__file__).resolve().parents[1]
TOWN_ONLY = "vlasbeke.heating-allowance"
CAMPAIGNS_LINE = re.compile(r"^Campaigns run in the background \(pid (\d+);.*: heating-allowance\.")
FOLLOW_UP = re.compile(r"^Follow-up week 2 \(.*heating-allowance new \d+")
CAMPAIGN_DONE = re.compile(r"^Campaign heating-allowance: run #\d+ (\w+): ([\d,]+) eligible")
RADIO = re.compile(r'<input type="radio" name="benefit" value="([^"]+)"')


@pytest.fixture
def town_demo(tmp_path: Path) -> Iterator[Demo]:
    with running_demo(tmp_path / "demo", "--municipality", "vlasbeke") as running:
        yield running


def test_the_town_demo_runs_its_own_benefits_and_leaves_nothing_behind(
    town_demo: Demo, tmp_path: Path
) -> None:
    url = town_demo.wait_for(READY_LINE, START_TIMEOUT)[1]
    output = town_demo.output
    assert "(Vlasbeke)" in output
    meta = json.loads((tmp_path / "demo" / "city" / "meta.json").read_text(encoding="utf-8"))
    assert meta["municipality_nis"] == "49901" and meta["persons"] == PERSONS
    pids = sorted({int(p) for p in PID.findall(output)})
    assert len(pids) == 2, output  # the simulator and the web app
    pids.append(int(town_demo.wait_for(CAMPAIGNS_LINE, 5.0)[1]))
    logins = {m[1]: (m[2], m[3]) for m in map(ACCOUNT_LINE.match, town_demo.lines) if m}
    examples = printed_examples(town_demo.lines)
    assert set(examples) == {TOWN_ONLY, "vlasbeke.uitpas"}, output
    assert "eligible" in examples[TOWN_ONLY], output

    with httpx.Client(base_url=url, timeout=30.0, trust_env=False) as client:
        sign_in(client, *logins["desk officer"])
        desk = client.get("/desk")
        assert desk.status_code == 200, desk.text
        # only the town's benefits, in the order of municipalities/vlasbeke.yaml
        assert RADIO.findall(desk.text) == [
            TOWN_ONLY,
            "vlasbeke.uitpas",
            "vlasbeke.garbage-bags",
        ]
        token = CSRF.search(desk.text)
        assert token
        for outcome, insz in examples[TOWN_ONLY].items():
            card = client.post(
                "/desk/check", data={"insz": insz, "benefit": TOWN_ONLY, "csrf_token": token[1]}
            )
            assert card.status_code == 200, card.text
            shown = OUTCOME.search(card.text)
            assert shown, card.text
            assert shown[1] == outcome, f"{insz}: the desk says {shown[1]}, the demo {outcome}"
        assert "Verwarmingstoelage voor senioren" in card.text

    # the town's campaign, as a draft to review (said when it and its week of follow-up end)
    done = town_demo.wait_for(CAMPAIGN_DONE, CAMPAIGN_TIMEOUT)
    assert done[1] == "draft", town_demo.output
    assert int(done[2].replace(",", "")) > 0
    assert town_demo.wait_for(FOLLOW_UP, 10.0), town_demo.output  # the town's city moved too

    town_demo.process.send_signal(signal.SIGINT)
    assert town_demo.process.wait(timeout=STOP_TIMEOUT) == 0
    town_demo.drain()
    assert "nothing left running" in town_demo.output
    groups = process_groups()
    for group in (town_demo.process.pid, *pids):
        assert group not in groups, f"left in process group {group}: {groups[group]}"
    assert not any(alive(pid) for pid in pids)


def test_an_unknown_municipality_is_refused_before_anything_starts(tmp_path: Path) -> None:
    result = subprocess.run(
        [*entitle_command(), "demo", "--municipality", "atlantis", "--data", str(tmp_path)],
        cwd=REPO,
        env=demo_env(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=START_TIMEOUT,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "no municipality 'atlantis'" in result.stderr and "vlasbeke" in result.stderr
    assert not (tmp_path / "city").exists()


# --------------------------------------------------------------------------- the definitions


@pytest.mark.parametrize("key", ["ghent", "vlasbeke"])
def test_each_definition_agrees_with_its_benefits_campaigns_and_city(key: str) -> None:
    town = load_municipality(key, REPO / "municipalities")
    benefits = load_benefits(town.benefits)
    assert set(town.desk_order) == set(benefits)  # every benefit placed at the desk, once
    assert len(town.desk_order) == len(set(town.desk_order))
    assert set(town.demo_examples) <= set(benefits)
    assert all(benefit.startswith(f"{key}.") for benefit in benefits)
    campaigns = {c.name: c for c in load_campaigns(town.campaigns, town.benefits)}
    assert set(town.demo_campaigns) <= set(campaigns)
    for campaign in campaigns.values():
        target = campaign.spec.target
        assert target.kind == "pupils" or target.municipality_nis == town.nis, campaign.name
        letters = campaign.spec.outputs.letters
        if letters:
            assert letters.municipality_name == town.name["nl"]
            assert letters.sender[0] == town.authority
    place = PLACES[key]
    assert (place.nis, place.name, place.default_persons) == (
        town.nis,
        town.name["nl"],
        town.demo_persons,
    )


def test_ghent_is_the_default_and_the_town_is_fictional(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ENTITLE_MUNICIPALITY", raising=False)
    monkeypatch.setenv("ENTITLE_MUNICIPALITIES", str(REPO / "municipalities"))
    assert load_municipality().id == "ghent"
    assert known_ids() == ["ghent", "vlasbeke"]
    monkeypatch.setenv("ENTITLE_MUNICIPALITY", "vlasbeke")
    town = load_municipality()
    assert town.fictional and town.nis == "49901" and town.authority == "Gemeente Vlasbeke"
    assert not load_municipality("ghent").fictional


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("id: other\n", "differs from the file name"),
        ("nis: '4402'\n", "nis"),
        ("colour: blue\n", "colour"),
        ("name: {nl: Stad}\n", "name needs en"),
    ],
)
def test_a_broken_definition_says_what_is_wrong(tmp_path: Path, text: str, message: str) -> None:
    base = (REPO / "municipalities" / "vlasbeke.yaml").read_text(encoding="utf-8")
    key = text.split(":")[0]
    kept = [line for line in base.splitlines() if not line.startswith(f"{key}:")]
    (tmp_path / "vlasbeke.yaml").write_text("\n".join(kept) + "\n" + text, encoding="utf-8")
    with pytest.raises(MunicipalityError, match=message):
        load_municipality("vlasbeke", tmp_path)
    with pytest.raises(MunicipalityError, match="lower case"):
        load_municipality("../etc", tmp_path)


def test_serve_takes_the_municipality_s_folders(monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn
    from typer.testing import CliRunner

    from entitle.cli.web import web_app

    environ = {k: v for k, v in os.environ.items() if not k.startswith("ENTITLE_")}
    monkeypatch.setattr(os, "environ", environ)  # serve writes its settings here
    started: list[str] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **_: started.append(app))
    result = CliRunner().invoke(web_app, ["serve", "--municipality", "vlasbeke"])
    assert result.exit_code == 0, result.output
    assert started == ["entitle.web.asgi:app_from_env"]
    assert environ["ENTITLE_MUNICIPALITY"] == "vlasbeke"
    assert Path(environ["ENTITLE_BENEFITS"]) == REPO / "benefits" / "vlasbeke"
    assert Path(environ["ENTITLE_CAMPAIGNS"]) == REPO / "campaigns" / "vlasbeke"

    environ.clear()
    result = CliRunner().invoke(web_app, ["serve", "--municipality", "atlantis"])
    assert result.exit_code == 2 and "no municipality 'atlantis'" in result.output


def test_a_letter_is_signed_by_its_sender(tmp_path: Path) -> None:
    ghent = letter("Jan Peeters")
    town = replace(ghent, sender=("Gemeente Vlasbeke", "Sociaal Huis", "Kerkplein 3"))
    write_letters([ghent, town], tmp_path / "letters.pdf")
    first, second = pdf_pages(tmp_path / "letters.pdf")
    assert first.split("Met vriendelijke groeten,")[1].split()[:2] == ["Stad", "Gent"]
    assert second.split("Met vriendelijke groeten,")[1].split()[:2] == ["Gemeente", "Vlasbeke"]
    assert "Stad Gent" not in second
