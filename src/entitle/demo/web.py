"""The demo's web app: the desk and the campaign dashboard, with the synthetic city's ground truth
wired in, so a run started from the dashboard shows its reach (``ENTITLE_TRUTH``: the city).

`entitle demo` serves it with ``entitle serve --app-factory entitle.demo.web:app_from_env``; the
product's own factory (`entitle.web.asgi.app_from_env`) never knows the simulator.
"""

from __future__ import annotations


def app_from_env() -> object:
    """The ASGI application from the environment, measuring reach on ``ENTITLE_TRUTH``'s city."""
    from entitle.registry.reach import GroundTruth
    from entitle.settings import settings
    from entitle.web.app import create_app
    from entitle.web.settings import Settings

    city = settings().truth
    return create_app(Settings.from_env(), reach=GroundTruth(city) if city else None)
