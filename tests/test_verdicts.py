"""The verdict rules on synthetic per-item ranks: a no-effect fixture gets no verdict of an effect, each rule's
condition (the control, chance, the interval, both ordering contrasts) decides a fixture of its own, and the
interval covers what it should."""

from __future__ import annotations

import numpy as np
import pytest

from ocr_core.reporting import verdicts as v
from ocr_core.reporting.compare import ocr_word

CHANCE = 9.5


def _ranks(mean: float, sd: float, seeds: int = 3, items: int = 20, seed: int = 0) -> list[list[float]]:
    rng = np.random.default_rng(seed)
    return [list(np.clip(rng.normal(mean, sd, items), 0, 19)) for _ in range(seeds)]


def test_bootstrap_interval_holds_the_mean_and_shrinks_with_more_data():
    small = v.bootstrap(_ranks(5.0, 3.0, seeds=3, items=10))
    large = v.bootstrap(_ranks(5.0, 3.0, seeds=10, items=100))
    assert small.low < small.mean < small.high and large.low < large.mean < large.high
    assert large.high - large.low < (small.high - small.low) / 2
    assert abs(large.mean - 5.0) < 0.3 and large.low < 5.0 < large.high
    constant = v.bootstrap([[2.0] * 5] * 3)
    assert (constant.mean, constant.low, constant.high) == (2.0, 2.0, 2.0)
    assert (small.n_seeds, small.n_items) == (3, 30)


def test_clear_ocr():
    verdict = v.ocr(_ranks(1.0, 1.0), _ranks(9.5, 4.0, seed=1), CHANCE)
    assert verdict.word == v.OCR and verdict.change.below_zero and verdict.final.high < CHANCE


def test_no_effect_fixture_is_no_clear_effect():
    before = _ranks(9.5, 4.0, seed=1)
    noise = np.random.default_rng(2).normal(0, 1.0, (3, 20))
    after = [list(np.asarray(row) + n) for row, n in zip(before, noise, strict=True)]
    assert v.ocr(after, before, CHANCE).word == v.NO_EFFECT


def test_the_control_decides_when_the_rank_was_low_before_training():
    """Implications the base model already draws: low after training, but no lower than before."""
    before = _ranks(2.0, 1.0, seed=3)
    after = [list(row) for row in before]
    verdict = v.ocr(after, before, CHANCE)
    assert verdict.final.high < CHANCE  # a rule reading only the final rank would call this OCR
    assert verdict.word == v.NO_EFFECT


def test_a_one_rank_drop_within_the_noise_is_no_clear_effect():
    """The old words called any fall of one rank "partial OCR"."""
    before = _ranks(9.5, 0.5, seed=4)
    spread = [-7.0, 5.0] * 10  # a mean fall of one rank, item by item between -7 and +5
    after = [list(np.asarray(row) + spread) for row in before]
    verdict = v.ocr(after, before, CHANCE)
    assert verdict.change.mean == pytest.approx(-1.0)
    assert verdict.word == v.NO_EFFECT and verdict.change.low < 0 < verdict.change.high
    assert ocr_word(9.5, 8.5) == "partial OCR"


def test_a_clear_fall_that_ends_at_chance_is_not_ocr():
    verdict = v.ocr(_ranks(10.0, 1.0, seed=6), _ranks(15.0, 1.0, seed=7), CHANCE)
    assert verdict.change.below_zero and verdict.word == v.FELL


def test_a_clear_rise_is_named():
    assert v.ocr(_ranks(12.0, 1.0), _ranks(6.0, 1.0, seed=1), CHANCE).word == v.ROSE


def test_paired_needs_the_same_items():
    with pytest.raises(ValueError, match="same items"):
        v.paired([[1.0, 2.0]], [[1.0]])


def test_ordering_needs_both_contrasts():
    low, high = _ranks(3.0, 1.0), _ranks(9.0, 1.0, seed=1)
    assert v.ordering(low, high, high)[0] == v.REPRODUCES
    # no effect: every order alike
    same = _ranks(9.5, 3.0, seed=2)
    word, parts = v.ordering(same, same, same)
    assert word == v.DOES_NOT and {w for w, _ in parts.values()} == {v.NO_DIFFERENCE}
    # lower than no structure stage, but no lower than implications first
    assert v.ordering(low, [list(r) for r in low], high)[0] == v.DOES_NOT
    # lower than implications first, but no lower than no structure stage
    assert v.ordering(low, high, [list(r) for r in low])[0] == v.DOES_NOT


def test_verification_records_give_one_verdict_per_model_and_hop():
    records = []
    for seed in range(3):
        for epoch, (fact, impl) in {0: (9.5, 9.5), 3: (0.0, 1.0)}.items():
            for split, mean in (("fact", fact), ("implication", impl)):
                ranks = _ranks(mean, 0.5, seeds=1, seed=seed * 10 + epoch)[0]
                records.append(
                    dict(model="m", hop="first_hop", seed=seed, epoch=epoch, split=split, ranks=ranks, chance=CHANCE)
                )
    (row,) = v.verification_verdicts(records)
    assert (row["model"], row["hop"], row["seeds"], row["items"], row["verdict"]) == ("m", "first_hop", 3, 60, v.OCR)
    assert row["before"] == pytest.approx(9.5, abs=0.3)
