# The README's commands: `make book` (main job: every experiment for both embedded models, rendered as a
# Jupyter Book) and `make test` (the test suite CI runs). Both set up .venv first.
PY := .venv/bin/python
MODELS ?= gemma-3-270m smollm2-135m
RESULTS ?= results
# Chapters whose numbers CI re-executes with nbval (the cheap ones: ~3 min warm, ~10 min with a cold
# delta cache); `make nbval-all` re-executes every chapter.
NBVAL_CI := book/chapters/prior_knowledge.ipynb book/chapters/ocr_verification.ipynb \
            book/chapters/extractive_scores.ipynb
NBVAL_ALL := $(wildcard book/chapters/*.ipynb)

.PHONY: setup book html run verify test nbval-all lint clean

setup:
	@bash scripts/setup.sh

book: setup
	$(PY) -m ocr_core.book --models $(MODELS)

html: setup
	$(PY) -m ocr_core.book --no-execute

run: book

verify: setup
	$(PY) -m ocr_core verify --model $(MODELS) --results $(RESULTS)

test: setup
	$(PY) -m ruff check src tests
	$(PY) -m pytest -v --durations=20 tests --nbval-lax --nbval-current-env $(NBVAL_CI)

nbval-all: setup
	$(PY) -m pytest -v --nbval-lax --nbval-current-env $(NBVAL_ALL)

lint: setup
	$(PY) -m ruff check src tests
	$(PY) -m ruff format --check src tests

clean:
	rm -rf $(RESULTS) _build .pytest_cache
