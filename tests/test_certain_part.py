"""The certain part of a partial decision (`outputs_at_least`) against brute force: for every
assignment of the LEZ and school-tariff conditions (true, false or unknown), whenever a certain
part is given, every completion of the unknown conditions that keeps the decision eligible has the
levelled output at or above the minimum, and those completions at the minimum have exactly the
outputs granted."""

from __future__ import annotations

from datetime import date
from itertools import product
from pathlib import Path

import pytest

from entitle.rules.certain import outputs_at_least
from entitle.rules.decision import Subject
from entitle.rules.loader import load_benefit
from entitle.rules.model import Benefit
from entitle.rules.scalar import EMPTY, Ctx, compile_benefit

REPO = Path(__file__).resolve().parents[1]
AS_OF = date(2026, 3, 1)


def decide(
    benefit: Benefit, conditions: dict[str, bool | None]
) -> tuple[object, dict[str, object]]:
    """Eligibility and outputs (as shown) with the named conditions given."""
    program = compile_benefit(benefit)
    ctx = Ctx(Subject("person", "", "", ()), {}, benefit.params_at(AS_OF), AS_OF)
    ctx.conds = {name: (value, EMPTY) for name, value in conditions.items()}
    eligible, _ = program.eligible(ctx, None)
    outputs = {
        name: benefit.outputs[name].present(fn(ctx, None)[0])
        for name, fn in program.outputs.items()
    }
    return eligible, outputs


@pytest.mark.parametrize(("name", "levelled"), [("lez", "tariff"), ("school-tariff", "category")])
def test_the_certain_part_holds_in_every_completion(name: str, levelled: str) -> None:
    benefit = load_benefit(REPO / "benefits" / "ghent" / f"{name}.yaml")
    levels = benefit.outputs[levelled].levels
    names = list(benefit.conditions)
    granted = 0
    for values in product((True, False, None), repeat=len(names)):
        conditions = dict(zip(names, values, strict=True))
        eligible, outputs = decide(benefit, conditions)
        if eligible is not True or outputs[levelled] is not None:
            continue
        unknown = [n for n in names if conditions[n] is None]
        completions = []
        for filled in product((True, False), repeat=len(unknown)):
            done, out = decide(benefit, conditions | dict(zip(unknown, filled, strict=True)))
            if done is True:
                completions.append(out)
        least = min((levels.index(out[levelled]) for out in completions), default=None)
        if least is None:
            continue
        part = outputs_at_least(benefit, AS_OF, conditions, outputs, {levelled: levels[least]})
        if part is None:
            continue
        granted += 1
        assert part[levelled] == levels[least]
        at_minimum = [out for out in completions if out[levelled] == levels[least]]
        assert at_minimum and all(out == part for out in at_minimum)
    assert granted > 0
