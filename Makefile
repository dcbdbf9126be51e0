# Two entry points for a fresh machine: `make demo` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	touch $(STAMP)

.PHONY: install demo test lint bench catalogues
install: $(STAMP) catalogues

# The interface's words: src/entitle/locale/<lang>/LC_MESSAGES/entitle.po compiled to the .mo
# beside it (not committed). The build does the same in setup.py, so a wheel carries them.
catalogues: $(STAMP)
	$(BIN)/pybabel compile --domain entitle --directory src/entitle/locale

demo: $(STAMP) catalogues
	$(BIN)/entitle demo

test: $(STAMP) catalogues
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy
	$(BIN)/entitle rules test benefits/
	$(MAKE) --no-print-directory docs
	$(MAKE) --no-print-directory security
	$(BIN)/pytest -q

bench: $(STAMP)
	$(BIN)/python bench/engine.py

# The documentation site; --strict fails on any warning (broken link or anchor, page not in nav).
.PHONY: docs
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir build/site

# Static analysis and dependency audit (docs/security.md). Known vulnerabilities without a fix,
# each reviewed in docs/security.md, go here as --ignore-vuln ID.
PIP_AUDIT_IGNORE :=
.PHONY: security
security: $(STAMP)
	$(BIN)/bandit -q -r src -c pyproject.toml
	$(BIN)/python scripts/audit_dependencies.py $(PIP_AUDIT_IGNORE)
