import json

import pytest
import torch

from conftest import ALL_TINY, PAPER_ARCHS
from ocr_core.arch.families import family_of
from ocr_core.arch.trainable import Trainable
from ocr_core.data import Dataset, Example, first_hop
from ocr_core.models.loading import load_model
from ocr_core.training.deltas import Delta, DeltaMismatchError
from ocr_core.training.finetune import finetune
from ocr_core.training.metrics import mean_rank


def _same_weights(model, reference) -> bool:
    return all(torch.equal(reference[k], v) for k, v in model.named_parameters())


def _snapshot(model):
    return {k: v.detach().clone() for k, v in model.named_parameters()}


@pytest.mark.parametrize("name", PAPER_ARCHS)
def test_tiny_paper_architectures_load_finetune_rank(name):
    model, tok = load_model(name)
    data = first_hop(0).facts
    before = _snapshot(model)
    result = finetune(model, tok, data, lr=3e-3, epochs=5, eval_sets={"facts": data}, progress=False)
    start, end = result.history[0]["mean_rank"], result.history[-1]["mean_rank"]
    assert [h["epoch"] for h in result.history] == list(range(6))
    assert end < start - 2, f"{name}: fact rank {start} -> {end}; training did not learn the facts"
    assert result.losses[-1] < result.losses[0]
    assert _same_weights(model, before)  # restored
    with result.delta.applied(model):  # the delta reproduces the finetuned model
        assert mean_rank(model, tok, data) == pytest.approx(end)
    assert _same_weights(model, before)


@pytest.mark.parametrize("name", ALL_TINY)
def test_layer_and_kind_selection_trains_only_what_it_names(name):
    model, tok = load_model(name)
    family = family_of(model)
    data = first_hop(0).facts.subset(range(4))
    result = finetune(
        model,
        tok,
        data,
        lr=1e-3,
        epochs=1,
        trainable=Trainable(layers=(1, 2), kinds=("mlp",)),
        progress=False,
    )
    assert result.delta
    assert {family.layer_of(k) for k in result.delta} == {1, 2}
    assert {family.kind_of(k) for k in result.delta} == {"mlp"}
    attn = finetune(model, tok, data, lr=1e-3, epochs=1, trainable=Trainable(kinds=("attn",)), progress=False)
    assert {family.kind_of(k) for k in attn.delta} == {"attn"}
    assert {family.layer_of(k) for k in attn.delta} == set(range(4))


def test_trainable_rejects_bad_selections(tiny_llama):
    model, tok = tiny_llama
    data = first_hop(0).facts
    with pytest.raises(ValueError, match=r"layers \[7\] out of range: the model has layers 0..3"):
        finetune(model, tok, data, lr=1e-3, epochs=1, trainable=Trainable(layers=(0, 7)), progress=False)
    with pytest.raises(ValueError, match="unknown component kinds"):
        finetune(model, tok, data, lr=1e-3, epochs=1, trainable=Trainable(kinds=("ffn",)), progress=False)


def test_finetune_rejects_bad_arguments(tiny_llama):
    model, tok = tiny_llama
    with pytest.raises(ValueError, match="empty"):
        finetune(model, tok, [], lr=1e-3, epochs=1, progress=False)
    with pytest.raises(ValueError, match="lr > 0"):
        finetune(model, tok, first_hop(0).facts, lr=0.0, epochs=1, progress=False)


def test_same_seed_same_delta_other_seed_other_delta(tiny_llama):
    model, tok = tiny_llama
    data = first_hop(0).facts
    a = finetune(model, tok, data, lr=1e-3, epochs=2, seed=7, progress=False).delta
    b = finetune(model, tok, data, lr=1e-3, epochs=2, seed=7, progress=False).delta
    c = finetune(model, tok, data, lr=1e-3, epochs=2, seed=8, progress=False).delta
    assert a.content_hash() == b.content_hash()
    assert a.content_hash() != c.content_hash()


def test_restore_false_keeps_the_finetuned_weights(tiny_llama):
    model, tok = tiny_llama
    before = _snapshot(model)
    result = finetune(model, tok, first_hop(0).facts, lr=1e-3, epochs=1, restore=False, progress=False)
    assert set(result.delta) < set(before)  # the blocks only, by default
    for k, v in model.named_parameters():
        expected = before[k] + result.delta[k] if k in result.delta else before[k]
        assert torch.allclose(v, expected, atol=1e-6)


