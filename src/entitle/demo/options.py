"""What `entitle demo` runs with: its options and their defaults (the folder, the benefits, the
campaigns, the desk's date)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from entitle.municipality import Municipality
from entitle.settings import settings

DEFAULT_SEED = 1


def default_data_dir() -> Path:
    """The demo's folder under the user's data folder (ENTITLE_DATA_DIR or XDG_DATA_HOME)."""
    from entitle.datadir import data_dir

    return data_dir() / "demo"


def default_benefits(municipality: Municipality) -> Path:
    """ENTITLE_BENEFITS, else the municipality's benefits folder."""
    given = settings()
    return given.benefits if given.is_set("benefits") else municipality.benefits


def default_campaigns(municipality: Municipality) -> Path:
    """ENTITLE_CAMPAIGNS, else the municipality's campaigns folder."""
    given = settings()
    return given.campaigns if given.is_set("campaigns") else municipality.campaigns


def desk_date() -> date:
    """The date the web app decides on: today in Brussels (`entitle.web.app.WebState.today`)."""
    from entitle.web.i18n import BRUSSELS

    return datetime.now(BRUSSELS).date()


@dataclass(frozen=True)
class DemoOptions:
    """The options of `entitle demo` (`entitle.cli.demo`)."""

    data: Path
    municipality: str | None = None  # None: the configured one (ENTITLE_MUNICIPALITY, else Ghent)
    benefits: Path | None = None  # None: the municipality's (`default_benefits`)
    campaigns: Path | None = None  # None: the municipality's (`default_campaigns`)
    persons: int | None = None  # None: the municipality's demo size
    seed: int = DEFAULT_SEED
    port: int | None = None  # the web app's; None: 8000 when free, else any free port
    open_browser: bool = False
