"""One declarative table per decoder family: where layers live and what their parameters are.

Parameter names are the model's own (`model.layers.3.mlp.down_proj.weight`); this table turns them into the
paper's vocabulary: layer index and component kind (`mlp`, `attn`, `norm`, `embed`). Sizes come from the
config; no depth is hard-coded anywhere.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

COMPONENT_KINDS = ("attn", "mlp", "norm", "embed")


class UnsupportedArchitecture(ValueError):
    """The model's `config.model_type` has no row in the family table."""


@dataclass(frozen=True)
class Family:
    """Where one decoder family keeps its parts (paths relative to the CausalLM module).

    layers: the ModuleList of blocks; attn / mlp: a block's attention and MLP submodules;
    q, k, v, o: attention projections inside `attn` (GPT-2 fuses q, k, v into `qkv`);
    q_norm / k_norm: per-head query/key norms inside `attn` (Gemma 3, OLMo 2), whose outputs are laid out
    [batch, head, pos, d_head] ("bhtd") or [batch, pos, head * d_head] ("flat");
    mlp_in / mlp_out: MLP input projections and the down projection; conv1d: GPT-2's transposed weights.
    """

    name: str
    model_types: tuple[str, ...]
    layers: str = "model.layers"
    attn: str = "self_attn"
    mlp: str = "mlp"
    q: str | None = "q_proj"
    k: str | None = "k_proj"
    v: str | None = "v_proj"
    qkv: str | None = None
    o: str = "o_proj"
    q_norm: str | None = None
    k_norm: str | None = None
    qk_norm_layout: str = "bhtd"
    mlp_in: tuple[str, ...] = ("gate_proj", "up_proj")
    mlp_out: str = "down_proj"
    embeddings: tuple[str, ...] = ("model.embed_tokens", "lm_head")
    conv1d: bool = False

    def layer_of(self, param_name: str) -> int | None:
        """Block index of a parameter, or None for embeddings and the final norm."""
        m = re.match(rf"{re.escape(self.layers)}\.(\d+)\.", param_name)
        return int(m.group(1)) if m else None

    def kind_of(self, param_name: str) -> str:
        """One of COMPONENT_KINDS."""
        layer = self.layer_of(param_name)
        if layer is not None:
            block = f"{self.layers}.{layer}."
            if param_name.startswith(block + self.attn + "."):
                return "attn"
            if param_name.startswith(block + self.mlp + "."):
                return "mlp"
            return "norm"
        if any(param_name.startswith(e + ".") for e in self.embeddings):
            return "embed"
        return "norm"


FAMILIES: tuple[Family, ...] = (
    Family("llama", ("llama", "mistral")),  # the defaults above are the Llama layout
    Family("qwen2", ("qwen2",)),
    Family("gemma2", ("gemma2",)),
    Family("gemma3", ("gemma3_text", "gemma3"), q_norm="q_norm", k_norm="k_norm", qk_norm_layout="bhtd"),
    Family("olmo", ("olmo",)),
    Family("olmo2", ("olmo2",), q_norm="q_norm", k_norm="k_norm", qk_norm_layout="flat"),
    Family(
        "gpt2",
        ("gpt2",),
        layers="transformer.h",
        attn="attn",
        q=None,
        k=None,
        v=None,
        qkv="c_attn",
        o="c_proj",
        mlp_in=("c_fc",),
        mlp_out="c_proj",
        embeddings=("transformer.wte", "transformer.wpe", "lm_head"),
        conv1d=True,
    ),
)


def supported_model_types() -> list[str]:
    return sorted(t for f in FAMILIES for t in f.model_types)


def family_of(model_or_config) -> Family:
    """The family row for a model (or its config), by `config.model_type`."""
    config = getattr(model_or_config, "config", model_or_config)
    model_type = getattr(config, "model_type", None)
    for family in FAMILIES:
        if model_type in family.model_types:
            return family
    raise UnsupportedArchitecture(
        f"architecture {model_type!r} is not in the family table; supported model types: "
        f"{', '.join(supported_model_types())} (add a row to ocr_core.arch.families.FAMILIES)"
    )


def head_geometry(model_or_config) -> tuple[int, int, int]:
    """(n_heads, n_kv_heads, d_head) from the config."""
    config = getattr(model_or_config, "config", model_or_config)
    n_heads = getattr(config, "num_attention_heads", None) or config.n_head
    n_kv = getattr(config, "num_key_value_heads", None) or n_heads
    d_model = getattr(config, "hidden_size", None) or config.n_embd
    d_head = getattr(config, "head_dim", None) or d_model // n_heads
    return int(n_heads), int(n_kv), int(d_head)


def num_layers(model_or_config) -> int:
    config = getattr(model_or_config, "config", model_or_config)
    for key in ("num_hidden_layers", "n_layer"):
        if getattr(config, key, None) is not None:
            return int(getattr(config, key))
    raise UnsupportedArchitecture(f"cannot read the depth of {type(config).__name__}")
