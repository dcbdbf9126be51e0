"""`entitle demo` end to end, as a real process: a small city, the simulator and the web app as
separate processes, a desk officer signing in over HTTP and checking the printed INSZ (one per
outcome, per benefit), the auditor's page, then Ctrl-C — after which no process may be left.

Also the parts a restart relies on: the city is reused, the demo accounts keep their passwords.

A Ghent demo takes minutes (its background campaigns and week of follow-up), so it runs once per
session (`ghent_demo_run`, conftest.py): `run_ghent_demo` plays the whole visit — the desk, the
auditor, the dashboard's draft, the school run and the week, then the campaign manager approving
and issuing the garbage-bag run, then Ctrl-C — and records what it saw; this module's end-to-end
test and the privacy scan (test_privacy_scan.py) assert on that record.
"""

from __future__ import annotations

import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import httpx
from rich.console import Console
from sqlalchemy import select

from entitle.demo.accounts import DEMO_ACCOUNTS, ensure_accounts
from entitle.demo.city import ensure_city
from entitle.store.db import make_engine, session_factory
from entitle.store.models import User
from entitle.store.users import authenticate

REPO = Path(__file__).resolve().parents[1]
PERSONS = 3000
START_TIMEOUT = 75.0  # a 3,000-person demo is ready in a few seconds; this only bounds a hang
STOP_TIMEOUT = 30.0

CSRF = re.compile(r'name="csrf_token" value="([^"]*)"')
OUTCOME = re.compile(r'<section class="card outcome-(\w+)"')
BENEFIT_LINE = re.compile(r"\(([a-z]+\.[a-z-]+)\) — ")  # any municipality's benefit id
EXAMPLE_LINE = re.compile(
    r"^\s+(eligible|not_eligible|undetermined)\s+(\d\d\.\d\d\.\d\d-\d{3}\.\d\d)\b"
)
ACCOUNT_LINE = re.compile(
    r"^\s+(desk officer|campaign manager|administrator|auditor|coupon verifier)\s+(\S+)\s+(\S+)\s*$"
)
READY_LINE = re.compile(r"\bready\b.*?(http://127\.0\.0\.1:\d+/)")
PID = re.compile(r"\bpid (\d+)\b")
CAMPAIGNS_LINE = re.compile(r"^Campaigns run in the background \(pid (\d+)")
SCHOOL_DONE = re.compile(r"^Campaign school-tariff: run #\d+ (\w+): ([\d,]+) eligible")
RUN_NUMBER = re.compile(r"run #(\d+)")
FOLLOW_UP = re.compile(r"^Follow-up week (\d+) \((\S+)\): (\d+) notifications, (\d+) persons")
MOVED = re.compile(r"^City moved to (\S+):", re.MULTILINE)
SEEDED = re.compile(r"^Follow-up baseline: .* subjects \(from runs #\d+", re.MULTILINE)
CAMPAIGN_DONE = re.compile(r"^Campaign garbage-bags: run #\d+ (\w+): ([\d,]+) eligible")
CAMPAIGN_SYNCED = re.compile(r"^Campaign garbage-bags: inscriptions ([\d,]+) new.*; ([\d,]+) calls")
EXAMPLES_INSCRIBED = re.compile(r"^Desk examples inscribed in the KSZ directory \(([\d,]+) calls\)")
CAMPAIGN_TIMEOUT = 420.0  # inscriptions, the runs, a week of follow-up: bounds a hang only


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def entitle_command() -> list[str]:
    script = Path(sys.executable).with_name("entitle")
    if script.is_file():
        return [str(script)]
    return [sys.executable, "-c", "from entitle.cli.main import main; main()"]


def demo_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENTITLE_")}
    env.update(COLUMNS="200", PYTHONUNBUFFERED="1")
    return env


def process_groups() -> dict[int, list[int]]:
    """Process group id -> the ids of the processes in it (from /proc)."""
    groups: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # gone meanwhile
            continue
        fields = text[text.rindex(")") + 2 :].split()
        groups.setdefault(int(fields[2]), []).append(int(stat.parent.name))
    return groups


