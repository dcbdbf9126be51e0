"""Bar charts drawn on the server as inline SVG (no script: the CSP forbids inline scripts, and a
chart must read without JavaScript); every chart has its figures in words too."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from entitle.decide.campaign.reasons import PENDING

# drawn 1:1 on a desktop (svg.bars is at most 30rem wide): on a phone of 390 px it shrinks to
# about three quarters, its 17-unit text still about 13 px (at 720 units it was 8 px)
CHART_WIDTH = 480
ROW = 46
VALUE_ROOM = 150
LABEL_MAX = 56  # characters of a label that fit the width at the chart's font size
COLOURS = {
    "eligible": "#0b4d1f",
    "not_eligible": "#7a0014",
    "undetermined": "#7a5200",
    PENDING: "#4b2e83",
    "new": "#0b4d1f",
    "continued": "#0c2340",
    "changed": "#2a1a66",
    "ended": "#7a0014",
    "unknown": "#7a5200",
    "none": "#5c5c5c",
    "baseline": "#5c5c5c",
    "variant": "#0c2340",
    "reached": "#0b4d1f",
    "flagged": "#7a5200",
    "missed": "#7a0014",
}


@dataclass(frozen=True)
class Bar:
    label: str  # cut to fit the chart's width (the full text is in the chart's title)
    shown: str  # the value in words, next to the bar
    kind: str
    y: int
    length: float
    full: str = ""

    @property
    def colour(self) -> str:
        return COLOURS.get(self.kind, "#0c2340")


@dataclass(frozen=True)
class Chart:
    """A horizontal bar chart: each bar under its label, the value beside it."""

    key: str
    title: str
    bars: tuple[Bar, ...]
    width: int = CHART_WIDTH

    @property
    def height(self) -> int:
        return ROW * len(self.bars) + 6

    @property
    def summary(self) -> str:
        return "; ".join(f"{bar.full or bar.label}: {bar.shown}" for bar in self.bars)


def bar_chart(key: str, title: str, items: Iterable[tuple[str, float, str, str]]) -> Chart:
    """Bars for (label, value, value in words, kind) — the kind picks the colour."""
    rows = list(items)
    top = max((abs(value) for _, value, _, _ in rows), default=0.0) or 1.0
    plot = CHART_WIDTH - VALUE_ROOM
    bars = []
    for i, (label, value, shown, kind) in enumerate(rows):
        length = round(abs(value) / top * plot, 1)
        if value and length < 2:
            length = 2.0
        short = label if len(label) <= LABEL_MAX else label[: LABEL_MAX - 1].rstrip() + "…"
        bars.append(Bar(short, shown, kind, i * ROW, length, label))
    return Chart(key, title, tuple(bars))
