"""Memory plan for a run: how many bytes the weights, gradients, Adam states, saved copies and activations
take, for finetuning and for the extractive scores, checked against a device before anything is loaded.

What `ocr_core.training.finetune` keeps alive at its peak (the end of training), on the model's device:

  weights W (every parameter) + snapshot of the trained parameters T (to restore them) + their gradients T
  + Adam's two moments 2T (torch keeps them in the parameter dtype) + activations of one training step

and in host memory the delta (new - old, always float32 on the CPU: `ocr_core.training.deltas.Delta`), plus any
base delta held while training on top of one. The extractive scores hold W, the saved copy of T while the delta
is applied, and the captured component outputs, inputs and gradients of the passes over the test prompts
(short: about 16 tokens), in float32 (gradients are taken with respect to component outputs, never weights);
the delta on the host.
On a CPU, device and host are the same memory and the plan adds them.

The plan is an estimate from the configuration (shapes and dtype, on the meta device: nothing is
allocated); `tests/test_memory.py` checks it against the peak resident memory of real CPU runs.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field

import torch

from ocr_core.errors import UserError, one_line

GIB = 1024**3


class MemoryPlanError(UserError, RuntimeError):
    """The plan does not fit the device; the message holds the plan and what to change."""

    def line(self) -> str:
        """The verdict without the plan's table (its last line: what is needed, what is free, what to change)."""
        return "memory plan: " + one_line(str(self).splitlines()[-1])


@dataclass(frozen=True)
class Shapes:
    """What the plan needs to know of a model: parameter counts and the sizes activations scale with."""

    parameters: int
    trainable: int
    layers: int
    hidden: int
    intermediate: int
    heads: int
    vocab: int
    dtype: torch.dtype = torch.float32

    @property
    def bytes_per_value(self) -> int:
        return torch.finfo(self.dtype).bits // 8 if self.dtype.is_floating_point else 4


def _config_dims(config) -> dict[str, int]:
    text = config.get_text_config() if hasattr(config, "get_text_config") else config
    hidden = getattr(text, "hidden_size", None) or text.n_embd
    return dict(
        layers=getattr(text, "num_hidden_layers", None) or text.n_layer,
        hidden=hidden,
        intermediate=getattr(text, "intermediate_size", None) or getattr(text, "n_inner", None) or 4 * hidden,
        heads=getattr(text, "num_attention_heads", None) or text.n_head,
        vocab=text.vocab_size,
    )


def shapes_of(model, trainable=None) -> Shapes:
    """Shapes of a model (real or on the meta device); `trainable`: an `ocr_core.training.finetune.Trainable`."""
    from ocr_core.arch.trainable import Trainable

    params = {id(p): p for p in model.parameters()}  # tied weights once
    chosen = {id(p): p for p in (trainable or Trainable()).select(model).values()}
    dtype = next(iter(params.values())).dtype
    return Shapes(
        parameters=sum(p.numel() for p in params.values()),
        trainable=sum(p.numel() for p in chosen.values()),
        dtype=dtype,
        **_config_dims(model.config),
    )


def meta_model(config, dtype: torch.dtype = torch.float32):
    """The model of `config` on the meta device: every shape, no memory."""
    from transformers import AutoModelForCausalLM

    with torch.device("meta"):
        return AutoModelForCausalLM.from_config(config, dtype=dtype)


@dataclass(frozen=True)
class MemoryPlan:
    """Bytes per item for one run: `items` on the model's device, `host` in CPU memory."""

    mode: str
    shapes: Shapes
    items: dict[str, int] = field(default_factory=dict)
    host: dict[str, int] = field(default_factory=dict)

    @property
    def peak(self) -> int:
        """Peak on the model's device."""
        return sum(self.items.values())

    @property
    def host_peak(self) -> int:
        return sum(self.host.values())

    @property
    def total(self) -> int:
        """Device and host together (what a CPU run needs)."""
        return self.peak + self.host_peak

    def table(self) -> str:
        s = self.shapes
        head = (
            f"memory plan ({self.mode}): {s.parameters / 1e9:.3f} B parameters, {s.trainable / 1e9:.3f} B trained, "
            f"{str(s.dtype).removeprefix('torch.')}"
        )
        rows = [f"  {name:<28} {size / GIB:9.3f} GiB" for name, size in self.items.items()]
        rows.append(f"  {'device peak':<28} {self.peak / GIB:9.3f} GiB")
        rows += [f"  {name + ' (host)':<28} {size / GIB:9.3f} GiB" for name, size in self.host.items()]
        return "\n".join([head, *rows])


def plan_finetune(
    shapes: Shapes, *, batch_size: int = 8, seq_len: int = 32, answer_len: int = 4, base_delta: bool = False
) -> MemoryPlan:
    """Peak memory of `ocr_core.training.finetune.finetune` (see the module docstring)."""
    b, s = shapes.bytes_per_value, shapes
    tokens = batch_size * seq_len
    # Saved for backward per token and layer: the inputs of the attention projections and of the MLP, the
    # attention output, the MLP's gate, up and activation outputs, norms; plus attention probabilities.
    per_token_layer = 10 * s.hidden + 4 * s.intermediate + 2 * s.heads * seq_len
    items = dict(
        weights=s.parameters * b,
        snapshot_of_trained=s.trainable * b,
        gradients=s.trainable * b,
        adam_moments=2 * s.trainable * b,
        activations=tokens * s.layers * per_token_layer * b + 3 * batch_size * answer_len * s.vocab * 4,
    )
    host = dict(delta=s.trainable * 4)
    if base_delta:
        host["base_delta"] = s.trainable * 4
    return MemoryPlan("finetune", shapes, items, host)


