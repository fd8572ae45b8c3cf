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

.PHONY: help setup resolve-torch book test lint unit notebooks colab book-check browser lab clean distclean

help:
	@echo "make book   build the HTML book (executes every notebook, cached) into _build/html"
	@echo "make test   lint, unit tests, every notebook under nbval, the book build with -W, and the"
	@echo "            built book in headless Chromium (screenshots in _build/screenshots)"
	@echo "make colab  write the chapters' Colab edition (after make notebooks or make book) into _build/colab"
	@echo "make lab    open JupyterLab in the project's environment"
	@echo "make resolve-torch  list what setup would install for torch (a pip dry run; TORCH_INDEX= to compare)"
	@echo "make clean  remove build outputs (make distclean also removes .venv)"

# torch first, pinned, from PyTorch's CPU wheel index: on Linux a bare `torch` from PyPI is the CUDA
# build with several GB of NVIDIA wheels. The pin (torch==2.13.0) also matches the index's 2.13.0+cpu.
# `make setup TORCH_INDEX=` installs torch from pip's ordinary indexes instead (a local wheel, a GPU
# machine); .ci/run does that where a local torch wheel is configured (PIP_FIND_LINKS).
TORCH_INDEX ?= https://download.pytorch.org/whl/cpu
PYPI_INDEX ?= https://pypi.org/simple
TORCH_INDEX_ARGS := $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX) --extra-index-url $(PYPI_INDEX))
$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q -c constraints.txt $(TORCH_INDEX_ARGS) torch
	$(PIP) install -q -c constraints.txt -e ".[dev]"
	touch $@

setup: $(STAMP)

# What setup's first install would fetch, without installing anything: torch and its dependencies,
# one line each (name, version, file). From PyTorch's CPU index the torch line reads 2.13.0+cpu and
# no nvidia-* line follows; with TORCH_INDEX= on Linux it is the CUDA build and its NVIDIA wheels.
resolve-torch:
	@$(PYTHON) -m pip --disable-pip-version-check install --dry-run --ignore-installed --quiet --report - \
		-c constraints.txt $(TORCH_INDEX_ARGS) torch | $(PYTHON) -c 'import json, sys; \
		[print(i["metadata"]["name"], i["metadata"]["version"], i["download_info"]["url"].rsplit("/", 1)[-1]) \
		 for i in json.load(sys.stdin)["install"]]'

book: $(STAMP)
	$(BIN)/jupyter-book build .
	@echo "The book: file://$(CURDIR)/_build/html/index.html"

lint: $(STAMP)
	$(BIN)/ruff check .

unit: $(STAMP)
	$(BIN)/pytest -q -m "not browser" tests

# Executes each notebook once; notebooks/conftest.py stores the executed notebooks in the
# book's execution cache, so the book build below reuses them instead of executing again.
# Every chapter computes on one thread (OMP_NUM_THREADS=1 for those that do not set it: two workers with
# two threads each on two cores run several times slower), so pytest-xdist runs NB_WORKERS chapters at
# once (one per core by default), each notebook whole in one worker (--dist loadfile); NB_WORKERS=0
# runs them in turn.
NB_WORKERS ?= auto
notebooks: $(STAMP)
	OMP_NUM_THREADS=1 $(BIN)/pytest -q -n $(NB_WORKERS) --dist loadfile --nbval-lax --nbval-current-env \
		--nbval-cell-timeout=$(CELL_TIMEOUT) notebooks/

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

# The chapters' Colab edition (metalearn_lite.course.colab): plain Jupyter Markdown with the outputs
# and glued numbers of the notebooks just executed; the Pages workflow publishes it.
colab: $(STAMP)
	$(BIN)/python -m metalearn_lite.course colab _build/colab --executed _build/.jupyter_cache --force

test: lint unit notebooks colab book-check browser
	@echo "make test: all checks passed"

lab: $(STAMP)
	$(BIN)/jupyter lab

clean:
	rm -rf _build .pytest_cache .ruff_cache
	find . -name __pycache__ -not -path "./$(VENV)/*" -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)
