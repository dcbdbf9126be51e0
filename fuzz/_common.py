"""Shared start-up of the atheris fuzz scripts: a time budget and seed corpora.

Every script takes libFuzzer's options (``-max_total_time=SECONDS``, ``-runs=N``, ``-jobs=N`` …);
without ``-max_total_time`` it stops after `DEFAULT_SECONDS`. New inputs go to a fresh temporary
folder (never into the seed folders, which are read only). A crash leaves ``crash-<sha1>`` in the
current folder: run the script with that file as its only argument to replay it.
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import atheris

DEFAULT_SECONDS = 60
REPO = Path(__file__).resolve().parents[1]
BENEFITS = REPO / "benefits" / "ghent"
MAGDA_RESPONSES = REPO.parent / "shared" / "magda-mock" / "responses"


def run(test_one_input: Callable[[bytes], None], seeds: list[Path]) -> None:
    """Fuzz `test_one_input` for the time budget, starting from the files in `seeds`."""
    argv = list(sys.argv)
    options = [a for a in argv[1:] if a.startswith("-")]
    replay = [a for a in argv[1:] if not a.startswith("-") and Path(a).is_file()]
    if not replay:
        if not any(o.startswith("-max_total_time=") for o in options):
            argv.append(f"-max_total_time={DEFAULT_SECONDS}")
        workdir = tempfile.mkdtemp(prefix="entitle-fuzz-")
        argv += [workdir, *(str(s) for s in seeds if s.exists())]
    atheris.Setup(argv, test_one_input)
    atheris.Fuzz()