def alive(pid: int) -> bool:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return text[text.rindex(")") + 2 :].split()[0] != "Z"


@dataclass
class Demo:
    """A running `entitle demo` and what it printed."""

    process: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)
    _queue: queue.Queue[str | None] = field(default_factory=queue.Queue)

    def start_reading(self) -> None:
        def read() -> None:
            assert self.process.stdout is not None
            for line in self.process.stdout:
                self._queue.put(line.rstrip("\n"))
            self._queue.put(None)

        threading.Thread(target=read, daemon=True).start()

    def wait_for(self, pattern: re.Pattern[str], timeout: float) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            assert left > 0, f"no {pattern.pattern!r} within {timeout} s:\n" + self.output
            try:
                line = self._queue.get(timeout=left)
            except queue.Empty:
                continue
            assert line is not None, "the demo ended early:\n" + self.output
            self.lines.append(line)
            found = pattern.search(line)
            if found:
                return found

    def drain(self) -> None:
        with suppress(queue.Empty):
            while (line := self._queue.get(timeout=1.0)) is not None:
                self.lines.append(line)

    @property
    def output(self) -> str:
        return "\n".join(self.lines)


@contextmanager
def running_demo(folder: Path, *options: str) -> Iterator[Demo]:
    """`entitle demo` with a small city in `folder` (and `options`), in its own process group;
    whatever happens, nothing of it outlives the block."""
    command = [*entitle_command(), "demo", "--persons", str(PERSONS)]
    command += ["--data", str(folder), "--port", str(free_port()), *options]
    process = subprocess.Popen(
        command,
        cwd=REPO,
        env=demo_env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own group: what it leaves behind is easy to find
    )
    running = Demo(process)
    running.start_reading()
    try:
        yield running
    finally:
        groups = process_groups()
        for pid in {process.pid, *(int(p) for p in PID.findall(running.output))}:
            if pid in groups:
                with suppress(ProcessLookupError, PermissionError):
                    os.killpg(pid, signal.SIGKILL)
        with suppress(subprocess.TimeoutExpired):
            process.wait(timeout=10)


def sign_in(client: httpx.Client, username: str, password: str) -> str:
    """Sign in through the login form; returns the CSRF token of the page it lands on."""
    page = client.get("/login")
    assert page.status_code == 200, page.text
    token = CSRF.search(page.text)
    assert token, "no CSRF token on the login page"
    response = client.post(
        "/login", data={"username": username, "password": password, "csrf_token": token[1]}
    )
    assert response.status_code == 303, response.text
    home = client.get(response.headers["location"])
    assert home.status_code == 200, home.text
    found = CSRF.search(home.text)
    assert found, "no CSRF token after signing in"
    return found[1]


def printed_examples(lines: list[str]) -> dict[str, dict[str, str]]:
    """benefit id -> outcome -> INSZ, from the demo's output."""
    examples: dict[str, dict[str, str]] = {}
    benefit = None
    for line in lines:
        heading = BENEFIT_LINE.search(line)
        if heading:
            benefit = heading[1]
            continue
        example = EXAMPLE_LINE.match(line)
        if example and benefit is not None:
            examples.setdefault(benefit, {})[example[1]] = example[2]
    return examples


RUN_PAGE_ISSUED = 'status-issued"'
ISSUE_TIMEOUT = 120.0


@dataclass
class Page:
    """What the web app answered."""

    status: int
    text: str

    @classmethod
    def of(cls, response: httpx.Response) -> Page:
        return cls(response.status_code, response.text)


