"""The build's one custom step: compile the gettext catalogues (.po -> .mo) with Babel.

Everything else is in pyproject.toml. `build_py` runs for a wheel and for an editable install
(`pip install -e .`), so both carry `src/entitle/locale/<lang>/LC_MESSAGES/entitle.mo`.
"""

from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from setuptools import setup
from setuptools.command.build_py import build_py

LOCALE = Path(__file__).parent / "src" / "entitle" / "locale"


def compile_catalogues() -> None:
    """Every `.po` under LOCALE to the `.mo` beside it (untranslated and fuzzy entries left out)."""
    for po in sorted(LOCALE.glob("*/LC_MESSAGES/*.po")):
        with po.open("rb") as source:
            catalogue = read_po(source, locale=po.parent.parent.name, domain=po.stem)
        errors = [(m.id, e) for m, es in catalogue.check() for e in es]
        if errors:
            raise SystemExit(f"{po}: {errors}")
        with po.with_suffix(".mo").open("wb") as target:
            write_mo(target, catalogue)


class BuildWithCatalogues(build_py):
    def run(self) -> None:
        compile_catalogues()
        super().run()


setup(cmdclass={"build_py": BuildWithCatalogues})
