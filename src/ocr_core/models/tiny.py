"""Tiny random models of the paper's architectures, built from configs, for exercising code paths.

They share SmolLM2's tokenizer (from the embedded GGUF, cached), so the real datasets validate against them.
Weights are random but seeded: the same name gives the same model.
"""

from __future__ import annotations

import os
import shutil

import torch
from transformers import AutoModelForCausalLM as _Auto
from transformers import (
    AutoTokenizer,
    Gemma2Config,
    Gemma3TextConfig,
    GPT2Config,
    LlamaConfig,
    MistralConfig,
    Olmo2Config,
    OlmoConfig,
    Qwen2Config,
)

from ocr_core.store.io import cache_root

_SIZES = dict(hidden_size=64, intermediate_size=128, num_hidden_layers=4, num_attention_heads=4, num_key_value_heads=2)

# name -> (config class, architecture-specific settings); sizes come from _SIZES.
TINY_ARCHS: dict[str, tuple[type, dict]] = {
    "tiny-llama": (LlamaConfig, dict(head_dim=16)),
    "tiny-mistral": (MistralConfig, dict(head_dim=16, sliding_window=None)),
    "tiny-qwen2": (Qwen2Config, dict()),
    "tiny-gemma2": (Gemma2Config, dict(head_dim=16, query_pre_attn_scalar=16, sliding_window=32)),
    "tiny-gemma3": (Gemma3TextConfig, dict(head_dim=16, query_pre_attn_scalar=16, sliding_window=32)),
    "tiny-olmo": (OlmoConfig, dict()),
    "tiny-olmo2": (Olmo2Config, dict()),
    "tiny-gpt2": (GPT2Config, dict(n_embd=64, n_layer=4, n_head=4, n_positions=128)),
}


def tiny_tokenizer():
    """SmolLM2's tokenizer, read from the embedded GGUF once and cached."""
    target = cache_root() / "tokenizers" / "smollm2-135m"
    if not (target / "tokenizer_config.json").exists():
        from ocr_core.models.gguf import gguf_path

        gguf = gguf_path("smollm2-135m")
        tok = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
        tmp = target.with_name(f".smollm2-135m.tmp-{os.getpid()}")
        tok.save_pretrained(tmp)
        shutil.rmtree(target, ignore_errors=True)
        os.replace(tmp, target)
    return AutoTokenizer.from_pretrained(target)


def tiny_config(name: str, tokenizer):
    config_class, extra = TINY_ARCHS[name]
    sizes = {} if config_class is GPT2Config else dict(_SIZES)
    special = dict(
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    return config_class(vocab_size=len(tokenizer), **special, **sizes, **extra)


def tiny_model(name: str, seed: int = 0):
    """`(model, tokenizer)` for a tiny random model; float32, eval mode, weights seeded by `seed`."""
    if name not in TINY_ARCHS:
        raise KeyError(f"unknown tiny model {name!r}; known: {sorted(TINY_ARCHS)}")
    tok = tiny_tokenizer()
    config = tiny_config(name, tok)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = _Auto.from_config(config, dtype=torch.float32)
    return model.eval(), tok