@dataclass
class GhentDemoRun:
    """What one visit of the Ghent demo saw, from start to Ctrl-C (`run_ghent_demo`)."""

    folder: Path  # the demo's data folder
    url: str
    output_at_ready: str
    alive_at_ready: dict[int, bool]  # the simulator's and the web app's pid
    campaigns_pid: int
    logins: dict[str, tuple[str, str]]
    examples: dict[str, dict[str, str]]
    cards: list[tuple[str, str, str, Page]]  # benefit, printed outcome, INSZ, the desk's card
    audit: dict[str, Page]  # /audit, /audit/alerts and the subject report, for the auditor
    campaign_done: str  # the garbage-bag run's line: a draft
    dashboard: dict[str, Page]  # /campaigns and the run's page, the draft to review
    school_done: str
    follow_up: str
    approval: list[Page]  # the confirmation asked, then the approval
    issued: dict[str, Page]  # /campaigns and the run's page once issued
    exit_code: int | None
    lines: list[str]  # everything the demo printed, to its end
    groups_after: dict[int, list[int]]  # process groups once it ended
    alive_after: dict[int, bool]
    refused_after: bool  # the web app's URL refuses connections

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    @property
    def run_id(self) -> int:
        return int(RUN_NUMBER.findall(self.campaign_done)[0])

    @property
    def pids(self) -> list[int]:
        """The simulator, the web app and the campaigns."""
        return [*sorted(self.alive_at_ready), self.campaigns_pid]


def _approve_and_issue(client: httpx.Client, csrf: str, run_id: int) -> tuple[list[Page], bool]:
    """Approve the demo's garbage-bag draft as campaign manager (the count and amount are asked to
    be confirmed first); wait until it is issued. Returns the answers and whether it was."""
    path = f"/campaigns/runs/{run_id}/approve"
    asked = client.post(path, data={"csrf_token": csrf, "note": "privacy scan"})
    token = re.search(r'name="confirm" value="([^"]+)"', asked.text)
    if asked.status_code != 200 or not token:
        return [Page.of(asked)], False
    data = {"csrf_token": csrf, "note": "privacy scan", "confirm": token.group(1)}
    approved = client.post(path, data=data)
    answers = [Page.of(asked), Page.of(approved)]
    if approved.status_code != 303:
        return answers, False
    deadline = time.monotonic() + ISSUE_TIMEOUT
    while time.monotonic() < deadline:
        if RUN_PAGE_ISSUED in client.get(f"/campaigns/runs/{run_id}").text:
            return answers, True
        time.sleep(1.0)
    return answers, False


