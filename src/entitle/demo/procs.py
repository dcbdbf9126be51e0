"""The processes `entitle demo` starts, and how it stops them: signals, process groups, ports.

Each child runs in a session (and process group) of its own, so that the demo alone decides when
and how it stops: a Ctrl-C in the terminal reaches the demo, which then sends SIGTERM to each
child's whole group, waits, and sends SIGKILL to what is left. Children are started through
`entitle.demo.launch`, which also makes them die with the demo should it be killed outright.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess  # nosec B404  # the demo starts its own processes
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import IO

import httpx

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
GRACE_SECONDS = 10.0  # after SIGTERM, before SIGKILL


class DemoError(Exception):
    """The demo cannot start or go on; the message says why."""


class Stop(BaseException):
    """A stop signal (Ctrl-C, SIGTERM, SIGHUP) arrived. Like KeyboardInterrupt, not an
    `Exception`, so that no ``except Exception`` on the way swallows it."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


class StopSignals:
    """Turns SIGINT, SIGTERM and SIGHUP into `Stop`, except inside `shield()` (then deferred).

    Only the first signal interrupts; later ones (and any while `stopping()`) only ask to `hurry`
    (SIGKILL at once instead of waiting).
    """

    def __init__(self) -> None:
        self.received: str | None = None
        self.hurry = False
        self._shielded = 0
        self._stopping = False
        self._previous: dict[int, object] = {}

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if self._stopping or self.received is not None:
            self.hurry = True  # a second signal: stop without waiting
            return
        self.received = name
        if not self._shielded:
            raise Stop(name)

    def install(self) -> None:
        for sig in STOP_SIGNALS:
            self._previous[sig] = signal.signal(sig, self._handle)

    def restore(self) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)  # type: ignore[arg-type]
        self._previous.clear()

    @contextmanager
    def shield(self) -> Iterator[None]:
        """Defer a stop signal until the block is done (e.g. starting a process and noting it)."""
        self._shielded += 1
        try:
            yield
        finally:
            self._shielded -= 1
        if not self._shielded and self.received is not None and not self._stopping:
            raise Stop(self.received)

    def stopping(self) -> None:
        """From now on signals only set `hurry`."""
        self._stopping = True

    def check(self) -> None:
        """Raise `Stop` if a signal arrived while shielded."""
        if self.received is not None and not self._stopping:
            raise Stop(self.received)


@dataclass
class Child:
    """A process the demo started, in its own process group, with its output in a log file."""

    name: str
    process: subprocess.Popen[bytes]
    log_path: Path
    log: IO[bytes] = field(repr=False)

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def log_tail(self, lines: int = 15) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.rstrip().splitlines()[-lines:])

    def group_alive(self) -> bool:
        """Whether any process is left in the child's process group."""
        try:
            os.killpg(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:  # a process of another user took the id: not ours
            return False
        return True


def start_child(
    name: str,
    argv: Sequence[str],
    *,
    env: Mapping[str, str],
    log_path: Path,
    cwd: Path,
) -> Child:
    """Start `argv` in a new session (its own process group), output to `log_path`."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log = log_path.open("wb")
    command = [sys.executable, "-m", "entitle.demo.launch", str(os.getpid()), "--", *argv]
    try:
        process = subprocess.Popen(  # nosec B603  # fixed argv, no shell
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=dict(env),
            cwd=cwd,
            start_new_session=True,
        )
    except OSError as exc:
        log.close()
        raise DemoError(f"cannot start the {name}: {exc}") from None
    return Child(name, process, log_path, log)


def _signal_group(child: Child, sig: signal.Signals) -> None:
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(child.pid, sig)


def stop_children(children: Sequence[Child], signals: StopSignals | None = None) -> list[str]:
    """Stop every child (the last started first): SIGTERM to its group, then SIGKILL after
    `GRACE_SECONDS` (at once when `signals.hurry`). Returns what is still running (normally
    nothing).
    """
    for child in reversed(children):
        _signal_group(child, signal.SIGTERM)
    deadline = time.monotonic() + GRACE_SECONDS
    for child in reversed(children):
        while child.alive() and time.monotonic() < deadline:
            if signals is not None and signals.hurry:
                break
            time.sleep(0.05)
    for child in children:
        if child.alive() or child.group_alive():
            _signal_group(child, signal.SIGKILL)
    left: list[str] = []
    for child in children:
        with suppress(subprocess.TimeoutExpired):
            child.process.wait(timeout=5)
        # members of the group other than the leader (none expected): give them a moment
        for _ in range(50):
            if not child.group_alive():
                break
            _signal_group(child, signal.SIGKILL)
            time.sleep(0.02)
        if child.alive() or child.group_alive():
            left.append(f"{child.name} (process group {child.pid})")
        child.log.close()
    return left


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on now (the OS's choice)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
    return port


def wait_until_ready(child: Child, url: str, timeout: float, signals: StopSignals) -> None:
    """Poll `url` until it answers 200; `DemoError` if the child exits or time runs out."""
    deadline = time.monotonic() + timeout
    with httpx.Client(timeout=2.0, trust_env=False) as client:
        while True:
            signals.check()
            code = child.process.poll()
            if code is not None:
                tail = child.log_tail()
                raise DemoError(
                    f"the {child.name} stopped during start-up (exit code {code}); "
                    f"its log {child.log_path} ends with:\n{tail}"
                )
            with suppress(httpx.HTTPError):
                if client.get(url).status_code == 200:
                    return
            if time.monotonic() > deadline:
                raise DemoError(
                    f"the {child.name} did not answer {url} within {timeout:.0f} s; "
                    f"see its log {child.log_path}"
                )
            time.sleep(0.1)
