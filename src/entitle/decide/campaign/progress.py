"""What a run reports as it goes: `RunProgress` (the CLI draws a Rich bar per fetch stage)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from entitle.rules.catalogue import default_catalogue
from entitle.rules.model import Benefit
from entitle.rules.plan import plan_benefit


class RunProgress(Protocol):
    """What a run reports as it goes (the CLI draws a Rich progress bar per stage)."""

    def start(self, stages: Sequence[tuple[int, str]], subjects: int, done: int) -> None: ...

    def stage_done(self, stage: int, subjects: int) -> None: ...

    def fetched(self, stage: int, entities: int) -> None: ...

    def chunk_done(self, subjects: int) -> None: ...


class Stages:
    """Per chunk: a stage counts as passed once a later stage is fetched or the chunk ends."""

    def __init__(self, stages: Sequence[int], progress: RunProgress | None) -> None:
        self.stages = list(stages)
        self.progress = progress
        self.passed: set[int] = set()
        self.size = 0

    def begin(self, size: int) -> None:
        self.passed = set()
        self.size = size

    def on_fetch(self, stage: int, entities: int) -> None:
        if self.progress is None:
            return
        self.progress.fetched(stage, entities)
        for earlier in self.stages:
            if earlier < stage and earlier not in self.passed:
                self.passed.add(earlier)
                self.progress.stage_done(earlier, self.size)

    def end(self) -> None:
        if self.progress is None:
            return
        for stage in self.stages:
            if stage not in self.passed:
                self.passed.add(stage)
                self.progress.stage_done(stage, self.size)
        self.progress.chunk_done(self.size)


def stage_labels(benefit: Benefit) -> list[tuple[int, str]]:
    plan = plan_benefit(benefit, default_catalogue())
    return [(s.index, ", ".join(f.name for f in s.facts)) for s in plan.stages]
