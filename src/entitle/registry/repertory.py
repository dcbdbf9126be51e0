"""The simulator's KSZ reference directory (Repertorium): who is inscribed, for whom, when.

An entry is (consumer, capacity, INSZ) with the periods the person is inscribed for. With
``--require-inscriptions`` the KSZ-sourced services (GeefSociaalStatuut, GeefDossierHandicap,
GeefLeefloonbedragen, the KSZ family composition) answer for a person only while the asking
consumer has the person inscribed for the capacity it asks with, on the date asked; otherwise they
answer as MAGDA does for a person not integrated.

Lookups are in memory: a dictionary keyed by (consumer, capacity, INSZ), each holding its few
merged periods, so a KSZ question costs one dictionary lookup. With a journal file
(``--repertory FILE``) every change is also appended to it as a JSON line and the file is
replayed (and compacted) at start-up: a restarted simulator keeps its repertory, as MAGDA does,
and stays equal to the ledger Entitle keeps. Without one a restarted simulator starts empty.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import IO

__all__ = ["Repertory", "RepertoryFileError"]

Key = tuple[str, str, str]  # consumer, capacity, INSZ


class RepertoryFileError(ValueError):
    """The journal file cannot be read or a line of it is not a change this module wrote."""


@dataclass(frozen=True)
class _Period:
    start: date
    end: date


def _merged(periods: list[_Period]) -> list[_Period]:
    """Periods sorted, overlapping or adjacent ones merged."""
    merged: list[_Period] = []
    for period in sorted(periods, key=lambda p: p.start):
        last = merged[-1] if merged else None
        if last is not None and period.start.toordinal() <= last.end.toordinal() + 1:
            merged[-1] = _Period(last.start, max(last.end, period.end))
        else:
            merged.append(period)
    return merged


class Repertory:
    """Inscriptions per (consumer, capacity, INSZ); thread-safe; optionally journalled."""

    def __init__(self, journal: Path | None = None) -> None:
        self._lock = threading.Lock()
        self._periods: dict[Key, list[_Period]] = {}
        self._journal: IO[str] | None = None
        if journal is not None:
            self._replay(journal)
            self._compact(journal)
            self._journal = journal.open("a", encoding="utf-8")

    def _replay(self, path: Path) -> None:
        if not path.exists():
            return
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise RepertoryFileError(f"{path}: {exc.strerror}") from None
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                change = json.loads(line)
                key = (change["consumer"], change["capacity"], change["insz"])
                if change["op"] == "inscribe":
                    self._add(
                        key, date.fromisoformat(change["start"]), date.fromisoformat(change["end"])
                    )
                elif change["op"] == "deregister":
                    self._periods.pop(key, None)
                else:
                    raise ValueError(change["op"])
            except (ValueError, KeyError, TypeError):
                if number == len(lines):  # a line cut short by a kill mid-write: not applied
                    continue
                raise RepertoryFileError(f"{path}, line {number}: not a repertory change") from None

    def _compact(self, path: Path) -> None:
        """Rewrite the journal as one line per held period (atomically)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        fresh = path.with_name(path.name + ".new")
        with fresh.open("w", encoding="utf-8") as out:
            for key, periods in sorted(self._periods.items()):
                for period in periods:
                    out.write(_line("inscribe", key, period))
            out.flush()
            os.fsync(out.fileno())
        os.replace(fresh, path)

    def _write(self, op: str, key: Key, period: _Period | None = None) -> None:
        if self._journal is not None:
            self._journal.write(_line(op, key, period))
            self._journal.flush()  # in the OS's hands: a killed simulator loses nothing

    def _add(self, key: Key, start: date, end: date) -> None:
        self._periods[key] = _merged([*self._periods.get(key, []), _Period(start, end)])

    def inscribe(self, consumer: str, capacity: str, insz: str, start: date, end: date) -> None:
        """Add a period (overlapping or adjacent ones merge)."""
        if end < start:
            raise ValueError("period ends before it starts")
        key = (consumer, capacity, insz)
        with self._lock:
            self._add(key, start, end)
            self._write("inscribe", key, _Period(start, end))

    def deregister(self, consumer: str, capacity: str, insz: str) -> bool:
        """End every inscription of the person for the consumer and capacity; whether any was."""
        key = (consumer, capacity, insz)
        with self._lock:
            found = self._periods.pop(key, None) is not None
            if found:
                self._write("deregister", key)
            return found

    def inscribed(
        self, consumer: str, capacity: str, insz: str, start: date, end: date | None = None
    ) -> bool:
        """Whether an inscription overlaps ``start``..``end`` (one day when no end)."""
        until = end or start
        with self._lock:
            periods = self._periods.get((consumer, capacity, insz), ())
            return any(p.start <= until and start <= p.end for p in periods)

    def inscribed_by(self, consumer: str, insz: set[str], on: date) -> set[str]:
        """Those of `insz` the consumer has inscribed, for any capacity, on the day `on` (whom
        its mutation notifications are about)."""
        with self._lock:
            return {
                person
                for (who, _, person), periods in self._periods.items()
                if who == consumer
                and person in insz
                and any(p.start <= on <= p.end for p in periods)
            }

    def snapshot(self) -> dict[str, int]:
        """Counts only (for the admin statistics): entries and distinct persons."""
        with self._lock:
            return {
                "entries": len(self._periods),
                "persons": len({insz for _, _, insz in self._periods}),
            }

    def entries(self) -> list[tuple[str, str, str, date, date]]:
        """Every (consumer, capacity, INSZ, start, end), for tests and the admin view."""
        with self._lock:
            return [
                (*key, period.start, period.end)
                for key, periods in sorted(self._periods.items())
                for period in periods
            ]

    def close(self) -> None:
        """Close the journal (the in-memory repertory stays readable)."""
        with self._lock:
            if self._journal is not None:
                self._journal.close()
                self._journal = None


def _line(op: str, key: Key, period: _Period | None) -> str:
    consumer, capacity, insz = key
    change: dict[str, str] = {"op": op, "consumer": consumer, "capacity": capacity, "insz": insz}
    if period is not None:
        change |= {"start": period.start.isoformat(), "end": period.end.isoformat()}
    return json.dumps(change, separators=(",", ":")) + "\n"
