import importlib
import os

import pytest
import torch

from ocr_core.arch.families import family_of
from ocr_core.arch.trainable import Trainable
from ocr_core.data import fictional
from ocr_core.experiments.base import Settings
from ocr_core.experiments.data_ordering import ORDERS, ordering_table, run_ordering
from ocr_core.experiments.fictional import FictionalRuns
from ocr_core.experiments.grafting_localization import localization_table, r_squared, run_localization
from ocr_core.experiments.layer_freezing import VARIANTS, freezing_table, run_freezing, split_layers
from ocr_core.experiments.weight_grafting import grafting_table, run_grafting
from ocr_core.training.deltas import Delta
from ocr_core.training.finetune import finetune
from ocr_core.training.metrics import mean_rank

SETTINGS = Settings(lr=2e-3, epochs=2, batch_size=8)


@pytest.fixture(autouse=True)
def _private_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("OCR_CORE_CACHE", str(tmp_path / "cache"))


def test_split_layers_at_three_quarters(tiny_llama):
    model, _ = tiny_llama
    early, late = split_layers(model)
    assert list(early) == [0, 1, 2] and list(late) == [3]
    with pytest.raises(ValueError, match="no early or no late"):
        split_layers(model, 0.05)


def test_frozen_layers_are_not_trained_and_post_reverts_exactly_those(tiny_llama):
    model, tok = tiny_llama
    family = family_of(model)
    data = fictional(0).train_facts
    pre = finetune(model, tok, data, lr=1e-3, epochs=1, trainable=Trainable(frozen_layers=(0, 1, 2)), progress=False)
    layers = {family.layer_of(k) for k in pre.delta}
    assert layers == {3}  # the late block only (the default trains no parameter outside the blocks)
    ablation = Trainable(frozen_layers=(0, 1, 2), embeddings=True)
    pre = finetune(model, tok, data, lr=1e-3, epochs=1, trainable=ablation, progress=False)
    assert {family.layer_of(k) for k in pre.delta} == {3, None}  # plus embeddings and the final norm
    full = finetune(model, tok, data, lr=1e-3, epochs=1, trainable=Trainable(embeddings=True), progress=False).delta
    post = full.without(model, range(3))
    assert {family.layer_of(k) for k in post} == {3, None}
    assert all(torch.equal(post[k], full[k]) for k in post)
    assert set(full) - set(post) == {k for k in full if family.layer_of(k) in (0, 1, 2)}


def test_freezing_records_and_table(tiny_llama):
    model, tok = tiny_llama
    records = run_freezing(
        model, tok, model_name="tiny-llama", settings=SETTINGS, seeds=(0,), hops=("first_hop",), progress=False
    )
    assert {r["variant"] for r in records} == set(VARIANTS)
    # "all" is the untouched base model
    from ocr_core.data import first_hop

    base = mean_rank(model, tok, first_hop(0).facts)
    (row,) = [r for r in records if r["variant"] == "all" and r["split"] == "fact"]
    assert row["mean_rank"] == pytest.approx(base)
    table = {r["variant"]: r for r in freezing_table(records)}
    assert table["none"]["first_hop.fact"] < table["all"]["first_hop.fact"]


