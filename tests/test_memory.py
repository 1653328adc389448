"""The memory plan against the measured peak resident memory of real CPU runs.

Each measurement runs in a fresh process: resident memory before the model is built, then the high-water
mark (VmHWM) after a finetune or a scores computation on a random Llama-architecture model large enough
(~70 M parameters, 280 MB in float32) for the weights and optimizer states to dominate the process.
Tolerance: the measured increase is within 25% of the plan's peak.
"""

import json
import subprocess
import sys

import pytest
import torch

from ocr_core.models.memory import (
    MemoryPlanError,
    Shapes,
    check_fits,
    meta_model,
    plan_finetune,
    plan_scores,
    shapes_of,
)

TOLERANCE = 0.25

PROBE = r"""
import json, sys, torch
from transformers import LlamaConfig, AutoModelForCausalLM
from ocr_core.data import first_hop
from ocr_core.training.finetune import finetune
from ocr_core.arch.trainable import Trainable
from ocr_core.models.memory import shapes_of, plan_finetune, plan_scores
from ocr_core.models.tiny import tiny_tokenizer

def rss(field):
    for line in open("/proc/self/status"):
        if line.startswith(field):
            return int(line.split()[1]) * 1024

mode, frozen = sys.argv[1], int(sys.argv[2])
torch.set_num_threads(1)
tok = tiny_tokenizer()
data = first_hop(0)
config = LlamaConfig(vocab_size=len(tok), hidden_size=512, intermediate_size=1024, num_hidden_layers=8,
                     num_attention_heads=8, num_key_value_heads=4, pad_token_id=tok.pad_token_id,
                     bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id)
trainable = Trainable(frozen_layers=tuple(range(frozen)), embeddings=frozen == 0)
before = rss("VmRSS")
torch.manual_seed(0)
model = AutoModelForCausalLM.from_config(config, dtype=torch.float32).eval()
shapes = shapes_of(model, trainable)
if mode == "finetune":
    finetune(model, tok, data.facts, lr=1e-4, epochs=1, trainable=trainable, progress=False)
    plan = plan_finetune(shapes)
else:
    from ocr_core.training.deltas import Delta
    from ocr_core.scoring.scores import extractive_scores
    delta = Delta({n: 1e-3 * torch.randn_like(p) for n, p in model.named_parameters()})
    extractive_scores(model, tok, data.implications, delta, n_counterfactuals=5)
    plan = plan_scores(shapes, prompts=len(data.implications))
print(json.dumps(dict(measured=rss("VmHWM") - before, planned=plan.total)))
"""


def _measure(mode: str, frozen: int) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", PROBE, mode, str(frozen)], capture_output=True, text=True, check=True, timeout=600
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(("mode", "frozen"), [("finetune", 0), ("finetune", 6), ("scores", 0)])
def test_plan_matches_measured_peak(mode, frozen):
    got = _measure(mode, frozen)
    ratio = got["measured"] / got["planned"]
    print(f"{mode} frozen={frozen}: measured {got['measured'] / 2**20:.0f} MiB, planned {got['planned'] / 2**20:.0f}")
    assert abs(ratio - 1) <= TOLERANCE, got


def test_plan_from_meta_config_allocates_nothing_and_counts_exactly(tiny_llama):
    from ocr_core.arch.trainable import Trainable

    model, _ = tiny_llama
    meta = meta_model(model.config)
    assert all(p.device.type == "meta" for p in meta.parameters())
    real, planned = shapes_of(model), shapes_of(meta)
    assert planned == real and real.parameters == sum(p.numel() for p in model.parameters())
    frozen = shapes_of(meta, Trainable(frozen_layers=(0, 1)))
    assert frozen.trainable < real.trainable
    full, part = plan_finetune(real), plan_finetune(frozen)
    assert full.items["weights"] == part.items["weights"] and full.peak > part.peak


def test_refuses_what_does_not_fit_with_the_plan_in_the_message():
    # Llama-3-8B-like shapes in bf16: weights 16 GB, full finetuning about 6x that.
    shapes = Shapes(8_030_000_000, 8_030_000_000, 32, 4096, 14336, 32, 128256, torch.bfloat16)
    plan = plan_finetune(shapes)
    assert 70 * 2**30 < plan.peak < 80 * 2**30 and 29 * 2**30 < plan.host_peak < 31 * 2**30
    check_fits(plan, 141 * 2**30)  # one H200
    with pytest.raises(MemoryPlanError, match=r"adam_moments .*\n(.*\n)*needs 7\d\.\d GiB but one H100 has 70\.0"):
        check_fits(plan, 70 * 2**30, where="one H100")
    with pytest.raises(MemoryPlanError, match="needs 10"):  # on a CPU the delta shares the same memory
        check_fits(plan, 100 * 2**30, cpu=True)
    assert plan_scores(shapes).peak < plan.peak


RELEASE = """
from ocr_core.models.memory import release
def rss():
    return int(open('/proc/self/statm').read().split()[1]) * 4096
keep, junk = [], []
for i in range(100_000):  # 400 MB of 4 kB blocks on the heap; one in 16 stays, so free() alone cannot trim it
    b = bytearray(4000)
    b[::512] = b'\\x01' * 8
    (keep if i % 16 == 0 else junk).append(b)
del junk
import gc; gc.collect()
before = rss(); release(); print(before - rss())
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="malloc_trim is glibc's")
def test_release_returns_freed_heap_pages_to_the_system():
    """A fresh process, so the heap holds only this test's blocks."""
    out = subprocess.run([sys.executable, "-c", RELEASE], capture_output=True, text=True, check=True).stdout
    assert int(out) > 200e6  # about 375 MB of the 400 MB freed comes back


def test_a_delta_is_written_as_safetensors_without_a_copy_of_it_in_memory(tmp_path, monkeypatch):
    """Delta.save streams the tensors' own memory into the file: the file is what safetensors reads back (every
    shape, a scalar too), and the library's whole-file `save` (+2.1 GB at the peak for a 1.07 GB Gemma delta) is
    not called."""
    import safetensors.torch
    import torch
    from safetensors import safe_open

    from ocr_core.training import deltas
    from ocr_core.training.deltas import Delta

    def refuse(*_, **__):
        raise AssertionError("built the whole file in memory")

    monkeypatch.setattr(safetensors.torch, "save", refuse)
    monkeypatch.setattr(deltas, "save", refuse, raising=False)  # a module that imported it by name
    g = torch.Generator().manual_seed(0)
    delta = Delta(
        {
            "b.weight": torch.randn(3, 4, generator=g),
            "a.bias": torch.randn(5, generator=g),
            "scale": torch.tensor(2.5),
            "t": torch.randn(2, 3, 4, generator=g)[:, 1],
        }
    )  # not contiguous
    path = delta.save(tmp_path / "d.safetensors")
    back = safetensors.torch.load_file(str(path))
    assert set(back) == set(delta) and all(torch.equal(back[k], delta[k]) for k in delta)
    with safe_open(str(path), "pt") as f:
        assert f.get_slice("b.weight").get_shape() == [3, 4]
    assert Delta.load(path).content_hash() == delta.content_hash()
