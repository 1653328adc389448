# The two commands of the README: `make run` (main job) and `make test` (test suite). Both set up .venv first.
PY := .venv/bin/python
MODELS ?= gemma-3-270m smollm2-135m
RESULTS ?= results

.PHONY: setup run test lint clean

setup:
	@bash scripts/setup.sh

run: setup
	$(PY) -m ocr_core verify --model $(MODELS) --results $(RESULTS)

test: setup
	$(PY) -m ruff check src tests
	$(PY) -m pytest -v --durations=15

lint: setup
	$(PY) -m ruff check src tests
	$(PY) -m ruff format --check src tests

clean:
	rm -rf $(RESULTS) _build .pytest_cache
