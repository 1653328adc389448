"""Adding seeds re-runs nothing: seeds that begin with the default three keep their three-seed run, every
further seed is a run of its own (`experiments.base.seed_groups`)."""

from __future__ import annotations

from ocr_core.experiments.base import SeedRuns, seed_groups
from ocr_core.experiments.ocr_verification import verify
from ocr_core.experiments.settings import CHEAP_SEEDS, SEEDS, default_seeds, resolve_seeds, seeds_for_ablation


def test_seed_groups_keep_the_first_three_together():
    assert seed_groups((0, 1, 2, 3, 4)) == [(0, 1, 2), (3,), (4,)]
    assert seed_groups((0, 1, 2)) == [(0, 1, 2)]
    assert seed_groups((0,)) == [(0,)]
    assert seed_groups((1, 2, 3, 4)) == [(1, 2, 3, 4)]  # not the default start: one run, as before


def test_default_seeds_per_experiment():
    assert default_seeds("ocr_verification") == default_seeds("layer_freezing") == CHEAP_SEEDS
    assert default_seeds("extractive_scores") == CHEAP_SEEDS and len(CHEAP_SEEDS) == 5
    assert default_seeds("data_ordering") == default_seeds("structure_installation") == SEEDS and len(SEEDS) == 3
    assert resolve_seeds(None, "weight_grafting") == SEEDS and resolve_seeds([7], "weight_grafting") == (7,)
    assert seeds_for_ablation([0, 1, 2, 3, 4]) == [0, 1, 2] and seeds_for_ablation([0, 1, 2, 3, 4], [4]) == [4]
    assert seeds_for_ablation(None) == [0, 1, 2]


def test_adding_seeds_reuses_the_three_seed_run(tmp_path):
    results = tmp_path / "results"
    three = verify("tiny-llama", epochs=1, seeds=[0, 1, 2], results=results, progress=False)
    four = verify("tiny-llama", epochs=1, seeds=[0, 1, 2, 3], results=results, progress=False)
    assert isinstance(four, SeedRuns) and four.runs[0].path == three.path  # the same folder: not run again
    assert sorted({r["seed"] for r in four.records()}) == [0, 1, 2, 3]
    assert four.records()[: len(three.records())] == three.records()