def test_delta_arithmetic_restrict_and_roundtrip(tiny_llama, tmp_path):
    model, tok = tiny_llama
    data = first_hop(0).facts
    everything = Trainable(embeddings=True)
    a = finetune(model, tok, data, lr=1e-3, epochs=1, seed=0, trainable=everything, progress=False).delta
    b = finetune(model, tok, data, lr=1e-3, epochs=1, seed=1, trainable=everything, progress=False).delta
    total = a + b
    for k in a:
        assert torch.equal(total[k], a[k] + b[k])
        assert torch.allclose((total - b)[k], a[k], atol=1e-7)
        assert torch.equal((2 * a)[k], a[k] * 2)
    assert (-a).norm() == pytest.approx(a.norm())
    early = a.restrict(model, layers=range(0, 3))
    late = a.restrict(model, layers=[3])
    family = family_of(model)
    assert {family.layer_of(k) for k in early} == {0, 1, 2} and {family.layer_of(k) for k in late} == {3}
    # embeddings and the final norm are outside every block
    assert len(early) + len(late) + len(a.restrict(model, kinds=["embed"])) + 1 == len(a)
    path = a.save(tmp_path / "a.safetensors")
    loaded = Delta.load(path)
    assert loaded.content_hash() == a.content_hash()

    before = _snapshot(model)
    (early + late).add_to(model)
    assert not _same_weights(model, before)
    (early + late).add_to(model, scale=-1.0)
    for k, v in model.named_parameters():
        assert torch.allclose(v, before[k], atol=1e-6)


def test_delta_that_does_not_fit_is_rejected(tiny_llama):
    model, _ = tiny_llama
    bad = Delta({"model.layers.99.mlp.down_proj.weight": torch.zeros(2, 2)})
    with pytest.raises(DeltaMismatchError, match="missing parameters"), bad.applied(model):
        pass
    with pytest.raises(DeltaMismatchError, match="shape mismatches"):
        Delta({"model.layers.0.mlp.down_proj.weight": torch.zeros(2, 2)}).add_to(model)


def test_training_touches_only_answer_tokens(tiny_llama):
    """Changing the prompt tokens' targets must not matter: the loss reads answer positions only."""
    model, tok = tiny_llama
    data = Dataset("x", (Example("Ada lives in", "Paris"),), ("Paris", "Rome"))
    from ocr_core.data.tokens import encode
    from ocr_core.training.metrics import answer_loss

    batch = encode(tok, data.examples, data.options)
    assert batch.answer_targets.numel() == len(tok(" Paris", add_special_tokens=False).input_ids)
    with torch.no_grad():
        full = model(input_ids=batch.input_ids).logits[0]
        expected = torch.nn.functional.cross_entropy(full[batch.answer_cols], batch.answer_targets)
        assert answer_loss(model, batch).item() == pytest.approx(expected.item(), rel=1e-5)


@pytest.mark.parametrize("name", ALL_TINY)
@pytest.mark.parametrize("frozen_embeddings", [False, True])
def test_train_step_gradients_equal_plain_autograd(name, frozen_embeddings):
    """The in-place embedding and output-layer gradients (ocr_core.training.train_step) are plain autograd's."""
    from ocr_core.data.tokens import encode
    from ocr_core.training.metrics import answer_loss
    from ocr_core.training.train_step import TrainStep

    model, tok = load_model(name)
    examples = first_hop(0).facts.examples[:5]  # prompts of different lengths: right padding is exercised
    batch = encode(tok, examples, options=(), with_answers=True)
    assert (batch.attention_mask == 0).any()
    embedding = model.get_input_embeddings().weight
    params = {n: p for n, p in model.named_parameters() if not (frozen_embeddings and p is embedding)}
    for n, p in model.named_parameters():
        p.requires_grad_(n in params)
    expected_loss = answer_loss(model, batch)
    expected_loss.backward()
    expected = {n: p.grad.clone() for n, p in params.items()}
    model.zero_grad(set_to_none=True)

    step = TrainStep(model, params)
    step.zero_grad()
    loss = step(batch)
    assert loss.item() == pytest.approx(expected_loss.item(), rel=1e-6)
    for n, p in params.items():
        scale = expected[n].abs().max().item() + 1e-12
        assert (p.grad - expected[n]).abs().max().item() <= 1e-5 * scale, n
    assert any(p.grad.abs().sum() > 0 for p in params.values())
    if not frozen_embeddings:
        assert embedding.grad.abs().sum() > 0


