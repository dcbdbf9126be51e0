"""The dependency rules of the design, checked on every import (also those inside functions):
`rules` imports nothing of Entitle but `insz`, and nothing that does I/O (clusters, networks,
databases, processes, Parquet or CSV files — it reads only its own rule files); `sources` and
`registry` never import `web` or `decide`; `store` imports no use case (`decide`) nor source;
`web` reaches facts only through `decide` (never `sources` or `registry`), and `store` and `rules`
only through it too, but for the rules' public types (`PUBLIC_RULES`); the
product never imports `registry` — it talks to the simulator over HTTP, as it would to MAGDA —
and the command line (`cli`, which no product package imports) imports the simulator's commands
only in the function that mounts them when one of them runs; only `entitle.settings` reads the
environment."""

from __future__ import annotations

import ast
import subprocess  # nosec B404  # runs this checkout's own Python
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "entitle"

# package -> packages of Entitle it must not import
FORBIDDEN = {
    "rules": {"sources", "registry", "decide", "store", "web", "facts", "demo", "cli"},
    "sources": {"web", "decide", "registry", "store", "cli"},
    "registry": {"web", "decide", "store"},  # its commands share `cli.settings`
    "web": {"sources", "registry", "cli"},
    "store": {"web", "registry", "decide", "sources", "cli"},
    "decide": {"web", "registry", "cli"},
}
# modules that do I/O beyond reading a file: the pure rules core imports none of them
IO_MODULES = {
    "asyncio", "concurrent", "dask", "distributed", "ftplib", "http", "httpx", "multiprocessing",
    "psycopg", "psycopg2", "requests", "selectors", "shutil", "smtplib", "socket", "sqlalchemy",
    "sqlite3", "ssl", "subprocess", "tempfile", "urllib", "uvicorn",
}  # fmt: skip
# polars functions that read or write data files
IO_CALLS = {
    "read_parquet", "scan_parquet", "write_parquet", "sink_parquet", "read_csv", "scan_csv",
    "write_csv", "sink_csv", "read_ipc", "write_ipc", "read_database",
}  # fmt: skip


def imported_modules(path: Path) -> set[str]:
    """The full names of the modules a module imports, anywhere in it."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def imported_packages(path: Path) -> set[str]:
    """The first-level Entitle packages a module imports, anywhere in it."""
    found: set[str] = set()
    for name in imported_modules(path):
        parts = name.split(".")
        if parts[0] == "entitle" and len(parts) > 1:
            found.add(parts[1].removesuffix(".py"))
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_imports_follow_the_design(package: str) -> None:
    broken = []
    for path in sorted((SRC / package).rglob("*.py")):
        where = str(path.relative_to(SRC))
        broken += [
            f"{where} imports entitle.{t}" for t in imported_packages(path) & FORBIDDEN[package]
        ]
    assert broken == []


def io_in(path: Path) -> list[str]:
    """The I/O modules a module imports and the data-file functions it calls."""
    modules = sorted(m for m in imported_modules(path) if m.split(".")[0] in IO_MODULES)
    calls = sorted(
        {
            node.func.attr
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in IO_CALLS
        }
    )
    return modules + calls


def test_the_rules_core_does_no_io() -> None:
    found = {
        str(path.relative_to(SRC)): io_in(path)
        for path in sorted((SRC / "rules").rglob("*.py"))
        if io_in(path)
    }
    assert found == {}


def registry_imports(path: Path) -> set[str]:
    """Where a module imports `entitle.registry`: "<module>" at its top level, else the name of
    the function that does."""
    found: set[str] = set()

    def visit(node: ast.AST, where: str) -> None:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            where = node.name if where == "<module>" else where
        names = [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else []
        names += [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
        if any(name.split(".")[:2] == ["entitle", "registry"] for name in names):
            found.add(where)
        for child in ast.iter_child_nodes(node):
            visit(child, where)

    visit(ast.parse(path.read_text(encoding="utf-8")), "<module>")
    return found


def test_the_command_line_imports_the_simulator_only_to_mount_its_commands() -> None:
    # the product's command line may import every product package, but the simulator's
    # commands only inside the function that mounts them when one is asked for
    found = {
        (str(path.relative_to(SRC)), where)
        for path in sorted((SRC / "cli").rglob("*.py"))
        for where in registry_imports(path)
    }
    assert found == {("cli/main.py", "_simulator_command")}


def test_the_simulator_check_tells_module_level_from_function_imports(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text(
        "import entitle.registry.synth\n"
        "def mount():\n    def inner():\n        from entitle.registry import server_cli\n"
    )
    assert registry_imports(module) == {"<module>", "mount"}


def test_the_command_line_loads_no_simulator_up_front() -> None:
    # the whole import, not only cli.py's lines: a command group it imports counts too
    loaded = subprocess.run(  # nosec B603  # a fixed command
        [
            sys.executable,
            "-c",
            "import sys, entitle.cli.main\n"
            "print(sorted(m for m in sys.modules if m.startswith('entitle.registry')))",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert loaded.stdout.strip() == "[]"


def test_the_command_line_loads_no_heavy_library_up_front() -> None:
    # `entitle --help` stays quick: the commands import the database layer, dataframes, the MAGDA
    # client's cryptography and the campaign machinery when they run (issue 15)
    loaded = subprocess.run(  # nosec B603  # a fixed command
        [
            sys.executable,
            "-c",
            "import sys, entitle.cli.main\n"
            "heavy = ('polars', 'sqlalchemy', 'cryptography', 'numpy', 'fastapi', 'uvicorn',"
            " 'alembic', 'entitle.sources.magda', 'entitle.decide.campaign.definition')\n"
            "print(sorted(m for m in sys.modules for h in heavy"
            " if m == h or m.startswith(h + '.')))",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert loaded.stdout.strip() == "[]"


# The public types of `rules`: the only names of `rules` the web layer may import. `store` has
# none: the web reaches the store — its operations and the types and constants they take or give —
# through the use cases (`decide`), which re-export those it needs.
PUBLIC_RULES = {
    "entitle.rules.catalogue": {"Catalogue", "default_catalogue"},  # the facts and their words
    "entitle.rules.decision": {"Decision"},
    "entitle.rules.expr": {"T"},
    "entitle.rules.logic": {"OUTCOMES", "Outcome"},
    "entitle.rules.model": {"Benefit", "Parameter"},
    "entitle.rules.periods": {"Period", "period_words"},
    "entitle.rules.render": {"render"},  # a rule in words (the API's benefit rules)
}


def store_and_rules_internals(path: Path) -> set[str]:
    """What a module imports of `store` and `rules` beyond the rules' public types."""
    inner = (["entitle", "store"], ["entitle", "rules"])
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.split(".")[:2] in inner:
                public = PUBLIC_RULES.get(node.module, set())
                found.update(f"{node.module}.{a.name}" for a in node.names if a.name not in public)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[:2] in inner)
    return found


