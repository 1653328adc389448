"""Components of a decoder, named once for every architecture: `mlp.L` and `head.L.H`.

Outputs (what the scores differentiate):
  mlp.L     z = output of block L's MLP                                  [batch, pos, d_model]
  head.L.H  z = head H's slice of the input of the attention output projection
            (its attention-weighted values, before the projection)        [batch, pos, d_head]

Parameters (what the informative score attributes weight changes to): an MLP owns every parameter of its MLP
module; head H owns its rows of q (and of q_norm where that is per element), its columns of o, and a
1/group share of its key/value group's rows of k and v (grouped-query attention shares k/v between the heads
of a group), plus a 1/n_heads share of parameters every head uses (o's bias, a per-d_head q/k norm).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ocr_core.arch.families import Family, family_of, head_geometry, num_layers


@dataclass(frozen=True, order=True)
class Component:
    kind: str  # "mlp" or "head"
    layer: int
    head: int = -1

    @property
    def name(self) -> str:
        return f"mlp.{self.layer}" if self.kind == "mlp" else f"head.{self.layer}.{self.head}"

    def __str__(self) -> str:
        return self.name


def components(model, kinds: tuple[str, ...] = ("mlp", "head")) -> list[Component]:
    """Every MLP and attention head, layer by layer (MLP first, then heads 0..H-1)."""
    n_heads = head_geometry(model)[0]
    out = []
    for layer in range(num_layers(model)):
        if "mlp" in kinds:
            out.append(Component("mlp", layer))
        if "head" in kinds:
            out.extend(Component("head", layer, h) for h in range(n_heads))
    return out


def parse(name: str) -> Component:
    """`mlp.3` or `head.3.1` -> Component."""
    parts = name.split(".")
    if parts[0] == "mlp" and len(parts) == 2:
        return Component("mlp", int(parts[1]))
    if parts[0] == "head" and len(parts) == 3:
        return Component("head", int(parts[1]), int(parts[2]))
    raise ValueError(f"not a component name: {name!r} (expected 'mlp.L' or 'head.L.H')")


# Module paths ------------------------------------------------------------------------------------------------


def block_path(family: Family, layer: int) -> str:
    return f"{family.layers}.{layer}"


def mlp_path(family: Family, layer: int) -> str:
    return f"{block_path(family, layer)}.{family.mlp}"


def attn_path(family: Family, layer: int) -> str:
    return f"{block_path(family, layer)}.{family.attn}"


def attn_part_path(family: Family, layer: int, part: str) -> str:
    return f"{attn_path(family, layer)}.{part}"


# Parameter ownership -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ParamShare:
    """`share` x the elements `index` of parameter `name` belong to a component."""

    name: str
    index: tuple[slice, ...]
    share: float = 1.0


def _rows(lo: int, hi: int, conv1d: bool, is_weight: bool) -> tuple[slice, ...]:
    # nn.Linear stores [out, in]; GPT-2's Conv1D stores [in, out]. Select output features lo:hi.
    if is_weight and conv1d:
        return (slice(None), slice(lo, hi))
    return (slice(lo, hi),)


def _cols(lo: int, hi: int, conv1d: bool) -> tuple[slice, ...]:
    # input features lo:hi of a weight
    return (slice(lo, hi),) if conv1d else (slice(None), slice(lo, hi))


def component_parameters(model, component: Component) -> list[ParamShare]:
    """The parameter elements a component owns (see the module docstring). Covers every MLP and attention
    parameter exactly once when summed over all components of a layer."""
    family = family_of(model)
    params = dict(model.named_parameters())
    if component.kind == "mlp":
        prefix = mlp_path(family, component.layer) + "."
        return [ParamShare(n, (slice(None),)) for n in params if n.startswith(prefix)]

    n_heads, n_kv, d_head = head_geometry(model)
    h, group = component.head, n_heads // n_kv
    g = h // group
    attn = attn_path(family, component.layer) + "."
    out: list[ParamShare] = []

    def add(part: str | None, lo: int, hi: int, share: float, dim_in: bool = False) -> None:
        if part is None:
            return
        for suffix in ("weight", "bias"):
            name = f"{attn}{part}.{suffix}"
            if name not in params:
                continue
            if dim_in and suffix == "bias":
                out.append(ParamShare(name, (slice(None),), 1.0 / n_heads))  # o's bias: used by every head
            elif dim_in:
                out.append(ParamShare(name, _cols(lo, hi, family.conv1d), share))
            else:
                out.append(ParamShare(name, _rows(lo, hi, family.conv1d, suffix == "weight"), share))

    if family.qkv is not None:  # fused [q | k | v] output features (GPT-2, no grouped-query attention)
        width = n_heads * d_head
        for offset in (0, width, 2 * width):
            add(family.qkv, offset + h * d_head, offset + (h + 1) * d_head, 1.0)
    else:
        add(family.q, h * d_head, (h + 1) * d_head, 1.0)
        add(family.k, g * d_head, (g + 1) * d_head, 1.0 / group)
        add(family.v, g * d_head, (g + 1) * d_head, 1.0 / group)
    add(family.o, h * d_head, (h + 1) * d_head, 1.0, dim_in=True)
    for norm, per_group in ((family.q_norm, False), (family.k_norm, True)):
        if norm is None:
            continue
        name = f"{attn}{norm}.weight"
        if family.qk_norm_layout == "flat":  # one weight per output feature: slice it like q / k
            lo = (g if per_group else h) * d_head
            out.append(ParamShare(name, (slice(lo, lo + d_head),), 1.0 / group if per_group else 1.0))
        else:  # one weight of size d_head applied to every head
            out.append(ParamShare(name, (slice(None),), 1.0 / n_heads))
    return out


def attention_parameter_names(model, layer: int) -> list[str]:
    family = family_of(model)
    prefix = attn_path(family, layer) + "."
    return [n for n, _ in model.named_parameters() if n.startswith(prefix)]


def coverage(model, layer: int) -> dict[str, torch.Tensor]:
    """Sum over the layer's components of their shares, per parameter element (all ones when the grouping
    covers every parameter exactly once)."""
    params = dict(model.named_parameters())
    total = {
        n: torch.zeros_like(p, dtype=torch.float64)
        for n, p in params.items()
        if family_of(model).layer_of(n) == layer and family_of(model).kind_of(n) in ("attn", "mlp")
    }
    for component in components(model):
        if component.layer != layer:
            continue
        for ps in component_parameters(model, component):
            total[ps.name][ps.index] += ps.share
    return total