def test_facts_first_trains_facts_strictly_before_implications(tiny_llama, monkeypatch):
    model, tok = tiny_llama
    fr = importlib.import_module("ocr_core.experiments.fictional")
    calls = []
    original = fr.train_on

    def spy(model, tokenizer, train, *, base=None, **kwargs):
        result = original(model, tokenizer, train, base=base, **kwargs)
        names = {e.prompt.split(" ")[2] for e in (train.examples if hasattr(train, "examples") else train)}
        call = (names, None if base is None else base.content_hash(), result.delta.content_hash())
        if call not in calls:  # a delta asked for again is read back from the cache: same call
            calls.append(call)
        return result

    monkeypatch.setattr(fr, "train_on", spy)
    data = fictional(0)
    records = run_ordering(
        model,
        tok,
        model_name="tiny-llama",
        settings=SETTINGS,
        seeds=(0,),
        orders=("facts_first", "implications_first"),
        progress=False,
    )
    assert [c[0] for c in calls[:2]] == [{"dax"}, {"zong"}]  # facts, then implications on top of them
    assert calls[1][1] == calls[0][2]  # the implication phase starts from the facts delta
    assert calls[2][0] == {"dax"} and calls[2][1] is not None  # OCR: test facts on top of the structure
    assert calls[3][0] == {"zong"} and calls[4][0] == {"dax"}  # implications first: the reverse
    assert calls[4][1] == calls[3][2]
    ff = [r for r in records if r["order"] == "facts_first" and r["stage"] == "structure"]
    assert min(ff, key=lambda r: r["step"])["phase"] == "facts"
    assert max(r["step"] for r in ff if r["phase"] == "facts") <= min(
        r["step"] for r in ff if r["phase"] == "implications"
    )
    ocr_rows = [r for r in records if r["stage"] == "ocr" and r["eval_set"] == "test_implications"]
    assert {r["epoch"] for r in ocr_rows} == set(range(SETTINGS.epochs + 1))
    assert len(data.test_facts) == 20


def test_ordering_table_has_every_order(tiny_llama):
    model, tok = tiny_llama
    records = run_ordering(model, tok, model_name="tiny-llama", settings=SETTINGS, seeds=(0, 1), progress=False)
    table = ordering_table(records)
    assert [r["order"] for r in table] == list(ORDERS)
    assert all(r["test_facts.after"] < r["test_implications.before"] + 5 for r in table)


def test_grafting_adds_the_intended_deltas(tiny_llama):
    model, tok = tiny_llama
    records = run_grafting(model, tok, model_name="tiny-llama", settings=SETTINGS, seeds=(0,), progress=False)
    data = fictional(0)
    runs = FictionalRuns(model, tok, data, model_name="tiny-llama", settings=SETTINGS, progress=False)
    expected = {
        "base+W_F'": runs.w_fcf().delta,
        "graft": runs.w_fcf().delta + runs.w_fi().delta,
        "control": runs.w_fcf().delta + runs.w_i().delta,
    }
    for weights, delta in expected.items():
        with delta.applied(model):
            want = mean_rank(model, tok, data.train_implications_cf)
        (got,) = [r["mean_rank"] for r in records if r["weights"] == weights and r["eval_set"] == "implications_F'"]
        assert got == pytest.approx(want)
    # and graft really differs from W_F' alone
    assert (expected["graft"] - expected["base+W_F'"]).norm() == pytest.approx(runs.w_fi().delta.norm(), rel=1e-5)
    assert {r["weights"] for r in grafting_table(records)} >= {"base+W_F'", "graft", "control"}


def test_localization_records_one_row_per_component(tiny_llama):
    model, tok = tiny_llama
    records = run_localization(
        model, tok, model_name="tiny-llama", settings=SETTINGS, seeds=(0,), n_counterfactuals=2, progress=False
    )
    components = [r for r in records if r["variant"] == "components"]
    points = [r for r in records if r["variant"] == "points"]
    assert len(components) == 4 * (1 + 4) and len(components) + len(points) == len(records)
    # the paper's points: every component at each template position the two implication sets share
    positions = {r["token"] for r in points}
    assert len(positions) >= 3 and len(points) == len(components) * len(positions)
    assert {r["component"] for r in points} == {r["component"] for r in components}
    for rows in (components, points):
        assert any(r["informative_WFI"] != 0 for r in rows) and any(r["downstream_ocr"] != 0 for r in rows)
    table = localization_table(records)
    assert [(r["variant"], r["kind"]) for r in table] == [
        ("points", "mlp"),
        ("points", "head"),
        ("components", "mlp"),
        ("components", "head"),
    ]
    assert all(0 <= r["r2"] <= 1 for r in table)


def test_r_squared():
    assert r_squared([1, 2, 3], [2, 4, 6]) == pytest.approx(1.0)
    assert r_squared([1, 2, 3], [1, 1, 1]) == 0.0
    assert r_squared([1, 2, 3, 4], [1, -1, -1, 1]) == pytest.approx(0.0)


