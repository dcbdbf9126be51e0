"""The simulator's KSZ reference directory (Repertorium): who is inscribed, for whom, when.

An entry is (consumer, capacity, INSZ) with the periods the person is inscribed for. With
``--require-inscriptions`` the KSZ-sourced services (GeefSociaalStatuut, GeefDossierHandicap,
GeefLeefloonbedragen) answer for a person only while the asking consumer has the person inscribed
for the capacity it asks with, on the date asked; otherwise they answer as MAGDA does for a person
not integrated. Kept in memory (a restarted simulator starts empty, as a fresh test environment).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import date

__all__ = ["Repertory"]

Key = tuple[str, str, str]  # consumer, capacity, INSZ


@dataclass(frozen=True)
class _Period:
    start: date
    end: date


class Repertory:
    """Inscriptions per (consumer, capacity, INSZ); thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._periods: dict[Key, list[_Period]] = {}

    def inscribe(self, consumer: str, capacity: str, insz: str, start: date, end: date) -> None:
        """Add a period (overlapping or adjacent ones merge)."""
        if end < start:
            raise ValueError("period ends before it starts")
        key = (consumer, capacity, insz)
        with self._lock:
            periods = [*self._periods.get(key, []), _Period(start, end)]
            periods.sort(key=lambda p: p.start)
            merged: list[_Period] = []
            for period in periods:
                last = merged[-1] if merged else None
                if last is not None and period.start.toordinal() <= last.end.toordinal() + 1:
                    merged[-1] = _Period(last.start, max(last.end, period.end))
                else:
                    merged.append(period)
            self._periods[key] = merged

    def deregister(self, consumer: str, capacity: str, insz: str) -> bool:
        """End every inscription of the person for the consumer and capacity; whether any was."""
        with self._lock:
            return self._periods.pop((consumer, capacity, insz), None) is not None

    def inscribed(
        self, consumer: str, capacity: str, insz: str, start: date, end: date | None = None
    ) -> bool:
        """Whether an inscription overlaps ``start``..``end`` (one day when no end)."""
        until = end or start
        with self._lock:
            periods = self._periods.get((consumer, capacity, insz), ())
            return any(p.start <= until and start <= p.end for p in periods)

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
