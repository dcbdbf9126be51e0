"""The desk's ASGI application as uvicorn builds it in each worker process: from the settings."""

from __future__ import annotations

from entitle.web.app import create_app
from entitle.web.settings import Settings

__all__ = ["app_from_env"]


def app_from_env() -> object:
    """The ASGI application from the environment (uvicorn's factory)."""
    return create_app(Settings.from_env())
