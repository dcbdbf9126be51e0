"""What-if: the campaign evaluated with changed parameters next to those in force, on the
same facts; stores nothing and issues nothing."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

import polars as pl
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from entitle.decide.campaign.context import CampaignContext
from entitle.decide.campaign.definition import Campaign, CampaignError
from entitle.decide.campaign.evaluate import band_of, evaluate_chunk
from entitle.decide.campaign.figures import cost_of
from entitle.decide.campaign.progress import RunProgress, Stages, stage_labels
from entitle.decide.campaign.run import load_target
from entitle.rules.loader import _bands, _scalar
from entitle.rules.logic import OUTCOMES
from entitle.rules.model import Benefit, DatedValue


def parse_overrides(benefit: Benefit, settings: Sequence[str]) -> dict[str, Any]:
    """`PARAM=VALUE` → the parameter's internal value (money in cents; tables and bands in
    YAML flow style, e.g. `amount_by_size={1: 50, 2: 70}`)."""
    out: dict[str, Any] = {}
    for setting in settings:
        name, sep, text = setting.partition("=")
        name = name.strip()
        if not sep or not name:
            raise CampaignError(f"--set {setting!r}: write PARAM=VALUE")
        parameter = benefit.parameters.get(name)
        if parameter is None:
            known = ", ".join(sorted(benefit.parameters))
            raise CampaignError(f"{benefit.id} has no parameter {name!r} (parameters: {known})")
        try:
            raw = YAML(typ="safe").load(text)
        except YAMLError as exc:
            raise CampaignError(f"--set {name}: {exc}") from None
        try:
            if parameter.kind == "table":
                if not isinstance(raw, dict) or not raw:
                    raise ValueError("a table is a mapping, e.g. {1: 50, 2: 70}")
                assert parameter.key is not None
                value: Any = {
                    _scalar(parameter.key, k): _scalar(parameter.type, v) for k, v in raw.items()
                }
            elif parameter.kind == "bands":
                value = _bands(parameter.type, raw)
            else:
                value = _scalar(parameter.type, raw)
        except ValueError as exc:
            raise CampaignError(f"--set {name}: {exc}") from None
        out[name] = value
    return out


def with_parameters(benefit: Benefit, values: dict[str, Any]) -> Benefit:
    """A copy of the benefit where these parameters have one value, in force on every date."""
    parameters = dict(benefit.parameters)
    for name, value in values.items():
        parameters[name] = replace(parameters[name], values=(DatedValue(date.min, None, value),))
    return replace(benefit, parameters=parameters, compiled={})


@dataclass
class WhatIf:
    """Baseline and changed parameters on the same facts: who would be reached, at what cost."""

    campaign: str
    as_of: date
    overrides: dict[str, str]
    subjects: int
    baseline: dict[str, int]  # outcome -> count
    variant: dict[str, int]
    transitions: dict[str, int]  # "baseline→variant" -> count (only changes)
    bands: dict[str, tuple[int, int]]  # band -> (baseline count, variant count), eligible only
    cost: dict[str, tuple[float, float]]  # band -> (baseline, variant)
    questions: int

    @property
    def reached_difference(self) -> int:
        return self.variant.get("eligible", 0) - self.baseline.get("eligible", 0)

    @property
    def cost_difference(self) -> float:
        return round(
            sum(v for _, v in self.cost.values()) - sum(b for b, _ in self.cost.values()), 2
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "campaign": self.campaign,
            "as_of": self.as_of.isoformat(),
            "overrides": self.overrides,
            "subjects": self.subjects,
            "baseline": self.baseline,
            "variant": self.variant,
            "reached_difference": self.reached_difference,
            "transitions": self.transitions,
            "bands": {b: {"baseline": x, "variant": y} for b, (x, y) in self.bands.items()},
            "cost": {b: {"baseline": x, "variant": y} for b, (x, y) in self.cost.items()},
            "cost_difference": self.cost_difference,
            "questions": self.questions,
        }


@dataclass(frozen=True)
class WhatIfStep:
    """How far a what-if is, after each chunk: subjects decided, and those eligible so far with
    the parameters in force and with the new values (what a page streams as it goes)."""

    chunk: int  # chunks done (1-based)
    chunks: int
    decided: int
    subjects: int
    baseline_eligible: int
    variant_eligible: int


def simulate(
    ctx: CampaignContext,
    campaign: Campaign,
    settings: Sequence[str],
    as_of: date | None = None,
    *,
    progress: RunProgress | None = None,
    chunk_size: int | None = None,
    on_step: Callable[[WhatIfStep], None] | None = None,
) -> WhatIf:
    """Evaluate the campaign with changed parameters next to the parameters in force, on the
    same facts (one fetch per fact, shared by both), and compare. Writes nothing to the
    database and issues nothing. `on_step` hears after each chunk how far it is."""
    when = as_of or ctx.today()
    variant_benefit = with_parameters(campaign.benefit, parse_overrides(campaign.benefit, settings))
    _, target = load_target(ctx, campaign, when, chunk_size)
    stages = Stages([s for s, _ in stage_labels(campaign.benefit)], progress)
    if progress is not None:
        progress.start(stage_labels(campaign.benefit), target.size, 0)
    baseline: Counter[str] = Counter()
    variant: Counter[str] = Counter()
    transitions: Counter[str] = Counter()
    bands: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    cost: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    questions = decided = 0
    source = ctx.fact_source()
    try:
        for number in range(target.chunks):
            subjects, persons, households = target.chunk(number)
            stages.begin(len(subjects))
            provider = source.open_chunk(
                campaign.benefit,
                when,
                persons,
                households,
                stages.on_fetch,
                campaign.spec.facts_from_register,
            )
            frames = [
                evaluate_chunk(campaign, when, subjects, persons, households, provider, b)
                for b in (campaign.benefit, variant_benefit)
            ]
            questions += int(provider.stats().get("questions", 0))
            results = []
            for i, frame in enumerate(frames):
                counts = baseline if i == 0 else variant
                outcomes = frame["outcome"].to_list()
                counts.update(outcomes)
                for row in frame.filter(pl.col("outcome") == "eligible").iter_rows(named=True):
                    outputs = {name: row[f"out_{name}"] for name in campaign.benefit.outputs}
                    band = band_of(campaign, outputs) or "-"
                    bands[band][i] += 1
                    cost[band][i] += cost_of(campaign, outputs, band)
                results.append(outcomes)
            for before, after in zip(results[0], results[1], strict=True):
                if before != after:
                    transitions[f"{before}→{after}"] += 1
            stages.end()
            decided += len(subjects)
            if on_step is not None:
                on_step(
                    WhatIfStep(
                        number + 1,
                        target.chunks,
                        decided,
                        target.size,
                        baseline["eligible"],
                        variant["eligible"],
                    )
                )
        if target.unknown:
            baseline["undetermined"] += len(target.unknown)
            variant["undetermined"] += len(target.unknown)
    finally:
        ctx.close_source(source)
    return WhatIf(
        campaign=campaign.name,
        as_of=when,
        overrides=dict(s.split("=", 1) for s in settings),
        subjects=target.size,
        baseline={o: baseline[o] for o in OUTCOMES},
        variant={o: variant[o] for o in OUTCOMES},
        transitions=dict(sorted(transitions.items())),
        bands={b: (v[0], v[1]) for b, v in sorted(bands.items())},
        cost={b: (round(v[0], 2), round(v[1], 2)) for b, v in sorted(cost.items())},
        questions=questions,
    )
