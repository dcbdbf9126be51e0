"""The demo's web app wires the synthetic city's ground truth into the campaign dashboard (so a
run started there gets its reach); the product's own factory never does."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import pytest

from entitle.demo.children import DEMO_APP
from entitle.demo.web import app_from_env
from entitle.registry.reach import GroundTruth
from entitle.web.asgi import app_from_env as product_app_from_env

BENEFITS = Path(__file__).resolve().parent.parent / "benefits" / "ghent"


@pytest.fixture
def environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ENTITLE_BENEFITS", str(BENEFITS))
    monkeypatch.setenv("ENTITLE_DATABASE_URL", f"sqlite:///{tmp_path / 'entitle.db'}")
    monkeypatch.setenv("ENTITLE_DATA_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("ENTITLE_TRUTH", str(tmp_path / "city"))
    return tmp_path


def reach_of(app: Any) -> object:
    return app.state.campaigns.context.reach


def test_the_demo_dashboard_measures_reach_on_the_city(
    environment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert reach_of(app_from_env()) == GroundTruth(environment / "city")
    assert reach_of(product_app_from_env()) is None  # the product ignores ENTITLE_TRUTH
    monkeypatch.delenv("ENTITLE_TRUTH")
    assert reach_of(app_from_env()) is None


def test_the_demo_serves_its_own_app() -> None:
    """`entitle demo` hands `entitle serve` a factory that uvicorn can import: this one."""
    option, factory = DEMO_APP
    module, _, name = factory.partition(":")
    assert option == "--app-factory"
    assert getattr(importlib.import_module(module), name) is app_from_env