def test_the_web_reaches_store_and_rules_through_decide() -> None:
    found = {
        str(path.relative_to(SRC)): sorted(store_and_rules_internals(path))
        for path in sorted((SRC / "web").rglob("*.py"))
        if store_and_rules_internals(path)
    }
    assert found == {}


def test_the_public_types_check_sees_store_and_rules_internals(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text(
        "from entitle.store import campaigns as store\nfrom entitle.rules.expr import T\n"
        "from entitle.rules.plan import facts_in\n"
        "from entitle.rules.catalogue import Catalogue, load_catalogue\n"
        "import entitle.rules.periods\n"
        "def f():\n    from entitle.store.campaigns import RunView\n"
    )
    assert store_and_rules_internals(module) == {
        "entitle.store.campaigns",
        "entitle.store.campaigns.RunView",
        "entitle.rules.plan.facts_in",
        "entitle.rules.catalogue.load_catalogue",
        "entitle.rules.periods",
    }


def test_the_check_sees_imports_inside_functions(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from entitle.registry.synth import write_city\n")
    assert imported_packages(module) == {"registry"}


def test_the_io_check_sees_cluster_imports_and_parquet_writes(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text(
        "def f(frame, out):\n    from distributed import Client\n    frame.write_parquet(out)\n"
    )
    assert io_in(module) == ["distributed", "write_parquet"]


# --------------------------------------------------------------------------- the environment

# reading the environment: os.environ / os.getenv (and their kin), a pydantic-settings model, or a
# Typer option's `envvar=`
ENV_ATTRIBUTES = {"environ", "environb", "getenv", "getenvb", "putenv", "unsetenv"}
# modules that may, each with its reason
READS_ENVIRONMENT = {
    ("settings.py", "environ"): "the settings: the one module that reads the environment",
    ("settings.py", "pydantic_settings"): "the settings model",
    ("sources/magda/settings.py", "pydantic_settings"): (
        "the MAGDA connector's own model (ENTITLE_MAGDA_*), referenced by entitle.settings"
    ),
    ("cli/options.py", "envvar="): (
        "`--as` is required: Click takes it from ENTITLE_USER, named by the model (env_name)"
    ),
}


def environment_reads(path: Path) -> set[str]:
    """How a module reads the environment, if it does."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Attribute) and node.attr in ENV_ATTRIBUTES:
            found.add("environ")
        elif isinstance(node, ast.ImportFrom) and node.module == "os" and node.level == 0:
            if {alias.name for alias in node.names} & ENV_ATTRIBUTES:
                found.add("environ")
        elif isinstance(node, ast.ImportFrom | ast.Import):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            names += [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
            if any(name.split(".")[0] == "pydantic_settings" for name in names):
                found.add("pydantic_settings")
        elif isinstance(node, ast.keyword) and node.arg == "envvar":
            found.add("envvar=")
    return found


def test_only_the_settings_read_the_environment() -> None:
    readers = [
        f"{where} reads the environment ({how})"
        for path in sorted(SRC.rglob("*.py"))
        for where in [str(path.relative_to(SRC))]
        for how in sorted(environment_reads(path))
        if (where, how) not in READS_ENVIRONMENT
    ]
    assert readers == []


def test_the_environment_check_sees_every_way_of_reading(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text(
        "import os\nfrom os import getenv\nfrom pydantic_settings import BaseSettings\n"
        "import typer\nx = os.environ.get('ENTITLE_X')\n"
        "o = typer.Option('--x', envvar='ENTITLE_X')\n"
    )
    assert environment_reads(module) == {"environ", "pydantic_settings", "envvar="}
    module.write_text("import os\npid = os.getpid()\n")
    assert environment_reads(module) == set()
