"""Counterfactual prompts for the extractive scores: other items of the same dataset."""

from __future__ import annotations

import random

from ocr_core.data import Dataset


def sample_counterfactuals(dataset: Dataset, n: int = 10, seed: int = 0) -> list[list[int]]:
    """For each item, `n` other items with a different subject and a different answer (seeded)."""
    rng = random.Random(f"counterfactuals:{seed}")
    out = []
    for i, ex in enumerate(dataset.examples):
        pool = [
            j
            for j, other in enumerate(dataset.examples)
            if j != i and other.answer != ex.answer and other.subject != ex.subject
        ]
        if len(pool) < n:
            raise ValueError(f"item {i} has only {len(pool)} possible counterfactuals, {n} requested")
        out.append(rng.sample(pool, n))
    return out
