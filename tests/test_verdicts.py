"""The verdict rules on synthetic per-item ranks: a no-effect fixture gets no verdict of an effect, each rule's
condition (the control, chance, the interval, both ordering contrasts) decides a fixture of its own, and the
interval covers what it should."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ocr_core.reporting import verdicts as v

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


# Experiment verdicts on synthetic records shaped like each experiment's ---------------------------------------


def _freezing_records(first_early_pre: float, none_first: float = 0.5) -> list[dict]:
    """none/all/early_pre/... implication ranks per (hop, seed), 20 items each."""
    means = {
        "none": none_first,
        "all": 9.5,
        "early_pre": first_early_pre,
        "early_post": none_first,
        "late_pre": 9.0,
        "late_post": 0.5,
    }
    rows = []
    for seed in range(3):
        for hop in ("first_hop", "second_hop"):
            for variant, mean in means.items():
                mean = {"none": 0.5}.get(variant, mean) if hop == "second_hop" else mean
                ranks = _ranks(mean, 0.5, seeds=1, seed=seed * 7 + len(variant))[0]
                rows.append(dict(model="m", hop=hop, seed=seed, variant=variant, split="implication", ranks=ranks))
    return rows


def test_freezing_claims_need_the_rise_against_none_and_ocr_to_remove():
    rows = {(r["hop"], r["variant"]): r["verdict"] for r in v.freezing_verdicts(_freezing_records(6.5))}
    assert rows[("first_hop", "early_pre")] == v.REPRODUCES  # 0.5 -> 6.5
    assert rows[("first_hop", "early_post")] == v.DOES_NOT  # stays at none's rank
    assert rows[("second_hop", "late_pre")] == v.REPRODUCES and rows[("second_hop", "late_post")] == v.DOES_NOT
    flat = {(r["hop"], r["variant"]): r["verdict"] for r in v.freezing_verdicts(_freezing_records(6.5, 9.5))}
    assert flat[("first_hop", "early_pre")].startswith("not testable")  # none shows no OCR: nothing to remove


def _graft_records(graft: float, control: float, alone: float = 9.0) -> list[dict]:
    rows = []
    for seed in range(3):
        for weights, mean in (("graft", graft), ("control", control), ("base+W_F'", alone)):
            rows.append(
                dict(
                    model="m",
                    seed=seed,
                    weights=weights,
                    eval_set="implications_F'",
                    ranks=_ranks(mean, 0.5, seeds=1, seed=seed + len(weights))[0],
                )
            )
        rows.append(dict(model="m", seed=seed, weights="base+W_F'", eval_set="facts_F'", ranks=[0.0] * 20))
    return rows


def test_grafting_needs_both_contrasts():
    assert v.grafting_verdicts(_graft_records(1.0, 8.5))[0]["verdict"] == v.REPRODUCES
    assert v.grafting_verdicts(_graft_records(1.0, 1.0))[0]["verdict"] == v.DOES_NOT  # the control does as well
    assert v.grafting_verdicts(_graft_records(9.0, 9.0))[0]["verdict"] == v.DOES_NOT


def _ordering_records(after: dict[str, float]) -> list[dict]:
    rows = []
    for seed in range(3):
        for order, mean in after.items():
            for epoch, m in ((0, 9.5), (5, mean)):
                rows.append(
                    dict(
                        model="m",
                        hop="first_hop",
                        seed=seed,
                        order=order,
                        stage="ocr",
                        epoch=epoch,
                        step=epoch,  # as data ordering writes them: the stage's offset + epoch
                        eval_set="test_implications",
                        record="rank",
                        ranks=_ranks(m, 1.0, seeds=1, seed=seed * 11 + epoch + len(order))[0],
                    )
                )
    return rows


def test_ordering_and_installation_verdicts_from_records():
    paper_like = v.ordering_verdicts(
        _ordering_records(dict(none=9.4, joint=5.0, facts_first=1.0, implications_first=9.0))
    )
    assert paper_like["ordering"]["verdict"] == v.REPRODUCES
    words = {r["order"]: r["verdict"] for r in paper_like["orders"]}
    assert words["facts_first"] == v.OCR and words["none"] == v.NO_EFFECT
    every_order = v.ordering_verdicts(
        _ordering_records(dict(none=9.4, joint=1.0, facts_first=1.0, implications_first=1.0))
    )
    assert every_order["ordering"]["verdict"] == v.DOES_NOT
    rows = {
        r["order"]: r["verdict"]
        for r in v.installation_verdicts(
            _ordering_records(dict(none=5.0, joint=1.0, facts_first=5.0, implications_first=9.0))
        )
    }
    assert rows == {"joint": "installs", "facts_first": v.NO_EFFECT, "implications_first": "weakens"}


def test_ranks_missing_from_older_records_are_an_error_not_a_verdict():
    records = _graft_records(1.0, 8.5)
    del records[0]["ranks"]
    with pytest.raises((ValueError, KeyError)):
        v.grafting_verdicts(records)


def test_correlation_is_sign_aware_with_an_interval():
    rng = np.random.default_rng(0)
    xs = [rng.normal(size=40) for _ in range(3)]
    pos = v.correlation(xs, [x + rng.normal(0, 0.5, 40) for x in xs])
    neg = v.correlation(xs, [-x + rng.normal(0, 0.5, 40) for x in xs])
    none = v.correlation(xs, [rng.normal(size=40) for _ in xs])
    assert pos.above_zero and neg.below_zero and not none.above_zero and not none.below_zero
    assert neg.mean**2 > 0.5  # r² alone would call this a good fit


def test_fig5_peak_rule():
    assert v.peak_verdict(3, "7:subject[-1]", 18, "subject", "10:speak") == "holds"
    assert v.peak_verdict(3, "5:subject[-4]", 18, "subject", "10:speak") == "does not hold"
    assert v.peak_verdict(15, "7:subject[-1]", 18, "subject", "10:speak") == "does not hold"  # late layer
    assert v.peak_verdict(12, "10:speak", 18, "last", "10:speak") == "holds"
    assert v.peak_verdict(12, "7:subject[-1]", 18, "last", "10:speak") == "does not hold"


def test_localization_verdicts_per_kind():
    rng = np.random.default_rng(1)
    rows = []
    for seed in range(3):
        x = rng.normal(size=30)
        for i in range(30):
            rows.append(
                dict(model="m", seed=seed, kind="mlp", informative_WFI=x[i], downstream_ocr=x[i] + 0.3 * rng.normal())
            )
            rows.append(dict(model="m", seed=seed, kind="head", informative_WFI=x[i], downstream_ocr=-x[i]))
    found = {r["kind"]: r["verdict"] for r in v.localization_verdicts(rows)}
    assert found == {"mlp": "positive", "head": "negative"}
    # the two variants are judged apart: the paper's points here carry no relation
    points = [dict(r, variant="points", downstream_ocr=rng.normal()) for r in rows]
    found = {(r["variant"], r["kind"]): r["verdict"] for r in v.localization_verdicts(rows + points)}
    assert found[("components", "mlp")] == "positive" and found[("components", "head")] == "negative"
    assert found[("points", "mlp")] == found[("points", "head")] == "no clear correlation"


def test_the_interval_resamples_seeds_too():
    """Items identical within each seed, seeds far apart: all the spread is between seeds."""
    spread = v.bootstrap([[0.0] * 5, [10.0] * 5, [20.0] * 5])
    assert spread.mean == 10.0 and spread.low < 5.0 and spread.high > 15.0


def test_seed_share_needs_a_majority_beyond_chance():
    """Only a statement that holds in every one of 5 seeds holds (P(5 of 5 | a coin) = 1/32 < 5%); 4 of 5 is not
    enough, nor is 1 of 1; 0 of 5 does not hold. The bounds are the exact one-sided 95% ones."""
    assert v.seed_share([True] * 5)["verdict"] == "holds"
    assert v.seed_share([True] * 4 + [False])["verdict"] == v.NO_EFFECT
    assert v.seed_share([True])["verdict"] == v.NO_EFFECT
    assert v.seed_share([False] * 5)["verdict"] == "does not hold"
    assert v.seed_share([True] + [False] * 4)["verdict"] == v.NO_EFFECT
    assert v.seed_share([True] * 5)["low"] == round(0.05 ** (1 / 5), 2)  # 0.55: the exact one-sided bound
    low, high = v.clopper_pearson(3, 5)  # the textbook two-sided 95% interval of 3 of 5
    assert (round(low, 3), round(high, 3)) == (0.147, 0.947)


def _score_table(seed: int, informative_peak: tuple[int, int]) -> pd.DataFrame:
    """A synthetic score table over 8 layers and 4 slots (subject[-2], subject[-1], is, speaks): zero except one
    peak of each score; the first-hop informative peak at `informative_peak` (layer, slot)."""
    tokens = ["0:subject[-2]", "1:subject[-1]", "2:is", "3:speaks"]
    rows = []
    peaks = {
        ("first_hop", "informative"): informative_peak,
        ("first_hop", "downstream"): (2, 3),
        ("second_hop", "upstream"): (7, 1),
        ("second_hop", "informative"): (1, 3),
    }
    for hop in ("first_hop", "second_hop"):
        for score in ("informative", "upstream", "downstream"):
            for kind in ("mlp", "head"):
                for layer in range(8):
                    for slot, token in enumerate(tokens):
                        value = 1.0 if kind == "mlp" and peaks.get((hop, score)) == (layer, slot) else 0.01 * slot
                        rows.append(
                            dict(
                                model="m",
                                hop=hop,
                                seed=seed,
                                score=score,
                                kind=kind,
                                layer=layer,
                                slot=slot,
                                token=token,
                                value=value,
                            )
                        )
    return pd.DataFrame(rows)


def test_fig5_statements_check_every_seed():
    """First-hop informative on the subject's last token in every seed holds; the second-hop upstream peak in the
    last layer (past 3/4 of 8) holds in none; a peak on the subject in 3 of 5 seeds is no clear effect."""
    from ocr_core.reporting.claims import fig5_statements

    rows = {(r["hop"], r["score"]): r for r in fig5_statements("m", {s: _score_table(s, (2, 1)) for s in range(5)})}
    assert rows[("first_hop", "informative")]["verdict"] == "holds"
    assert rows[("first_hop", "informative")]["peaks"] == ["L2 subject[-1]"] * 5
    assert rows[("second_hop", "upstream")]["verdict"] == "does not hold"  # layer 7 of 8
    assert rows[("first_hop", "downstream")]["verdict"] == "holds"  # layer 2, last token
    assert rows[("second_hop", "informative")]["verdict"] == "holds"
    mixed = {s: _score_table(s, (2, 1) if s < 3 else (2, 2)) for s in range(5)}  # "is" is not the subject
    rows = {(r["hop"], r["score"]): r for r in fig5_statements("m", mixed)}
    assert (rows[("first_hop", "informative")]["k"], rows[("first_hop", "informative")]["verdict"]) == (3, v.NO_EFFECT)


def test_cross_model_headline_reads_the_papers_localization_variant():
    """The headline's localization r² is the paper's variant (per position x layer) when the results have it,
    not whichever variant the table lists last; results of version 1 (components only) keep theirs."""
    from ocr_core.reporting.summary import paper_variant_r2

    both = [
        dict(variant="points", kind="mlp", r2=0.04),
        dict(variant="points", kind="head", r2=0.10),
        dict(variant="components", kind="mlp", r2=0.47),
        dict(variant="components", kind="head", r2=0.28),
    ]
    assert paper_variant_r2(both) == dict(variant="points", mlp=0.04, head=0.10)
    assert paper_variant_r2(both[2:]) == dict(variant="components", mlp=0.47, head=0.28)
