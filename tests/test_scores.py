import pytest
import torch

from conftest import ALL_TINY
from ocr_core.arch.components import attn_part_path, components, coverage, mlp_path, parse
from ocr_core.arch.families import family_of, head_geometry
from ocr_core.arch.hooks import capture
from ocr_core.data import first_hop, second_hop
from ocr_core.data.counterfactuals import sample_counterfactuals
from ocr_core.data.tokens import encode, validate
from ocr_core.models.loading import load_model
from ocr_core.scoring.scores import (
    SCORES,
    _loss,
    align,
    extractive_scores,
    heatmap,
    reference_scores,
    score_table,
    template,
)
from ocr_core.training.finetune import finetune


def _setup(name, n_items=8, scale=1.0):
    """A tiny model, its first-hop implications and a (scaled) delta from finetuning the facts."""
    model, tok = load_model(name)
    data = first_hop(0)
    delta = finetune(model, tok, data.facts, lr=1e-3, epochs=2, progress=False).delta * scale
    return model, tok, data.implications.subset(range(n_items)), delta


@pytest.mark.parametrize("name", ALL_TINY)
def test_informative_scores_sum_to_minus_grad_dot_delta(name):
    model, tok, test, delta = _setup(name)
    raw = extractive_scores(model, tok, test, delta, n_counterfactuals=2)
    batch = encode(tok, test.examples, test.options, with_answers=False)
    loss = _loss(model, batch, torch.tensor(validate(test, tok)))
    family = family_of(model)
    names = [n for n, _ in model.named_parameters() if family.kind_of(n) in ("attn", "mlp")]
    params = dict(model.named_parameters())
    grads = torch.autograd.grad(loss, [params[n] for n in names])
    expected = -sum((g * delta[n]).sum() for g, n in zip(grads, names, strict=True)).item()
    total = (raw.mlp["informative"].sum() + raw.head["informative"].sum()).item()
    assert total == pytest.approx(expected, rel=1e-4, abs=1e-6)
    assert abs(expected) > 1e-4  # the check is not vacuous


@pytest.mark.parametrize("name", ["tiny-llama", "tiny-gemma3", "tiny-gpt2"])
def test_downstream_is_minus_the_first_order_effect_of_patching_the_input(name):
    # float64 and a small delta: the loss change is then first order to many digits
    model, tok, test, delta = _setup(name, n_items=6, scale=1e-3)
    model.double()
    raw = extractive_scores(model, tok, test, delta, n_counterfactuals=2)
    family = family_of(model)
    d_head = head_geometry(model)[2]
    option_ids = torch.tensor(validate(test, tok))
    batch = encode(tok, test.examples, test.options, with_answers=False)
    layer = 1
    mlp, o = mlp_path(family, layer), attn_part_path(family, layer, family.o)
    attn = ".".join(o.split(".")[:-1])
    # inputs of the layer's MLP and attention under theta + delta ...
    with delta.applied(model), capture(model, calls=[mlp, attn]) as rec, torch.no_grad():
        _loss(model, batch, option_ids)
    # ... fed to the components with their old weights
    with torch.no_grad():
        z_mlp = model.get_submodule(mlp)(*rec.calls[mlp][0], **rec.calls[mlp][1])
        with capture(model, inputs=[o]) as rec_o:
            model.get_submodule(attn)(*rec.calls[attn][0], **rec.calls[attn][1])
        z_heads = rec_o.inputs[o]
        base_loss = _loss(model, batch, option_ids).item()

    def patched_loss(hook_module, hook):
        handle = hook_module.register_forward_hook(hook) if hook_module is not None else None
        try:
            with torch.no_grad():
                return _loss(model, batch, option_ids).item()
        finally:
            handle.remove()

    change = patched_loss(model.get_submodule(mlp), lambda m, a, out: z_mlp) - base_loss
    predicted = raw.mlp["downstream"][:, :, layer].sum().item()
    assert abs(change) > 1e-7
    assert -predicted == pytest.approx(change, rel=0.02)

    h = 1
    sl = slice(h * d_head, (h + 1) * d_head)

    def patch_head(module, args):
        x = args[0].clone()
        x[..., sl] = z_heads[..., sl]
        return (x,)

    handle = model.get_submodule(o).register_forward_pre_hook(patch_head)
    try:
        with torch.no_grad():
            change = _loss(model, batch, option_ids).item() - base_loss
    finally:
        handle.remove()
    predicted = raw.head["downstream"][:, :, layer, h].sum().item()
    assert abs(change) > 1e-8
    assert -predicted == pytest.approx(change, rel=0.02)


def test_upstream_vanishes_when_the_counterfactual_is_the_prompt():
    model, tok, test, delta = _setup("tiny-qwen2")
    same = extractive_scores(model, tok, test, delta, counterfactuals=[[i, i] for i in range(len(test))])
    assert same.mlp["upstream"].abs().max() == 0 and same.head["upstream"].abs().max() == 0
    other = extractive_scores(model, tok, test, delta, n_counterfactuals=3)
    assert other.mlp["upstream"].abs().max() > 1e-6
    # the other scores do not depend on the counterfactuals
    assert torch.equal(same.mlp["downstream"], other.mlp["downstream"])


