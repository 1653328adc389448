"""Placement (device, dtype) reaches the model, tags results and cached deltas, and the run-level memory check
refuses what will not fit."""

import json
import math

import pytest
import torch

from ocr_core.experiments.extractive_scores import scores
from ocr_core.experiments.ocr_verification import verify
from ocr_core.models.memory import MemoryPlanError
from ocr_core.models.placement import lost_update_fraction, resolve


@pytest.fixture(autouse=True)
def _private_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("OCR_CORE_CACHE", str(tmp_path / "cache"))
    for var in ("OCR_CORE_DEVICE", "OCR_CORE_DTYPE", "OCR_CORE_DEVICE_MAP"):
        monkeypatch.delenv(var, raising=False)


def test_default_placement_on_this_cpu_has_no_tag_and_env_overrides(monkeypatch):
    assert resolve("gemma-3-270m").tag == "" and resolve("tiny-llama").dtype == "float32"
    assert resolve("allenai/OLMo-7B-0424-hf", device="cuda").dtype == "bfloat16"
    assert resolve("allenai/OLMo-7B-0424-hf", device="cpu").dtype == "float32"
    monkeypatch.setenv("OCR_CORE_DTYPE", "bfloat16")
    assert resolve("tiny-llama").tag == "bfloat16-cpu"
    assert resolve("tiny-llama", device_map="auto").tag == "bfloat16-auto"
    with pytest.raises(ValueError, match="unknown dtype"):
        resolve("tiny-llama", dtype="float33")


def test_bf16_runs_are_kept_apart_from_float32_runs(monkeypatch, tmp_path):
    fp32 = verify("tiny-llama", lr=1e-3, epochs=1, seeds=[0], hops=["first_hop"], results=tmp_path, progress=False)
    monkeypatch.setenv("OCR_CORE_DTYPE", "bfloat16")
    bf16 = verify("tiny-llama", lr=1e-3, epochs=1, seeds=[0], hops=["first_hop"], results=tmp_path, progress=False)
    assert bf16.path != fp32.path and json.loads((bf16.path / "config.json").read_text())["placement"] == "bfloat16-cpu"
    assert "placement" not in json.loads((fp32.path / "config.json").read_text())
    deltas = tmp_path / "cache" / "deltas"
    assert sorted(p.name for p in deltas.iterdir()) == ["tiny-llama", "tiny-llama@bfloat16-cpu"]
    raw = scores(
        "tiny-llama", hops=["first_hop"], lr=1e-3, epochs=1, n_counterfactuals=3, results=tmp_path, progress=False
    ).records()
    values = [r["value"] for r in raw]
    assert {r["score"] for r in raw} == {"informative", "upstream", "downstream"}
    assert all(math.isfinite(v) for v in values) and any(v != 0 for v in values)


def test_updates_below_bf16_spacing_are_reported_and_warned(monkeypatch, tmp_path):
    w = torch.full((1000,), 0.02)
    assert lost_update_fraction([w], 3e-6) == 0.0
    assert lost_update_fraction([w.bfloat16()], 3e-6) == 1.0
    assert lost_update_fraction([w.bfloat16()], 1e-3) == 0.0
    monkeypatch.setenv("OCR_CORE_DTYPE", "bfloat16")
    with pytest.warns(UserWarning, match="too large for an Adam step of lr=3e-06"):
        verify("tiny-llama", lr=3e-6, epochs=1, seeds=[0], hops=["first_hop"], results=tmp_path, progress=False)


def test_a_run_that_will_not_fit_is_refused_before_loading(monkeypatch, tmp_path):
    import ocr_core.models.memory as memory

    monkeypatch.setattr(memory, "available_bytes", lambda device: 1_000_000)  # 1 MB free
    with pytest.raises(MemoryPlanError, match=r"(?s)adam_moments.*needs .* GiB but this machine's memory has 0\.0"):
        verify("tiny-llama", lr=1e-3, epochs=1, seeds=[0], hops=["first_hop"], results=tmp_path, progress=False)
    assert not (tmp_path / "ocr_verification").exists() or not list(tmp_path.rglob("DONE"))
