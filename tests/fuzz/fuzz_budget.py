"""The fuzz tests' budget: one Hypothesis settings object shared by every test in this folder.

``ENTITLE_FUZZ_EXAMPLES`` sets the examples per test (default 150, enough for CI to stay well
under a minute for the whole folder). Under ``CI=true`` the examples are derandomised, so that a
run is reproducible; locally every run explores new inputs. A longer hunt:

    ENTITLE_FUZZ_EXAMPLES=5000 .venv/bin/pytest -q tests/fuzz
"""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import HealthCheck, settings

REPO = Path(__file__).resolve().parents[2]
BENEFITS = REPO / "benefits" / "ghent"
MAGDA_RESPONSES = REPO.parent / "shared" / "magda-mock" / "responses"


def _examples() -> int:
    raw = os.environ.get("ENTITLE_FUZZ_EXAMPLES", "").strip()
    if not raw:
        return 150
    value = int(raw)
    if value < 1:
        raise ValueError(f"ENTITLE_FUZZ_EXAMPLES={raw!r} must be at least 1")
    return value


FUZZ = settings(
    max_examples=_examples(),
    deadline=None,
    database=None,
    derandomize=os.environ.get("CI", "").strip().lower() in ("1", "true", "yes"),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def benefit_files() -> list[Path]:
    """The real benefit files (not their test cases)."""
    return sorted(p for p in BENEFITS.glob("*.yaml") if not p.name.endswith(".tests.yaml"))