def test_delta_without_keeps_other_layers(tiny_llama):
    model, _ = tiny_llama
    names = [n for n, _ in model.named_parameters()]
    delta = Delta({n: torch.ones(1) for n in names})
    kept = delta.without(model, [0])
    assert all(".layers.0." not in k for k in kept) and len(kept) < len(delta)


def test_lr_sweep_records_facts_implications_and_retention(tiny_llama):
    from ocr_core.experiments.lr_sweep import run_lr_sweep, sweep_table

    model, tok = tiny_llama
    records = run_lr_sweep(model, tok, model_name="tiny-llama", lrs=(1e-3, 3e-3), max_epochs=1, progress=False)
    table = sweep_table(records)
    assert [r["lr"] for r in table] == [1e-3, 3e-3]
    assert all(r["epochs_W_F"] == r["epochs_W_FI"] == 1 for r in table)  # max_epochs=1: each phase one epoch
    assert {r["phase"] for r in records} == {"W_F", "W_FI"}
    # the W_FI phase starts where W_F ended: its epoch-0 fact rank is W_F's last
    for lr in (1e-3, 3e-3):
        end_f = [
            r for r in records if (r["lr"], r["phase"], r["epoch"], r["eval_set"]) == (lr, "W_F", 1, "train_facts")
        ]
        start_fi = [
            r for r in records if (r["lr"], r["phase"], r["epoch"], r["eval_set"]) == (lr, "W_FI", 0, "train_facts")
        ]
        assert end_f[0]["mean_rank"] == pytest.approx(start_fi[0]["mean_rank"])


def test_every_subcommand_parses():
    from ocr_core.cli import build_parser

    parser = build_parser()
    for argv in (
        ["ocr-verification", "--seeds", "1"],
        ["extractive-scores", "--seed", "2"],
        ["lr-sweep", "--lrs", "1e-4"],
        ["layer-freezing"],
        ["data-ordering"],
        ["weight-grafting"],
        ["grafting-localization"],
        ["dynamics", "--epochs", "3"],
        ["structure-installation"],
        ["prior-knowledge"],
        ["models"],
    ):
        args = parser.parse_args(argv)
        assert callable(args.func)


def test_verification_freezing_and_scores_share_the_facts_delta(tiny_llama, tmp_path):
    from ocr_core.experiments.ocr_verification import run_ocr_verification

    model, tok = tiny_llama
    kwargs = dict(model_name="tiny-llama", seeds=(0,), hops=("first_hop",), progress=False)
    run_ocr_verification(model, tok, **SETTINGS.kwargs(), **kwargs)
    folder = tmp_path / "cache" / "deltas" / "tiny-llama"
    (shared,) = folder.glob("*.safetensors")
    os.utime(shared, ns=(0, 0))
    run_freezing(model, tok, settings=SETTINGS, **kwargs)
    # the full finetune was reused (a hit marks it used for the cache's pruning); the two frozen variants, used
    # by layer freezing only, are not cached
    assert list(folder.glob("*.safetensors")) == [shared] and shared.stat().st_mtime_ns > 0


def test_cached_two_phase_runs_hold_no_delta_in_memory_and_give_the_same_deltas(tiny_llama):
    """With the delta cache, a repeated delta is read back from disk (equal bit for bit), not kept in memory."""
    model, tok = tiny_llama
    data = fictional(0)
    cached = FictionalRuns(model, tok, data, model_name="tiny-llama", settings=SETTINGS, progress=False)
    first = cached.w_fi()
    again = cached.w_fi()
    assert cached._done == {} and again.delta.content_hash() == first.delta.content_hash()
    assert again.history == first.history
    kept = FictionalRuns(model, tok, data, model_name="tiny-llama", settings=SETTINGS, progress=False, cache=False)
    assert kept.w_fi().delta.content_hash() == first.delta.content_hash()
    assert set(kept._done) == {"W_F", "W_FI"}
