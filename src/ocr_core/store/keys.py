"""Keys of results and deltas: what determines them, plus explicit version constants, never source bytes.

A delta is keyed by the model and its base weights, the base delta, the training and eval examples, the
finetuning settings, the numeric environment and TRAINING_VERSION. A result is keyed by its experiment's
config (model, settings, placement, numeric environment) and the versions of the code that computes it:
TRAINING_VERSION, SCORING_VERSION and the experiment module's own VERSION. Bump a version when a change alters
what the code computes (every key it enters changes, so nothing stale is reused); rewrapping, reformatting or
refactoring changes no key. The fingerprint lock (`keys.lock`, `python -m ocr_core.tools.lock`) catches a change
of the code behind a version that neither bumped it nor was accepted.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

# Bump when a change alters what a finetune produces (data, tokenization, loss, train step, optimizer, deltas,
# model loading or de-quantization).
# 2: Trainable(embeddings=False) freezes the final norm too (the blocks only); it was "embeddings frozen, final
#    norm trained", under the same key.
TRAINING_VERSION = 2
# Bump when a change alters what ranks or extractive scores come out of given weights.
SCORING_VERSION = 1


def digest(payload: Any) -> str:
    """sha256 (12 hex) of `payload` as canonical JSON (sorted keys; other objects by str)."""
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:12]


def versions(experiment_version: int | None = None) -> dict[str, int]:
    """The version constants a result depends on (`experiment_version`: its experiment module's VERSION)."""
    out = dict(training=TRAINING_VERSION, scoring=SCORING_VERSION)
    if experiment_version is not None:
        out["experiment"] = experiment_version
    return out
