"""The privacy scan: a whole demo run — desk checks, the auditor's reports, the garbage-bag
campaign approved and issued (letters, notifications), then stopped — and no raw income, leefloon
amount or disability value of the synthetic city in its database, logs, letters, lists or in any
page the web app served.
"""

from __future__ import annotations

import re
import signal
import time
from pathlib import Path

import httpx
from privacy_scan import Finding, Scanner, folder_texts, money_forms, sensitive_amounts
from test_demo import (
    ACCOUNT_LINE,
    CAMPAIGN_DONE,
    CAMPAIGN_TIMEOUT,
    READY_LINE,
    START_TIMEOUT,
    STOP_TIMEOUT,
    Demo,
    demo,  # noqa: F401 (the fixture)
    printed_examples,
    sign_in,
)

from entitle.registry.synth import write_city

RUN_NUMBER = re.compile(r"^Campaign garbage-bags: run #(\d+) draft")
ISSUE_TIMEOUT = 120.0


def test_the_scanner_finds_a_planted_income_and_ignores_look_alikes(tmp_path: Path) -> None:
    city = tmp_path / "city"
    write_city(400, 9, city)
    cents = max(sensitive_amounts(city))
    euros = f"{cents // 100:,}".replace(",", ".") + f",{cents % 100:02d}"
    scanner = Scanner(city)
    planted = list(scanner.scan("letter", f"Uw inkomen bedraagt € {euros} per jaar."))
    assert [f.value for f in planted] == [euros]
    assert list(scanner.scan("json", f'{{"household_income": {cents}}}')) != []
    # the same digits inside a longer number, a time stamp or a hash are not a leak
    look_alikes = f"x{cents}y 9{cents} 12:00:00.{cents} ref-{cents}-a {cents}.5"
    assert list(scanner.scan("noise", look_alikes)) == []


def test_money_is_searched_in_the_forms_people_and_programs_write() -> None:
    forms = money_forms(1_234_567)
    assert {"1234567", "12345.67", "12345,67", "12.345,67", "12,345.67"} <= forms


def _approve_and_issue(client: httpx.Client, csrf: str, run_id: int) -> None:
    """Approve the demo's garbage-bag draft as campaign manager; wait until it is issued."""
    path = f"/campaigns/runs/{run_id}/approve"
    asked = client.post(path, data={"csrf_token": csrf, "note": "privacy scan"})
    token = re.search(r'name="confirm" value="([^"]+)"', asked.text)
    assert asked.status_code == 200 and token, asked.text  # the count and amount, then confirm
    data = {"csrf_token": csrf, "note": "privacy scan", "confirm": token.group(1)}
    approved = client.post(path, data=data)
    assert approved.status_code == 303, approved.text
    deadline = time.monotonic() + ISSUE_TIMEOUT
    while time.monotonic() < deadline:
        page = client.get(f"/campaigns/runs/{run_id}")
        if 'status-issued"' in page.text:
            return
        time.sleep(1.0)
    raise AssertionError(f"run {run_id} not issued within {ISSUE_TIMEOUT} s")


def test_a_full_demo_run_leaks_no_sensitive_value(demo: Demo, tmp_path: Path) -> None:  # noqa: F811
    url = demo.wait_for(READY_LINE, START_TIMEOUT)[1]
    logins = {m[1]: (m[2], m[3]) for m in map(ACCOUNT_LINE.match, demo.lines) if m}
    examples = printed_examples(demo.lines)
    pages: list[tuple[str, str]] = []

    with httpx.Client(base_url=url, timeout=30.0, trust_env=False) as client:
        csrf = sign_in(client, *logins["desk officer"])
        for benefit, by_outcome in examples.items():
            for insz in by_outcome.values():
                card = client.post(
                    "/desk/check", data={"insz": insz, "benefit": benefit, "csrf_token": csrf}
                )
                assert card.status_code == 200, card.text
                pages.append((f"desk {benefit} {insz}", card.text))
    some_insz = next(iter(next(iter(examples.values())).values()))
    with httpx.Client(base_url=url, timeout=30.0, trust_env=False) as client:
        csrf = sign_in(client, *logins["auditor"])
        for path in ("/audit", "/audit/alerts"):
            page = client.get(path)
            assert page.status_code == 200, page.text
            pages.append((path, page.text))
        report = client.post("/audit/subject", data={"insz": some_insz, "csrf_token": csrf})
        assert report.status_code == 200, report.text
        pages.append(("subject report", report.text))

    done = demo.wait_for(CAMPAIGN_DONE, CAMPAIGN_TIMEOUT)
    assert done[1] == "draft", demo.output
    run_id = int(RUN_NUMBER.match(demo.lines[-1])[1])  # type: ignore[index]
    with httpx.Client(base_url=url, timeout=30.0, trust_env=False) as client:
        csrf = sign_in(client, *logins["campaign manager"])
        _approve_and_issue(client, csrf, run_id)
        for path in ("/campaigns", f"/campaigns/runs/{run_id}"):
            pages.append((path, client.get(path).text))

    demo.process.send_signal(signal.SIGINT)
    assert demo.process.wait(timeout=STOP_TIMEOUT) == 0
    demo.drain()

    data = tmp_path / "demo"
    scanner = Scanner(data / "city")
    texts = [*folder_texts(data, skip=[data / "city"]), *pages, ("demo output", demo.output)]
    letters = [name for name, _ in texts if name.endswith(".pdf")]
    assert letters, "the issued run wrote no letters to scan"
    assert any(name.startswith("entitle.db:") for name, _ in texts), "no database rows scanned"
    findings: list[Finding] = [f for where, text in texts for f in scanner.scan(where, text)]
    assert findings == [], "\n".join(f"{f.where}: {f.value!r} in …{f.context}…" for f in findings)
