"""The application with its clock started at the web tests' fixed moment (``test_web_support.
NOW``, 15 September 2025 10:00 in Brussels) and running from there: ``entitle serve
--app-factory clocked_app:app_from_env`` with this folder on ``PYTHONPATH``.

The test city's enrolments are for the school year 2025-2026 and its tax assessments for the
income years read on that day, so the desk in the browser decides as the HTTP tests do, whatever
today's date (a pupil of the city is eligible for the school tariff), while sessions and sign-in
delays still see time pass. ``ENTITLE_TEST_CLOCK_START`` (an ISO moment) starts it elsewhere,
e.g. on the reference date of a synthetic city.
"""

from __future__ import annotations

import os
import time
from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

START = datetime(2025, 9, 15, 10, 0, tzinfo=ZoneInfo("Europe/Brussels"))


def app_from_env() -> object:
    """`entitle.web.asgi.app_from_env`, with the clock running from its start."""
    from entitle.web.app import create_app
    from entitle.web.settings import Settings

    configured = os.environ.get("ENTITLE_TEST_CLOCK_START")
    start = datetime.fromisoformat(configured) if configured else START
    began = time.monotonic()

    def clock() -> datetime:
        return start + timedelta(seconds=time.monotonic() - began)

    return create_app(replace(Settings.from_env(), clock=clock))
