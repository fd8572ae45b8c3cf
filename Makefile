# The two commands of the README, and a few helpers. Everything runs inside .venv,
# created from nothing but python3 and installed with the exact versions of constraints.txt.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PIP := $(BIN)/python -m pip --disable-pip-version-check
CELL_TIMEOUT ?= 900

.PHONY: help setup book test lint unit notebooks book-check browser lab clean distclean

help:
	@echo "make book   build the HTML book (executes every notebook, cached) into _build/html"
	@echo "make test   lint, unit tests, every notebook under nbval, the book build with -W, and the"
	@echo "            built book in headless Chromium (screenshots in _build/screenshots)"
	@echo "make lab    open JupyterLab in the project's environment"
	@echo "make clean  remove build outputs (make distclean also removes .venv)"

# torch first, pinned: a bare `torch` requirement would pull a multi-GB CUDA build.
$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q -c constraints.txt torch
	$(PIP) install -q -c constraints.txt -e ".[dev]"
	touch $@

setup: $(STAMP)

book: $(STAMP)
	$(BIN)/jupyter-book build .
	@echo "The book: file://$(CURDIR)/_build/html/index.html"

lint: $(STAMP)
	$(BIN)/ruff check .

unit: $(STAMP)
	$(BIN)/pytest -q -m "not browser" tests

# Executes each notebook once; notebooks/conftest.py stores the executed notebooks in the
# book's execution cache, so the book build below reuses them instead of executing again.
notebooks: $(STAMP)
	$(BIN)/pytest -q --nbval-lax --nbval-current-env --nbval-cell-timeout=$(CELL_TIMEOUT) notebooks/

book-check: $(STAMP)
	mkdir -p _build
	$(BIN)/jupyter-book build . -W -n --keep-going 2>&1 | tee _build/test-build.log
	@if grep -q "Executing notebook" _build/test-build.log; then \
		echo "error: the test build executed a notebook again (the nbval run should have cached it)"; \
		exit 1; fi

# The book just built, opened in headless Chromium as a reader sees it (tests/test_book_browser.py);
# skips, saying why, where Chromium is not installed (.ci/run installs it).
browser: $(STAMP)
	$(BIN)/pytest -q -rs -m browser tests

test: lint unit notebooks book-check browser
	@echo "make test: all checks passed"

lab: $(STAMP)
	$(BIN)/jupyter lab

clean:
	rm -rf _build .pytest_cache .ruff_cache
	find . -name __pycache__ -not -path "./$(VENV)/*" -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)
