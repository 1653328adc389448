#!/usr/bin/env bash
# Quick end-to-end check of a GPU machine: every experiment on gemma-3-270m (CUDA, bf16) and on tiny random
# OLMo, Llama, Gemma 2, Qwen 2 and Mistral models, 1 seed, results in a temporary folder. A few minutes on
# one H100; never part of CI. Extra arguments go to `python -m ocr_core.tools.check` (e.g. --only ocr_verification extractive_scores).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
[ -x "$PY" ] || PY=python
"$PY" -c 'import torch; assert torch.cuda.is_available(), "no CUDA device visible"; print("[check]", torch.cuda.get_device_name(0))'
"$PY" -m ocr_core plan --model gemma-3-270m --device cuda --dtype bfloat16
exec "$PY" -m ocr_core.tools.check --device cuda --dtype bfloat16 "$@"