@pytest.mark.parametrize("name", ALL_TINY)
def test_component_parameters_cover_every_attention_and_mlp_parameter_once(name):
    model, _ = load_model(name)
    for layer in (0, 3):
        cover = coverage(model, layer)
        attn_params = [n for n in cover if family_of(model).kind_of(n) == "attn"]
        assert attn_params and len(cover) > len(attn_params)
        for pname, total in cover.items():
            assert torch.allclose(total, torch.ones_like(total)), pname


def test_batched_scores_equal_the_per_sample_reference():
    model, tok, test, delta = _setup("tiny-gemma2", n_items=6)
    cfs = sample_counterfactuals(test, 3, seed=1)
    ours = extractive_scores(model, tok, test, delta, counterfactuals=cfs)
    ref = reference_scores(model, tok, test, delta, counterfactuals=cfs)
    assert ours.max_abs_diff(ref) < 1e-5
    assert max(ref.mlp[s].abs().max().item() for s in SCORES) > 1e-3


def test_alignment_keeps_prefix_suffix_and_right_aligns_the_middle():
    a = [1, 2, 10, 11, 12, 3, 4]
    b = [1, 2, 20, 3, 4]
    assert align(a, b) == [0, 1, 2, 2, 2, 3, 4]  # longer middle: clamped to b's first middle token
    assert align(b, a) == [0, 1, 4, 5, 6]  # shorter middle: its last token meets a's last middle token
    assert align(a, a) == list(range(7))


def test_template_slots(tiny_tok):
    data = second_hop(0).implications
    tmpl = template(tiny_tok, data)
    assert tmpl.labels[0].endswith(":The") and tmpl.labels[-1].endswith(":is")
    assert any("subject[-1]" in label for label in tmpl.labels)
    for ex, slots in zip(data.examples, tmpl.slot_of, strict=True):
        assert len(slots) == len(tiny_tok(ex.prompt).input_ids)
        assert slots[-1] == len(tmpl.labels) - 1  # the last token always lands on the last slot


def test_counterfactuals_differ_in_subject_and_answer():
    data = first_hop(0).implications
    cfs = sample_counterfactuals(data, 10, seed=3)
    assert cfs == sample_counterfactuals(data, 10, seed=3) != sample_counterfactuals(data, 10, seed=4)
    for i, row in enumerate(cfs):
        assert len(set(row)) == 10 and i not in row
        assert all(data.examples[j].answer != data.examples[i].answer for j in row)
    with pytest.raises(ValueError, match="possible counterfactuals"):
        sample_counterfactuals(data.subset(range(3)), 10)


def test_score_table_and_heatmap():
    model, tok, test, delta = _setup("tiny-llama", n_items=5)
    raw = extractive_scores(model, tok, test, delta, n_counterfactuals=2)
    tmpl = template(tok, test)
    table = score_table(raw, tmpl)
    n_layers, n_heads = 4, 4
    assert len(table) == len(SCORES) * len(tmpl.labels) * n_layers * (1 + n_heads)
    assert set(table.component) == {c.name for c in components(model)}
    grid = heatmap(table, "informative", "head")
    assert grid.shape == (n_layers, len(tmpl.labels))
    heads = table[(table.score == "informative") & (table.kind == "head") & (table.layer == 2)]
    assert grid.loc[2].sum() == pytest.approx(heads.value.sum())
    assert parse("head.2.3").name == "head.2.3" and parse("mlp.1").kind == "mlp"


def test_cached_finetune_reuses_the_delta(monkeypatch, tmp_path, tiny_llama):
    import importlib

    ft = importlib.import_module("ocr_core.training.finetune")  # the module (the package re-exports the function)

    monkeypatch.setenv("OCR_CORE_CACHE", str(tmp_path))
    model, tok = tiny_llama
    data = first_hop(0).facts
    first = ft.cached_finetune(model, tok, data, model_name="tiny-llama", lr=1e-3, epochs=1, progress=False)
    assert list((tmp_path / "deltas" / "tiny-llama").glob("*.safetensors"))

    def no_training(*args, **kwargs):
        raise AssertionError("trained again instead of reusing the cached delta")

    monkeypatch.setattr(ft, "finetune", no_training)
    again = ft.cached_finetune(model, tok, data, model_name="tiny-llama", lr=1e-3, epochs=1, progress=False)
    assert again.delta.content_hash() == first.delta.content_hash() and again.history == first.history
    with pytest.raises(AssertionError, match="trained again"):  # another setting or base is another key
        ft.cached_finetune(model, tok, data, model_name="tiny-llama", lr=1e-3, epochs=1, base="abc", progress=False)


def test_scores_cli_writes_a_table(tmp_path, monkeypatch):
    import json
    import subprocess
    import sys

    monkeypatch.setenv("OCR_CORE_CACHE", str(tmp_path / "cache"))
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "ocr_core",
            "extractive-scores",
            "--model",
            "tiny-olmo",
            "--epochs",
            "1",
            "--counterfactuals",
            "2",
            "--hops",
            "second_hop",
            "--results",
            str(tmp_path),
            "--quiet",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "top_half_layers" in out.stdout
    (records,) = tmp_path.glob("extractive_scores/tiny-olmo/*/records.json")
    rows = json.loads(records.read_text())
    assert {r["score"] for r in rows} == set(SCORES) and {r["hop"] for r in rows} == {"second_hop"}
