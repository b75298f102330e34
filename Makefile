# The two commands of the README: `make demo` and `make test`.
# Each creates (or refreshes, when pyproject.toml changed) a local virtualenv in .venv
# from PyPI wheels, then runs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/voxtrio run examples/audio/question.wav --out reply.wav --transcript transcript.jsonl --metrics metrics.json

lint: $(STAMP)
	$(BIN)/ruff check voxtrio tests examples bench
	$(BIN)/mypy --strict voxtrio/core

test: lint
	$(BIN)/python -m pytest

bench: $(STAMP)
	taskset -c 0 $(BIN)/python bench/relay.py --quick
	taskset -c 0 $(BIN)/python bench/audio.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
