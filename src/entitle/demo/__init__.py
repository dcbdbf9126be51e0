"""`entitle demo`: the whole system on its embedded default, in one command.

One module per job: `run` (start everything, watch, stop), `options` (the options and their
defaults), `layout` (the data folder), `city` (the synthetic city), `accounts` (one per role),
`children` (the processes' command lines and environments), `procs` (starting and stopping
processes), `launch` (a child that dies with the demo), `signing` (the test CA), `inscriptions`
(the desk examples in the KSZ directory), `examples` (INSZ to try, test-case tables), `summary`
(what it prints), `campaigns` and `follow_up` (the background campaigns' process), `web` (the web
app with the city's ground truth).

Importing the package loads none of them: each public name is imported from its module on first
use, so the demo's child processes (``python -m entitle.demo.launch``, ``….campaigns``) start
without the demo's own imports.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from entitle.demo.accounts import DEMO_ACCOUNTS, ensure_accounts
    from entitle.demo.children import DEMO_APP, run_demo_campaigns
    from entitle.demo.city import ensure_city
    from entitle.demo.examples import print_case_tables
    from entitle.demo.layout import DemoLayout
    from entitle.demo.options import (
        DemoOptions,
        default_benefits,
        default_campaigns,
        default_data_dir,
        desk_date,
    )
    from entitle.demo.procs import DemoError
    from entitle.demo.run import run_demo

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
    "DEMO_ACCOUNTS": "accounts",
    "DEMO_APP": "children",
    "DemoError": "procs",
    "DemoLayout": "layout",
    "DemoOptions": "options",
    "default_benefits": "options",
    "default_campaigns": "options",
    "default_data_dir": "options",
    "desk_date": "options",
    "ensure_accounts": "accounts",
    "ensure_city": "city",
    "print_case_tables": "examples",
    "run_demo": "run",
    "run_demo_campaigns": "children",
}


def __getattr__(name: str) -> Any:
    """A public name, imported from its module on first use."""
    if name not in _MODULES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{_MODULES[name]}"), name)
