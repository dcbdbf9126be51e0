"""The independent comparison at city scale: the engine's decisions against the criteria.

`tests/test_independent_criteria.py` re-implements the Ghent criteria of `shared/domain/BELGIUM.md`
in plain Python (three-valued, from the criteria alone) and checks every eligible decision of the
columnar engine on a small city. This script runs the same comparison on a city of any size
(`entitle synth`) and prints, per benefit: subjects, eligible decisions, those the criteria do not
grant on the registry view (target 0), those with another tariff, category or amount (target 0),
those not truly entitled (ground truth) although the registry view is current (target 0) or
because it is not (the registry's lag or errors, not the rule's), and the refusals the criteria
would grant (target 0). Exit status 1 when a target is missed.

    .venv/bin/python bench/independent.py --city FOLDER
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from test_independent_criteria import CRITERIA, compare, read_view


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--city", type=Path, required=True, help="a city from `entitle synth`")
    args = parser.parse_args()
    views = {"registry": read_view(args.city, "registry"), "truth": read_view(args.city, "truth")}
    table = Table(title=f"Engine against the independent criteria: {args.city}")
    for column in (
        "benefit",
        "subjects",
        "eligible",
        "not granted (registry view)",
        "other output",
        "not entitled, view current",
        "not entitled, view differs",
        "refused, criteria grant",
    ):
        table.add_column(column, justify="right")
    missed = False
    for criteria in CRITERIA:
        found = compare(args.city, views, criteria)
        wrong = (found.wrong, found.wrong_output, found.not_caused_by_registry, found.refused)
        missed = missed or any(wrong)
        table.add_row(
            criteria.file.removesuffix(".yaml"),
            f"{found.subjects:,}",
            f"{found.eligible:,}",
            str(len(found.wrong)),
            str(len(found.wrong_output)),
            str(len(found.not_caused_by_registry)),
            f"{len(found.caused_by_registry):,}",
            str(len(found.refused)),
        )
    Console(width=160).print(table)
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
