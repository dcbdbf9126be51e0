"""`entitle magda parse FILE`: normalised JSON, exit 0 when read, 2 when not a MAGDA reply."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from entitle.cli.magda import magda_app

MOCK = Path(__file__).resolve().parents[2] / "shared" / "magda-mock"
RESPONSES = MOCK / "responses"
if not RESPONSES.is_dir():
    pytest.skip(f"MAGDA mock messages not found at {MOCK}", allow_module_level=True)

runner = CliRunner()


def _parse(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(magda_app, ["parse", *args])
    return result.exit_code, result.stdout, result.stderr


# one reply per service, with and without Uitzonderingen
SAMPLES = [
    "Persoon/GeefPersoon/02.02.0000/75680836687.xml",
    "Persoon/GeefPersoon/02.02.0000/notfound.xml",
    "Persoon/GeefGezinssamenstelling/02.02.0000/62680599650.xml",
    "Persoon/GeefHistoriekGezinssamenstelling/02.02.0000/96622497873.xml",
    "Inkomen/GeefAanslagbiljetPersonenbelasting/02.00.0000/62691699717.xml",
    "Inkomen/GeefAanslagbiljetPersonenbelasting/02.00.0000/70021500155.xml",
    "SocZek/GeefSociaalStatuut/03.00.0000/62691699717.xml",
    "SocZek/GeefDossierHandicap/03.00.0000/00683042157.xml",
    "SocZek/GeefLeefloonbedragen/02.00.0000/67722499797.xml",
    "Onderwijs/GeefHistoriekInschrijving/02.01.0000/77660698640.xml",
]


@pytest.mark.parametrize("rel", SAMPLES)
def test_parse_prints_normalised_json(rel: str) -> None:
    code, out, _ = _parse(str(RESPONSES / rel))
    assert code == 0
    data = json.loads(out)
    assert {"service", "version", "insz", "errors", "facts"} <= set(data)
    assert data["service"] == rel.split("/")[1]
    for error in data["errors"]:
        assert {"code", "type", "diagnosis"} <= set(error)
        assert error["type"] in ("no_data", "retry", "refused", "bad_request", "error", "info")


def test_parse_social_status() -> None:
    code, out, _ = _parse(str(RESPONSES / "SocZek/GeefSociaalStatuut/03.00.0000/62691699717.xml"))
    data = json.loads(out)
    assert code == 0
    assert data["version"] == "03.00.0000"
    assert data["insz"] == "62691699717"
    assert data["facts"]["statuses"] == {
        "LIVING_WAGES_PCSA_HELP": True,
        "PCSA_AND_BIM_HELP": True,
        "BIM_BVT": True,
    }


def test_parse_tax_assessment() -> None:
    rel = "Inkomen/GeefAanslagbiljetPersonenbelasting/02.00.0000/62691699717.xml"
    data = json.loads(_parse(str(RESPONSES / rel))[1])
    assert data["facts"]["income_year"] == 2022
    assert data["facts"]["items"] == {"A7270": "3758645", "A7555": "3758645"}


def test_parse_household_and_person() -> None:
    rel = "Persoon/GeefGezinssamenstelling/02.02.0000/62680599650.xml"
    data = json.loads(_parse(str(RESPONSES / rel))[1])
    assert [(m["insz"], m["position_code"]) for m in data["facts"]["members"]] == [
        ("57611399743", "01"),
        ("62680599650", "02"),
    ]
    rel = "Persoon/GeefPersoon/02.02.0000/75680836687.xml"
    data = json.loads(_parse(str(RESPONSES / rel))[1])
    assert data["facts"]["birth_date"] == "1975-08-08"
    assert data["facts"]["municipality"] == "Sint-Pieters-Leeuw"
    assert data["facts"]["municipality_nis"] == "23077"
    assert data["errors"][0]["code"] == "30004" and data["errors"][0]["type"] == "info"


def test_parse_uitzonderingen_exit_zero() -> None:
    code, out, _ = _parse(str(RESPONSES / "SocZek/GeefSociaalStatuut/03.00.0000/69650368562.xml"))
    assert code == 0
    data = json.loads(out)
    assert [(e["code"], e["type"]) for e in data["errors"]] == [("30001", "no_data")]
    assert data["outcome"] == "no_data"
    code, out, _ = _parse(str(RESPONSES / "Persoon/GeefPersoon/02.02.0000/91610100176.xml"))
    assert code == 0
    assert [(e["code"], e["type"]) for e in json.loads(out)["errors"]] == [("99996", "retry")]


def test_parse_soap_fault_names_the_service_from_the_path() -> None:
    rel = "Inkomen/GeefAanslagbiljetPersonenbelasting/02.00.0000/70021500155.xml"
    code, out, _ = _parse(str(RESPONSES / rel))
    assert code == 0
    data = json.loads(out)
    assert data["service"] == "GeefAanslagbiljetPersonenbelasting"
    assert data["fault"]["message"] == "This is a soap Error"
    assert [(e["code"], e["type"]) for e in data["errors"]] == [("soap:Client", "bad_request")]


def test_parse_rejects_what_is_not_a_magda_reply(tmp_path: Path) -> None:
    cases = {
        "text.xml": b"hello",
        "other.xml": b"<root/>",
        "html.xml": b"<html><body>Bad gateway</body></html>",
    }
    for name, content in cases.items():
        path = tmp_path / name
        path.write_bytes(content)
        code, out, err = _parse(str(path))
        assert code == 2, name
        assert out == ""
        assert "not" in err and "MAGDA" in err
    template = MOCK / "requests" / "GeefPersoon" / "02.02.0000" / "template.xml"
    code, _, err = _parse(str(template))
    assert code == 2 and "not a MAGDA reply" in err


def test_parse_missing_file_and_bad_service_option(tmp_path: Path) -> None:
    code, _, err = _parse(str(tmp_path / "nope.xml"))
    assert code == 2 and "cannot read" in err
    rel = "SocZek/GeefSociaalStatuut/03.00.0000/62691699717.xml"
    code, _, err = _parse(str(RESPONSES / rel), "--service", "GeefNiets")
    assert code == 2 and "unknown MAGDA service" in err
