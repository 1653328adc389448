"""Verdicts that compare an effect with its own control and state their uncertainty.

Every verdict here is read from a paired difference: the same item (a test name's implication, a seed's
split) measured under the effect and under its control (the untrained model, no structure stage, the control
graft). Its uncertainty is a 95% bootstrap interval over seeds and items: seeds are drawn with replacement,
then items within each drawn seed, and the interval holds the middle 95% of the resampled means. The rules are
fixed here, before any result is read:

- **OCR** (`ocr`): the implication rank falls below its control by more than the interval (the paired
  difference's interval lies below 0) *and* ends below chance (the final rank's interval lies below chance).
  A fall whose final rank is not clearly below chance is "fell, not below chance"; an interval that holds 0
  is "no clear effect"; one above 0 is "rose".
- **Contrast** (`contrast`): a is *lower* than b when the interval of a - b lies below 0, *higher* when above,
  else "no clear difference".
- **Ordering** (`ordering`), the paper's prediction: after facts first the test names' implication rank is
  lower than after implications first *and* lower than with no structure stage; both contrasts must hold for
  "reproduces", otherwise "does not reproduce".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

LEVEL = 0.95
N_BOOT = 4000

OCR, FELL, NO_EFFECT, ROSE = "OCR", "fell, not below chance", "no clear effect", "rose"
LOWER, HIGHER, NO_DIFFERENCE = "lower", "higher", "no clear difference"
REPRODUCES, DOES_NOT = "reproduces", "does not reproduce"


@dataclass(frozen=True)
class Interval:
    """A mean over seeds and items with its bootstrap interval."""

    mean: float
    low: float
    high: float
    n_seeds: int
    n_items: int

    def __str__(self) -> str:
        return f"{self.mean:.2f} [{self.low:.2f}, {self.high:.2f}]"

    @property
    def below_zero(self) -> bool:
        return self.high < 0

    @property
    def above_zero(self) -> bool:
        return self.low > 0


def bootstrap(values: Sequence[Sequence[float]], n_boot: int = N_BOOT, seed: int = 0, level: float = LEVEL) -> Interval:
    """Mean of `values[seed][item]` and its hierarchical bootstrap interval (seeds, then items in each seed).
    The mean is the mean of the seeds' means."""
    per_seed = [np.asarray(v, dtype=float) for v in values]
    if not per_seed or any(v.size == 0 for v in per_seed):
        raise ValueError("need at least one seed with at least one item")
    rng = np.random.default_rng(seed)
    # item-resampled means per seed: [n_seeds, n_boot]
    item_means = np.stack([v[rng.integers(0, v.size, (n_boot, v.size))].mean(axis=1) for v in per_seed])
    drawn = rng.integers(0, len(per_seed), (n_boot, len(per_seed)))  # [n_boot, n_seeds]
    means = item_means[drawn, np.arange(n_boot)[:, None]].mean(axis=1)
    tail = (1 - level) / 2
    low, high = np.quantile(means, [tail, 1 - tail])
    mean = float(np.mean([v.mean() for v in per_seed]))
    return Interval(mean, float(low), float(high), len(per_seed), sum(v.size for v in per_seed))


def paired(effect: Sequence[Sequence[float]], control: Sequence[Sequence[float]], **kwargs) -> Interval:
    """Interval of effect - control, item by item within each seed (the same items in the same order)."""
    diffs = []
    for e, c in zip(effect, control, strict=True):
        e, c = np.asarray(e, dtype=float), np.asarray(c, dtype=float)
        if e.shape != c.shape:
            raise ValueError(f"paired values need the same items: {e.shape} vs {c.shape}")
        diffs.append(e - c)
    return bootstrap(diffs, **kwargs)


@dataclass(frozen=True)
class OcrVerdict:
    word: str
    final: Interval  # the implication rank after training
    change: Interval  # after - control, paired
    chance: float

    def __str__(self) -> str:
        return f"{self.word}: rank {self.final}, change vs control {self.change} (chance {self.chance:g})"


def ocr(after: Sequence[Sequence[float]], control: Sequence[Sequence[float]], chance: float) -> OcrVerdict:
    """The OCR rule (module docstring): per-item implication ranks after training and under the control."""
    final, change = bootstrap(after), paired(after, control)
    return OcrVerdict(_ocr_word(final, change, chance), final, change, chance)


def _ocr_word(final: Interval, change: Interval, chance: float) -> str:
    if change.below_zero:
        return OCR if final.high < chance else FELL
    return ROSE if change.above_zero else NO_EFFECT


def contrast(a: Sequence[Sequence[float]], b: Sequence[Sequence[float]]) -> tuple[str, Interval]:
    """Whether a is lower or higher than b, paired, by more than the interval."""
    diff = paired(a, b)
    return (LOWER if diff.below_zero else HIGHER if diff.above_zero else NO_DIFFERENCE), diff


def ordering(
    facts_first: Sequence[Sequence[float]],
    implications_first: Sequence[Sequence[float]],
    none: Sequence[Sequence[float]],
) -> tuple[str, dict[str, tuple[str, Interval]]]:
    """The paper's ordering prediction on the test names' final implication ranks (module docstring)."""
    parts = {
        "facts_first - implications_first": contrast(facts_first, implications_first),
        "facts_first - none": contrast(facts_first, none),
    }
    word = REPRODUCES if all(w == LOWER for w, _ in parts.values()) else DOES_NOT
    return word, parts


def verification_verdicts(records: Sequence[dict]) -> list[dict]:
    """OCR verification records (per-item `ranks` per epoch) -> one row per (model, hop): implication rank
    before and after (means), the OCR verdict against the untrained model (epoch 0, the same items), and
    whether the facts were learned (their final rank's interval, for the reader)."""
    rows = []
    for model, hop in dict.fromkeys((r["model"], r["hop"]) for r in records):
        mine = [r for r in records if (r["model"], r["hop"]) == (model, hop)]
        last = max(r["epoch"] for r in mine)
        seeds = sorted({r["seed"] for r in mine})

        def ranks(split: str, epoch: int, mine=mine, seeds=seeds) -> list[list[int]]:
            by_seed = {r["seed"]: r["ranks"] for r in mine if r["split"] == split and r["epoch"] == epoch}
            return [by_seed[s] for s in seeds]

        chance = next(r["chance"] for r in mine if r["split"] == "implication")
        verdict = ocr(ranks("implication", last), ranks("implication", 0), chance)
        rows.append(
            dict(
                model=model,
                hop=hop,
                seeds=len(seeds),
                items=verdict.final.n_items,
                facts_after=str(bootstrap(ranks("fact", last))),
                before=round(bootstrap(ranks("implication", 0)).mean, 2),
                after=str(verdict.final),
                change=str(verdict.change),
                verdict=verdict.word,
            )
        )
    return rows