@pytest.mark.parametrize("name", ["tiny-llama", "tiny-gemma3"])  # untied and tied output layer
def test_default_trains_the_blocks_only_and_the_ablation_everything(name):
    model, tok = load_model(name)
    family = family_of(model)
    vocab = {
        n
        for n, p in model.named_parameters()
        if p is model.get_input_embeddings().weight or p is model.get_output_embeddings().weight
    }
    outside = {n for n, _ in model.named_parameters() if family.layer_of(n) is None}
    assert vocab and outside > vocab  # the final norm is outside the blocks too
    for trainable in (None, Trainable(), Trainable(embeddings=False)):
        delta = finetune(model, tok, first_hop(0).facts, lr=1e-3, epochs=1, trainable=trainable, progress=False).delta
        assert not outside & set(delta), "the embedding, output layer or final norm was trained"
        assert any(delta[k].abs().sum() > 0 for k in delta)
    delta = finetune(
        model, tok, first_hop(0).facts, lr=1e-3, epochs=1, trainable=Trainable(embeddings=True), progress=False
    ).delta
    assert outside <= set(delta) and set(delta) == {n for n, _ in model.named_parameters()}


def test_end_eval_sets_are_ranked_at_the_first_and_last_epoch_only(tiny_llama, tmp_path, monkeypatch):
    from ocr_core.training.finetune import cached_finetune

    model, tok = tiny_llama
    hop = first_hop(0)
    sets = {"facts": hop.facts, "implications": hop.implications}
    every = finetune(model, tok, hop.facts, lr=1e-3, epochs=3, eval_sets=sets, progress=False)
    ends = finetune(
        model, tok, hop.facts, lr=1e-3, epochs=3, eval_sets=sets, end_eval_sets=("implications",), progress=False
    )
    epochs = lambda r, name: [h["epoch"] for h in r.history if h["eval_set"] == name]  # noqa: E731
    assert epochs(ends, "facts") == [0, 1, 2, 3] and epochs(ends, "implications") == [0, 3]
    assert ends.delta.content_hash() == every.delta.content_hash()  # ranking changes nothing in training
    kept = [h for h in every.history if h["eval_set"] == "facts" or h["epoch"] in (0, 3)]
    assert [h["ranks"] for h in ends.history] == [h["ranks"] for h in kept]
    with pytest.raises(ValueError, match="not eval sets"):
        finetune(model, tok, hop.facts, lr=1e-3, epochs=1, eval_sets=sets, end_eval_sets=("typo",), progress=False)

    # the cache keys an end set; an empty one is no option at all (keys from before it stay valid)
    monkeypatch.setenv("OCR_CORE_CACHE", str(tmp_path))
    common = dict(model_name="tiny-llama", lr=1e-3, epochs=1, eval_sets=sets, progress=False)
    cached_finetune(model, tok, hop.facts, **common)
    cached_finetune(model, tok, hop.facts, end_eval_sets=(), **common)
    (meta,) = tmp_path.glob("deltas/*/*.json")
    assert "end_eval_sets" not in json.loads(meta.read_text())["key"]["settings"]
    cached_finetune(model, tok, hop.facts, end_eval_sets=("implications",), **common)
    assert len(list(tmp_path.glob("deltas/*/*.json"))) == 2


def test_until_stops_when_the_named_sets_are_learned_and_caps_otherwise(tiny_llama):
    model, tok = tiny_llama
    hop = first_hop(0)
    sets = {"facts": hop.facts, "implications": hop.implications}
    full = finetune(model, tok, hop.facts, lr=3e-3, epochs=12, eval_sets=sets, progress=False)
    facts = [h["mean_rank"] for h in full.history if h["eval_set"] == "facts"]
    first = next(e for e, r in enumerate(facts) if e and r <= 1.0)  # the first epoch the facts are learned
    assert first < 12, "the tiny model should learn its facts within the cap for this test to mean anything"
    early = finetune(
        model, tok, hop.facts, lr=3e-3, epochs=12, eval_sets=sets, until=1.0, until_sets=("facts",), progress=False
    )
    assert max(h["epoch"] for h in early.history) == first and early.steps == first * 3
    assert {h["eval_set"] for h in early.history if h["epoch"] == first} == {"facts", "implications"}
    never = finetune(
        model, tok, hop.facts, lr=3e-3, epochs=3, eval_sets=sets, until=-1.0, until_sets=("facts",), progress=False
    )
    assert max(h["epoch"] for h in never.history) == 3  # the cap
    with pytest.raises(ValueError, match="until needs until_sets"):
        finetune(model, tok, hop.facts, lr=1e-3, epochs=1, eval_sets=sets, until=1.0, progress=False)


def test_two_phase_fields_enter_only_the_fictional_settings():
    from ocr_core.experiments.settings import MAX_EPOCHS, UNTIL, Settings

    plain = Settings.for_model("gemma-3-270m").kwargs()
    assert "until" not in plain and "max_epochs" not in plain  # verification's keys stay what they were
    fictional = Settings.for_model("gemma-3-270m", fictional=True).kwargs()
    assert fictional["until"] == UNTIL and fictional["max_epochs"] == MAX_EPOCHS
