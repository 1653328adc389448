# The README's commands: `make book` (main job: every experiment for both embedded models, rendered as a
# Jupyter Book) and `make test` (the test suite CI runs). Both set up .venv first.
PY := .venv/bin/python
MODELS ?= gemma-3-270m smollm2-135m
RESULTS ?= results
# Chapters whose numbers CI re-executes with nbval (the cheap ones: ~3 min warm, ~10 min with a cold
# delta cache); `make nbval-all` re-executes every chapter.
NBVAL_CI := book/chapters/prior_knowledge.ipynb book/chapters/ocr_verification.ipynb \
            book/chapters/extractive_scores.ipynb book/chapters/model_scale.ipynb
NBVAL_ALL := $(wildcard book/chapters/*.ipynb)

.PHONY: setup book html publish run verify sweep gpu-check test nbval-all lint lock clean

setup:
	@bash scripts/setup.sh

book: setup
	$(PY) -m ocr_core.reporting.book --models $(MODELS)

html: setup
	$(PY) -m ocr_core.reporting.book --no-execute

# Publish the HTML of the committed chapters to the gh-pages branch of REPO (OWNER/NAME) by hand; the
# workflow .github/workflows/book.yml does it on every push to main.
publish: setup
	@test -n "$(REPO)" || { echo "usage: make publish REPO=OWNER/NAME"; exit 2; }
	$(PY) -m pip install -q ghp-import==2.1.0
	cp _config.yml _config.yml.publish-backup
	$(PY) scripts/site_config.py "$(REPO)" && $(PY) -m ocr_core.reporting.book --no-execute; \
	  status=$$?; mv _config.yml.publish-backup _config.yml; exit $$status
	$(PY) -m ghp_import -n -p -f _build/html

run: book

verify: setup
	$(PY) -m ocr_core ocr-verification --model $(MODELS) --results $(RESULTS)

# The book's default sweep (smollm2-135m, 2 lrs x 2 epochs; resumable). Other grids: python -m ocr_core sweep -h
sweep: setup
	$(PY) -m ocr_core sweep

# On a GPU machine only: every experiment on gemma-3-270m (bf16) and the tiny paper architectures.
gpu-check: setup
	bash scripts/gpu_check.sh

# Exact mode (AMD x86-64 with AVX2, pinned numerics): nbval compares the checked chapter outputs
# digit for digit.
# Tolerance mode (any other host, Intel ones included, or OCR_CORE_NUMERICS=native): numbers within a stated
# tolerance, words exactly.
test: setup
	$(PY) -m ruff check src tests notebooks
	@echo "[test] $$($(PY) -m ocr_core numerics)"
	@if [ "$$($(PY) -m ocr_core numerics --mode)" = exact ]; then \
	  echo "[test] exact mode: nbval checks the book's numbers digit for digit"; \
	  $(PY) -m pytest -v --durations=20 tests --nbval-lax --nbval-current-env $(NBVAL_CI); \
	else \
	  echo "[test] tolerance mode: the book's numbers are checked within a tolerance, words exactly"; \
	  $(PY) -m pytest -v --durations=20 tests && $(PY) -m ocr_core.tools.checked $(NBVAL_CI); \
	fi

nbval-all: setup
	$(PY) -m pytest -v --nbval-lax --nbval-current-env $(NBVAL_ALL)

lint: setup
	$(PY) -m ruff check src tests notebooks
	$(PY) -m ruff format --check src tests

# Accept a change of the code behind a version constant that computes the same (README "Keys").
lock: setup
	$(PY) -m ocr_core.tools.lock

clean:
	rm -rf $(RESULTS) _build .pytest_cache
