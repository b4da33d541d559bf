# Two commands on a fresh Debian machine: `make demo` and `make test`.
# Both set everything up first (Debian packages, a virtualenv, this package).

VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: setup demo test lint-code render templates bench docs

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml scripts/install-system-packages.sh
	bash scripts/install-system-packages.sh
	python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

demo: setup
	$(BIN)/hera-imagebuild demo

lint-code: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint-code
	$(BIN)/pytest

templates: setup
	$(BIN)/python scripts/render_templates.py

bench: setup
	$(BIN)/python -m benchmarks.run_all

docs: setup
	$(BIN)/python scripts/render_docs.py
