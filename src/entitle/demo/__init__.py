"""`entitle demo`: the whole system on its embedded default, in one command (`run.run_demo`).

Importing the package loads none of its modules: each public name is imported from its module on
first use, so the demo's child processes (``python -m entitle.demo.launch``, ``….campaigns``)
start without the demo's own imports.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from entitle.demo.examples import print_case_tables
    from entitle.demo.procs import DemoError
    from entitle.demo.run import (
        DEMO_ACCOUNTS,
        DEMO_APP,
        DemoLayout,
        DemoOptions,
        default_benefits,
        default_campaigns,
        default_data_dir,
        desk_date,
        ensure_accounts,
        ensure_city,
        run_demo,
        run_demo_campaigns,
    )

__all__ = [
    "DEMO_ACCOUNTS",
    "DEMO_APP",
    "DemoError",
    "DemoLayout",
    "DemoOptions",
    "default_benefits",
    "default_campaigns",
    "default_data_dir",
    "desk_date",
    "ensure_accounts",
    "ensure_city",
    "print_case_tables",
    "run_demo",
    "run_demo_campaigns",
]

# public name -> the module that defines it
_MODULES = {
    "DEMO_ACCOUNTS": "run",
    "DEMO_APP": "run",
    "DemoError": "procs",
    "DemoLayout": "run",
    "DemoOptions": "run",
    "default_benefits": "run",
    "default_campaigns": "run",
    "default_data_dir": "run",
    "desk_date": "run",
    "ensure_accounts": "run",
    "ensure_city": "run",
    "print_case_tables": "examples",
    "run_demo": "run",
    "run_demo_campaigns": "run",
}


def __getattr__(name: str) -> Any:
    """A public name, imported from its module on first use."""
    if name not in _MODULES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{_MODULES[name]}"), name)