def plan_scores(shapes: Shapes, *, prompts: int = 20, seq_len: int = 16) -> MemoryPlan:
    """Peak memory of `ocr_core.scoring.scores.extractive_scores` (see the module docstring)."""
    b, s = shapes.bytes_per_value, shapes
    tokens = prompts * seq_len
    # Per pass, token and layer, in float32: attention and MLP outputs, their gradients and inputs, the
    # MLP's hidden activations (for the informative score's weight products), per-head outputs.
    per_token_layer = 12 * s.hidden + 4 * s.intermediate + 2 * s.heads * seq_len
    items = dict(
        weights=s.parameters * b,
        saved_while_applied=s.trainable * b,
        captured_passes=2 * tokens * s.layers * per_token_layer * 4,
    )
    return MemoryPlan("scores", shapes, items, dict(delta=s.trainable * 4))


def available_bytes(device: str | torch.device) -> int:
    """Free memory on `device`: CUDA's free memory, or the system's available memory for the CPU."""
    device = torch.device(device)
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return free
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES")


def check_fits(
    plan: MemoryPlan, available: int, *, headroom: float = 0.9, where: str = "the device", cpu: bool = False
) -> None:
    """Raise `MemoryPlanError` (with the plan) if the device peak (`cpu`: device + host) exceeds `headroom` x
    `available` bytes."""
    need = plan.total if cpu else plan.peak
    if need <= headroom * available:
        return
    raise MemoryPlanError(
        f"{plan.table()}\nneeds {need / GIB:.1f} GiB but {where} has {available / GIB:.1f} GiB free "
        f"({headroom:.0%} usable). Options: more GPUs with device_map='auto' (the plan divides across them), "
        "freeze part of the model (Trainable(layers=...)), a lower-precision dtype, or a smaller model."
    )


def model_config(name: str):
    """The Hugging Face config of model `name` without loading its weights (embedded: from the de-quantized
    cache, made on first use; tiny: built; hub ids and paths: `AutoConfig`, local files first, the hub only
    when it can be reached: `ocr_core.models.hub.from_local_or_hub`)."""
    from transformers import AutoConfig

    from ocr_core.models.hub import from_local_or_hub
    from ocr_core.models.presets import EMBEDDED, TINY_MODELS
    from ocr_core.store.io import cache_root

    if name in TINY_MODELS:
        from ocr_core.models.tiny import tiny_config, tiny_tokenizer

        return tiny_config(name, tiny_tokenizer())
    if name in EMBEDDED:
        target = cache_root() / "models" / name
        if not (target / "DONE").exists():
            from ocr_core.models.loading import load_model

            load_model(name, device="cpu")  # de-quantizes and caches once
        return AutoConfig.from_pretrained(target)
    return from_local_or_hub(name, AutoConfig.from_pretrained)


def plans_for(name: str, dtype: str = "float32", trainable=None, *, batch_size: int = 8) -> list[MemoryPlan]:
    """Finetuning and scores plans for model `name` in `dtype`, from its config on the meta device."""
    shapes = shapes_of(meta_model(model_config(name), getattr(torch, dtype)), trainable)
    return [plan_finetune(shapes, batch_size=batch_size, base_delta=True), plan_scores(shapes)]


def finetune_peak(name: str) -> int:
    """The largest CPU finetune plan (device and host) of model `name` in float32 over the trainable sets the
    book trains: the blocks, and the embeddings ablation. What one process needs at most to finetune it."""
    from ocr_core.arch.trainable import Trainable

    return max(plans_for(name, trainable=Trainable(embeddings=e))[0].total for e in (False, True))


def device_bytes(device: str, device_map: str | None = None) -> tuple[int, str]:
    """Free bytes where the model goes and a description: every visible GPU with a device map, else one."""
    kind = torch.device(device).type
    if kind == "cuda" and device_map:
        n = torch.cuda.device_count()
        return sum(available_bytes(f"cuda:{i}") for i in range(n)), f"{n} GPUs"
    if kind == "cuda":
        return available_bytes(device), torch.cuda.get_device_name(torch.device(device))
    return available_bytes("cpu"), "this machine's memory"


def check_before_loading(name: str, placement, *, progress: bool = True, trainable=None) -> list[MemoryPlan]:
    """Plan `name` at `placement` (ocr_core.models.placement), print the plan, raise MemoryPlanError if it will not
    fit. The host-side delta is checked against the machine's memory as well."""
    plans = plans_for(name, placement.dtype, trainable)
    worst = max(plans, key=lambda p: p.peak)
    free, where = device_bytes(placement.device, placement.device_map)
    on_cpu = torch.device(placement.device).type == "cpu"
    if progress:
        print(f"[ocr_core] {name}: {worst.table()}\n  free: {free / GIB:.1f} GiB on {where}", flush=True)
    check_fits(worst, free, where=where, cpu=on_cpu)
    if not on_cpu:
        host = max(p.host_peak for p in plans)
        if host > 0.9 * available_bytes("cpu"):
            raise MemoryPlanError(
                f"{worst.table()}\nthe deltas ({host / GIB:.1f} GiB, float32) do not fit this machine's memory"
            )
    return plans


def release() -> None:
    """Give freed memory back to the system: collect unreachable objects, then ask glibc to return its free heap
    pages (`malloc_trim`). A long process that trains, frees a delta and trains again otherwise keeps the freed
    small blocks in its arenas, and its resident memory only grows. A no-op where glibc is absent."""
    import ctypes
    import gc

    gc.collect()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)