def run_ghent_demo(folder: Path) -> GhentDemoRun:
    """Start `entitle demo` (Ghent, `PERSONS`) in `folder` and visit it as its users would: the
    desk officer checks each printed INSZ, the auditor reads the audit pages and a subject report,
    the campaign manager opens the garbage-bag draft once the campaigns said it is ready; after the
    school run and the week of follow-up the manager approves and issues the draft; then Ctrl-C.
    Waits bound a hang only (an AssertionError says which); the rest is recorded, not judged."""
    with running_demo(folder) as demo:
        url = demo.wait_for(READY_LINE, START_TIMEOUT)[1]
        output_at_ready = demo.output
        alive_at_ready = {pid: alive(pid) for pid in {int(p) for p in PID.findall(demo.output)}}
        campaigns_pid = int(demo.wait_for(CAMPAIGNS_LINE, 5.0)[1])  # once the desk is ready
        logins = {m[1]: (m[2], m[3]) for m in map(ACCOUNT_LINE.match, demo.lines) if m}
        examples = printed_examples(demo.lines)

        cards: list[tuple[str, str, str, Page]] = []
        with httpx.Client(base_url=url, timeout=30.0, trust_env=False) as client:
            csrf = sign_in(client, *logins["desk officer"])
            for benefit, by_outcome in examples.items():
                for outcome, insz in by_outcome.items():
                    card = client.post(
                        "/desk/check", data={"insz": insz, "benefit": benefit, "csrf_token": csrf}
                    )
                    cards.append((benefit, outcome, insz, Page.of(card)))
        audit: dict[str, Page] = {}
        with httpx.Client(base_url=url, timeout=30.0, trust_env=False) as client:
            csrf = sign_in(client, *logins["auditor"])
            for path in ("/audit", "/audit/alerts"):
                audit[path] = Page.of(client.get(path))
            some_insz = cards[0][2] if cards else ""
            report = client.post("/audit/subject", data={"insz": some_insz, "csrf_token": csrf})
            audit["subject report"] = Page.of(report)

        campaign_done = demo.wait_for(CAMPAIGN_DONE, CAMPAIGN_TIMEOUT).string
        run_id = int(RUN_NUMBER.findall(campaign_done)[0])
        with httpx.Client(base_url=url, timeout=30.0, trust_env=False) as client:
            sign_in(client, *logins["campaign manager"])
            dashboard = {
                path: Page.of(client.get(path))
                for path in ("/campaigns", f"/campaigns/runs/{run_id}")
            }
        school_done = demo.wait_for(SCHOOL_DONE, CAMPAIGN_TIMEOUT).string
        follow_up = demo.wait_for(FOLLOW_UP, 30.0).string

        with httpx.Client(base_url=url, timeout=30.0, trust_env=False) as client:
            csrf = sign_in(client, *logins["campaign manager"])
            approval, issued = _approve_and_issue(client, csrf, run_id)
            assert issued, f"run {run_id} not issued within {ISSUE_TIMEOUT} s: {approval}"
            after = {
                path: Page.of(client.get(path))
                for path in ("/campaigns", f"/campaigns/runs/{run_id}")
            }

        demo.process.send_signal(signal.SIGINT)
        exit_code = demo.process.wait(timeout=STOP_TIMEOUT)
        demo.drain()
        pids = [*alive_at_ready, campaigns_pid]
        groups_after = process_groups()
        groups_after = {
            group: members
            for group, members in groups_after.items()
            if group in (demo.process.pid, *pids)
        }
        alive_after = {pid: alive(pid) for pid in pids}
        try:
            httpx.get(url, timeout=2.0, trust_env=False)
            refused_after = False
        except httpx.TransportError:
            refused_after = True
        return GhentDemoRun(
            folder=folder,
            url=url,
            output_at_ready=output_at_ready,
            alive_at_ready=alive_at_ready,
            campaigns_pid=campaigns_pid,
            logins=logins,
            examples=examples,
            cards=cards,
            audit=audit,
            campaign_done=campaign_done,
            dashboard=dashboard,
            school_done=school_done,
            follow_up=follow_up,
            approval=approval,
            issued=after,
            exit_code=exit_code,
            lines=list(demo.lines),
            groups_after=groups_after,
            alive_after=alive_after,
            refused_after=refused_after,
        )


def test_the_demo_runs_end_to_end_and_leaves_nothing_behind(
    ghent_demo_run: GhentDemoRun,
) -> None:
    demo = ghent_demo_run
    output = demo.output_at_ready
    assert "for this demo only" in output
    pids = sorted(demo.alive_at_ready)
    assert len(pids) == 2, output  # the simulator and the web app
    assert all(demo.alive_at_ready.values())
    pids.append(demo.campaigns_pid)  # they start once the desk is ready
    logins = demo.logins
    assert set(logins) == {label for _, _, label in DEMO_ACCOUNTS}, output
    examples = demo.examples
    assert set(examples) == {"ghent.uitpas", "ghent.garbage-bags"}, output
    for benefit, by_outcome in examples.items():
        assert set(by_outcome) == {"eligible", "not_eligible", "undetermined"}, (benefit, output)

    assert len(demo.cards) == sum(len(by_outcome) for by_outcome in examples.values())
    for benefit, outcome, insz, card in demo.cards:
        assert card.status == 200, card.text
        shown = OUTCOME.search(card.text)
        assert shown, card.text
        assert shown[1] == outcome, f"{benefit} {insz}: desk says {shown[1]}"
    audit = demo.audit["/audit"]  # the auditor's page lists the desk's checks
    assert audit.status == 200, audit.text
    assert "desk" in audit.text

    # the simulator requires KSZ inscriptions: the desk examples were inscribed at start
    inscribed = next(filter(None, map(EXAMPLES_INSCRIBED.match, demo.lines)))
    assert int(inscribed[1].replace(",", "")) > 0
    # the garbage-bag campaign ran in the background against the simulator: a draft to review
    done = CAMPAIGN_DONE.search(demo.campaign_done)  # said when runs and follow-up end
    assert done and done[1] == "draft", demo.output
    synced = next(filter(None, map(CAMPAIGN_SYNCED.match, demo.lines)))  # its target first
    assert int(synced[1].replace(",", "")) > 0 and int(synced[2].replace(",", "")) > 0
    assert int(done[2].replace(",", "")) > 0
    run_id = demo.run_id
    index = demo.dashboard["/campaigns"]  # the dashboard: the run, to review
    assert index.status == 200, index.text
    assert f"/campaigns/runs/{run_id}" in index.text
    page = demo.dashboard[f"/campaigns/runs/{run_id}"]
    assert page.status == 200, page.text
    assert 'class="bars' in page.text and "status-draft" in page.text
    # the city was generated for today: the school check finds this school year's pupils
    school = SCHOOL_DONE.search(demo.school_done)
    assert school and school[1] == "draft" and int(school[2].replace(",", "")) > 0, demo.output
    # then the city moved one week forward and that week was followed up (`entitle watch run`)
    week = FOLLOW_UP.search(demo.follow_up)
    assert week and week[1] == "2" and int(week[3]) > 0 and int(week[4]) > 0, demo.output
    assert "garbage-bags new" in demo.follow_up, demo.output  # 1: baseline
    # the baseline is the runs' decisions (nothing decided again); the week is decided as of the
    # day the city moved to
    assert SEEDED.search(demo.output), demo.output
    moved = MOVED.search(demo.output)
    assert moved and week[2] == moved[1], demo.output

    assert demo.exit_code == 0
    assert "nothing left running" in demo.output
    assert demo.groups_after == {}, f"left in process groups: {demo.groups_after}"
    assert not any(demo.alive_after.values())
    assert demo.refused_after


