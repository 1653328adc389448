"""Loading models: the embedded GGUF defaults, tiny random models, and any Hugging Face id or local path.

Embedded models are de-quantized to float32 once and cached as safetensors under `cache_root()/models`, so
later loads take seconds.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import time
from pathlib import Path
from urllib.parse import urlparse

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from ocr_core.models.gguf import gguf_path
from ocr_core.models.hub import ModelUnavailableError
from ocr_core.models.presets import DEFAULT_MODEL, EMBEDDED, PAPER_EPOCHS, PAPER_LR, ModelSpec, model_spec  # noqa: F401
from ocr_core.store.io import alive, atomic_write_bytes, cache_root, file_matches, file_sha256


def _load_embedded(name: str, dtype: torch.dtype, device: str, progress: bool):
    from ocr_core.store import faults

    target = cache_root() / "models" / name
    if not _model_cache_intact(target):
        gguf = gguf_path(name)
        started = time.perf_counter()
        if progress:
            print(f"[ocr_core] de-quantizing {gguf.name} to float32 (once; cached at {target})", flush=True)
        tok = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
        model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32)
        # The weights are plain float32 now: drop the GGUF "quantizer" so the model saves as safetensors.
        model.hf_quantizer = None
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        for stale in target.parent.glob(f".{name}.tmp-*"):  # left by a process killed while de-quantizing
            if not alive(int(stale.name.rsplit("-", 1)[-1])):
                shutil.rmtree(stale, ignore_errors=True)
        tmp = target.with_name(f".{name}.tmp-{os.getpid()}")
        shutil.rmtree(tmp, ignore_errors=True)
        model.save_pretrained(tmp)
        tok.save_pretrained(tmp)
        faults.point("dequantize")
        # DONE lists the sha256 of every weight file: a later load checks them (`_model_cache_intact`).
        sums = {f.name: file_sha256(f) for f in sorted(tmp.glob("*.safetensors"))}
        atomic_write_bytes(tmp / "DONE", json.dumps(sums, indent=1).encode())
        shutil.rmtree(target, ignore_errors=True)
        os.replace(tmp, target)
        if progress:
            print(f"[ocr_core] cached {name} in {time.perf_counter() - started:.0f} s", flush=True)
    tok = AutoTokenizer.from_pretrained(target)
    model = AutoModelForCausalLM.from_pretrained(target, dtype=dtype)
    return model.to(device), tok


def _model_cache_intact(target: Path) -> bool:
    """Whether `target` holds a finished de-quantized model whose weight files match the sums in DONE (each
    file hashed once per process); a damaged one (a file changed or missing) is reported and rebuilt."""
    done = target / "DONE"
    if not done.exists():
        return False
    try:
        sums = json.loads(done.read_text() or "{}")
    except json.JSONDecodeError:
        sums = {}
    ok = bool(sums)
    for name, expected in sums.items():
        path = target / name
        if not path.exists() or not file_matches(path, expected):
            ok = False
            break
    if not ok:
        print(f"[ocr_core] the cached model at {target} is damaged or from an older version: rebuilding", flush=True)
    return ok


def _hub_reachable(timeout: float = 3.0) -> bool:
    endpoint = os.environ.get("HF_ENDPOINT", "https://huggingface.co")
    host = urlparse(endpoint).hostname or "huggingface.co"
    try:
        with socket.create_connection((host, 443), timeout=timeout):
            return True
    except OSError:
        return False


def _load_hub(name: str, dtype: torch.dtype, device: str, device_map: str | None):
    kwargs = dict(dtype=dtype, device_map=device_map) if device_map else dict(dtype=dtype)
    local = Path(name).expanduser()
    if local.exists():
        model = AutoModelForCausalLM.from_pretrained(local, **kwargs)
        tok = AutoTokenizer.from_pretrained(local)
    else:
        try:  # already in the local Hugging Face cache: no network needed
            tok = AutoTokenizer.from_pretrained(name, local_files_only=True)
            model = AutoModelForCausalLM.from_pretrained(name, local_files_only=True, **kwargs)
        except OSError:
            if os.environ.get("HF_HUB_OFFLINE") == "1" or not _hub_reachable():
                raise ModelUnavailableError(
                    f"model {name!r} is not a local path nor in the Hugging Face cache, and the hub cannot "
                    f"be reached from here. Embedded models (no network needed): {', '.join(EMBEDDED)}; "
                    "tiny random models: " + ", ".join(_tiny_names())
                ) from None
            try:
                tok = AutoTokenizer.from_pretrained(name)
                model = AutoModelForCausalLM.from_pretrained(name, **kwargs)
            except OSError as err:
                raise ModelUnavailableError(
                    f"could not load {name!r} from the hub ({err}). Embedded models: {', '.join(EMBEDDED)}"
                ) from err
    return (model if device_map else model.to(device)), tok


def _tiny_names() -> list[str]:
    from ocr_core.models.tiny import TINY_ARCHS

    return sorted(TINY_ARCHS)


def default_device() -> str:
    return "cuda" if torch.cuda.is_available() else "cpu"


def load_model(
    name: str = DEFAULT_MODEL,
    *,
    dtype: torch.dtype | str | None = None,
    device: str | None = None,
    device_map: str | None = None,
    progress: bool = True,
):
    """Load `name` and return `(model, tokenizer)`, the model in eval mode.

    name: an embedded default (`gemma-3-270m`, `smollm2-135m`), a tiny random model (`tiny-llama`, ...),
    a Hugging Face id (`allenai/OLMo-7B-0424-hf`) or a local path.
    dtype: default float32 on CPU and for embedded/tiny models, bfloat16 for hub models on CUDA.
    device_map: passed to transformers/accelerate for hub models (e.g. "auto" across GPUs).
    """
    from ocr_core.models.tiny import TINY_ARCHS, tiny_model
    from ocr_core.store import events

    with events.timed("load", model=name):
        device = device or default_device()
        if isinstance(dtype, str):
            dtype = getattr(torch, dtype)
        if name in EMBEDDED:
            model, tok = _load_embedded(name, dtype or torch.float32, device, progress)
        elif name in TINY_ARCHS:
            model, tok = tiny_model(name)
            model = model.to(device=device, dtype=dtype or torch.float32)
        else:
            dtype = dtype or (torch.bfloat16 if device.startswith("cuda") else torch.float32)
            model, tok = _load_hub(name, dtype, device, device_map)
        model.eval()
    return model, tok
