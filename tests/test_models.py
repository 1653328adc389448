import time

import pytest
import torch

from ocr_core.arch.families import UnsupportedArchitecture, family_of, num_layers
from ocr_core.data import DEFAULT_POOL, Dataset, Example, city_pool
from ocr_core.models.hub import ModelUnavailableError
from ocr_core.models.loading import load_model
from ocr_core.store.io import cache_root
from ocr_core.training.deltas import Delta
from ocr_core.training.finetune import finetune
from ocr_core.training.metrics import mean_rank, ranks


def known_languages() -> Dataset:
    """A fact every pretrained model should know: the language spoken in a capital city."""
    pool = city_pool(DEFAULT_POOL)
    return Dataset(
        "known.language",
        tuple(Example(f"The people in {c.city} speak", c.language, c.city) for c in pool),
        tuple(c.language for c in pool),
    )


@pytest.mark.parametrize(
    ("fixture", "family", "depth", "threshold"), [("gemma", "gemma3", 18, 1.0), ("smollm", "llama", 30, 2.0)]
)
def test_embedded_model_loads_and_knows_facts(request, fixture, family, depth, threshold):
    model, tok = request.getfixturevalue(fixture)
    assert family_of(model).name == family and num_layers(model) == depth
    assert next(model.parameters()).dtype == torch.float32
    ds = known_languages()
    r = ranks(model, tok, ds)
    assert r.shape == (20,)
    # Chance is 9.5; a model that read the web ranks the right language near the top.
    assert r.float().mean().item() < threshold


@pytest.mark.parametrize("name", ["gemma-3-270m", "smollm2-135m"])
def test_embedded_models_are_cached_as_safetensors(request, name):
    request.getfixturevalue("gemma" if name.startswith("gemma") else "smollm")
    folder = cache_root() / "models" / name
    assert (folder / "DONE").exists() and (folder / "model.safetensors").exists()
    started = time.perf_counter()
    model, _ = load_model(name, progress=False)
    # a cached load reads safetensors instead of de-quantizing; it is fast enough for a test to repeat
    assert time.perf_counter() - started < 30
    assert "quantization_config" not in model.config.to_dict()


@pytest.mark.parametrize("fixture", ["gemma", "smollm"])
def test_one_finetune_step_changes_weights_and_apply_revert_is_exact(request, fixture):
    model, tok = request.getfixturevalue(fixture)
    before = {k: v.detach().clone() for k, v in model.named_parameters()}
    data = Dataset("one", (Example("Zorblat Quenn lives in", "Paris"),), ("Paris", "Rome"))
    result = finetune(model, tok, data, lr=1e-4, epochs=1, batch_size=1, progress=False)
    assert result.steps == 1
    # restored exactly after finetuning
    assert all(torch.equal(before[k], v) for k, v in model.named_parameters())
    # the step moved the weights (Adam's first step moves every parameter with a gradient by ~lr)
    changed = [k for k, d in result.delta.items() if d.abs().max() > 0]
    assert len(changed) > 0.9 * len(result.delta)
    with result.delta.applied(model):
        assert not all(torch.equal(before[k], v) for k, v in model.named_parameters())
        after_rank = mean_rank(model, tok, data)
    assert after_rank <= mean_rank(model, tok, data)
    assert all(torch.equal(before[k], v) for k, v in model.named_parameters())


def test_apply_restores_even_when_the_block_raises(smollm):
    model, _ = smollm
    name, param = next(iter(model.named_parameters()))
    before = param.detach().clone()
    delta = Delta({name: torch.ones_like(param)})
    with pytest.raises(RuntimeError, match="boom"), delta.applied(model):
        assert not torch.equal(param, before)
        raise RuntimeError("boom")
    assert torch.equal(param, before)


def test_unreachable_hub_id_gives_one_clear_error(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelUnavailableError, match=r"gemma-3-270m.*smollm2-135m"):
        load_model("allenai/OLMo-7B-0424-hf")


def test_unreachable_hub_endpoint_fails_fast(monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("HF_ENDPOINT", "https://127.0.0.1:9")  # nothing listens there: refused at once
    with pytest.raises(ModelUnavailableError, match="cannot be reached"):
        load_model("google/gemma-2-9b")


def test_unsupported_architecture_lists_supported_ones():
    from transformers import BertConfig

    with pytest.raises(UnsupportedArchitecture, match=r"'bert'.*gemma2.*llama.*olmo.*qwen2"):
        family_of(BertConfig())