def test_a_failed_start_stops_what_it_started(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [
                *entitle_command(),
                "demo",
                "--persons",
                "500",
                "--data",
                str(tmp_path / "demo"),
                "--port",
                str(port),
            ],
            cwd=REPO,
            env=demo_env(),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=START_TIMEOUT,
            start_new_session=True,
        )
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"--port {port}" in result.stderr
    registry = int(PID.findall(result.stdout)[0])  # started before the web port was found taken
    assert "nothing left running" in result.stdout
    assert registry not in process_groups()
    assert not alive(registry)


def test_a_restart_reuses_the_city_and_keeps_the_accounts(tmp_path: Path) -> None:
    console = Console(file=open(os.devnull, "w"))  # noqa: SIM115 (closed below)
    try:
        city, day = tmp_path / "city", date(2026, 12, 3)
        first, reused = ensure_city(city, 300, 5, console, as_of=day)
        assert not reused and first["school_year"] == "2026-2027"
        again, reused = ensure_city(city, 300, 5, console, as_of=day + timedelta(days=7))
        assert reused and again == first  # the same school year and income years
        _, reused = ensure_city(city, 400, 5, console, as_of=day)
        assert not reused  # another size: a new city
        later, reused = ensure_city(city, 400, 5, console, as_of=date(2027, 9, 1))
        assert not reused and later["school_year"] == "2027-2028"  # a new school year
        summer, reused = ensure_city(city, 400, 5, console, as_of=date(2028, 7, 1))
        assert not reused and summer["income_years"] == [2026, 2027]  # new assessments count
    finally:
        console.file.close()

    url = f"sqlite:///{tmp_path / 'entitle.db'}"
    accounts = tmp_path / "demo-accounts.json"
    passwords = ensure_accounts(url, accounts)
    assert set(passwords) == {name for name, _, _ in DEMO_ACCOUNTS}
    assert accounts.stat().st_mode & 0o077 == 0  # the passwords file is the user's alone
    engine = make_engine(url)
    try:
        with session_factory(engine)() as session:
            desk = session.scalar(select(User).where(User.username == "desk"))
            assert desk is not None
            desk.active = False
            session.commit()
        assert ensure_accounts(url, accounts) == passwords  # a restart: same passwords
        with session_factory(engine)() as session:
            for name, role, _ in DEMO_ACCOUNTS:
                user = authenticate(session, name, passwords[name])  # and active again
                assert user.role == role
    finally:
        engine.dispose()
