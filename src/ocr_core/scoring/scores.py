"""Extractive scores (informative, upstream, downstream) per component and token position.

Loss: the mean-logit loss at the last prompt token. theta = base weights, delta = a finetuning delta, z_C the
output of component C (see `ocr_core.arch.components`). Positive = the component helps lower the loss.

  informative(C)  = -(dL/dW_C . delta_C), per position: for each layer W x inside C, -(delta_W x) . g
  downstream(C)   = -(dz_C . dL/dz_C|theta),  dz_C = z_C(C's old weights, C's input under theta+delta) - z_C(theta)
  upstream(C)     = (dL/dz_C|theta - dL/dz_C|theta+delta) . (z_C(x) - z_C(x_cf)), averaged over counterfactuals

How it is computed (`extractive_scores`): one base forward+backward over all test prompts (z, dL/dz and the
inputs/output gradients of every weight), one finetuned forward+backward (dL/dz under theta+delta and every
component's input), then each block's attention and MLP rerun with base weights on the finetuned inputs. The
upstream term is linear in z(x_cf), and a counterfactual prompt is another test prompt, so the mean over
counterfactuals is a gather of already-computed base outputs: no pass depends on the counterfactual.
`reference_scores` is the per-sample loop (every pass recomputed per item and counterfactual), kept for the
benchmark and as an executable statement of the definitions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
import torch
from torch.func import functional_call, jvp

from ocr_core.arch.components import attn_part_path, attn_path, mlp_path
from ocr_core.arch.families import Family, family_of, head_geometry, num_layers
from ocr_core.arch.hooks import capture
from ocr_core.data import Dataset
from ocr_core.data.counterfactuals import sample_counterfactuals
from ocr_core.data.tokens import Batch, encode, prompt_ids, validate
from ocr_core.training.deltas import Delta
from ocr_core.training.metrics import mean_logit_loss, option_logits

SCORES = ("informative", "upstream", "downstream")


# Counterfactuals and token alignment -------------------------------------------------------------------------


def align(a: Sequence[int], b: Sequence[int]) -> list[int]:
    """For each position of token list `a`, the aligned position in `b`: common prefix and common suffix
    position by position, the differing middle right-aligned (clamped to b's first middle token)."""
    la, lb = len(a), len(b)
    p = 0
    while p < min(la, lb) and a[p] == b[p]:
        p += 1
    s = 0
    while s < min(la, lb) - p and a[la - 1 - s] == b[lb - 1 - s]:
        s += 1
    out = []
    for t in range(la):
        if t < p:
            out.append(t)
        elif t >= la - s:
            out.append(t - la + lb)
        else:
            out.append(max(p, min(lb - s - 1, (lb - s - 1) - ((la - s - 1) - t))))
    return out


@dataclass(frozen=True)
class Template:
    """Display slots shared by every prompt of a dataset: common prefix tokens, the subject right-aligned in
    `n_middle` slots, common suffix tokens. slot_of[i][t] is the slot of item i's position t."""

    labels: tuple[str, ...]
    slot_of: tuple[tuple[int, ...], ...]


def template(tokenizer, dataset: Dataset) -> Template:
    seqs = [prompt_ids(tokenizer, ex.prompt) for ex in dataset.examples]
    first = seqs[0]
    p = min(
        next((k for k in range(min(len(first), len(s))) if first[k] != s[k]), min(len(first), len(s))) for s in seqs
    )
    s_len = min(len(s) for s in seqs) - p
    suffix = 0
    while suffix < s_len and all(s[len(s) - 1 - suffix] == first[len(first) - 1 - suffix] for s in seqs):
        suffix += 1
    n_middle = max(len(s) - p - suffix for s in seqs)
    pieces = [tokenizer.decode([t]) for t in first]
    labels = [f"{k}:{pieces[k].strip() or repr(pieces[k])}" for k in range(p)]
    labels += [f"{p + k}:subject[{k - n_middle}]" for k in range(n_middle)]
    labels += [f"{p + n_middle + k}:{pieces[len(first) - suffix + k].strip()}" for k in range(suffix)]
    slot_of = []
    for seq in seqs:
        mid = len(seq) - p - suffix
        row = list(range(p))
        row += [p + n_middle - mid + k for k in range(mid)]
        row += [p + n_middle + k for k in range(suffix)]
        slot_of.append(tuple(row))
    return Template(tuple(labels), tuple(slot_of))


# Passes ------------------------------------------------------------------------------------------------------


@dataclass
class _Points:
    """Module paths per layer that a pass captures."""

    family: Family
    n_layers: int

    def mlp(self, layer: int) -> str:
        return mlp_path(self.family, layer)

    def attn(self, layer: int) -> str:
        return attn_path(self.family, layer)

    def part(self, layer: int, part: str | None) -> str | None:
        return None if part is None else attn_part_path(self.family, layer, part)

    def o(self, layer: int) -> str:
        return attn_part_path(self.family, layer, self.family.o)

    def weight_parts(self, layer: int) -> list[str]:
        f = self.family
        names = [f.qkv] if f.qkv else [f.q, f.k, f.v]
        names += [f.q_norm, f.k_norm, f.o]
        return [attn_part_path(f, layer, n) for n in names if n is not None]


def _loss(model, batch: Batch, option_ids: torch.Tensor) -> torch.Tensor:
    """Sum over the batch of the mean-logit loss (items do not interact, so per-item gradients)."""
    return mean_logit_loss(option_logits(model, batch, option_ids), batch.answer).sum()


@dataclass
class _Pass:
    z_mlp: list[torch.Tensor]  # per layer [B, T, d_model]
    z_head: list[torch.Tensor]  # per layer [B, T, H, d_head]
    g_mlp: list[torch.Tensor]
    g_head: list[torch.Tensor]
    rec: object  # the Recorder (inputs, outputs, calls)
    grads: dict[str, torch.Tensor]  # dL/d(output) of the captured weight-bearing modules


def _run_pass(
    model, batch: Batch, option_ids, pts: _Points, weights: bool, calls: bool, backward: bool = True
) -> _Pass:
    """One forward (and backward) pass capturing z and dL/dz of every component; with `weights`, also the
    inputs and output gradients of every weight-bearing attention/MLP module; with `calls`, the call
    arguments of every attention and MLP module."""
    n_heads, _, d_head = head_geometry(model)
    layers = range(pts.n_layers)
    mlp_paths = [pts.mlp(i) for i in layers]
    outputs, inputs = list(mlp_paths), [pts.o(i) for i in layers]
    if weights:
        outputs += [p for i in layers for p in pts.weight_parts(i)]
        inputs += mlp_paths + [p for i in layers for p in pts.weight_parts(i)]
    call_paths = [pts.attn(i) for i in layers] + mlp_paths if calls else []
    grad_mode = torch.enable_grad() if backward else torch.no_grad()
    with (
        grad_mode,
        capture(model, outputs=outputs, inputs=inputs, calls=call_paths, clone_inputs=True) as rec,
    ):
        loss = _loss(model, batch, option_ids)
        z = [rec.outputs[p] for p in mlp_paths] + [rec.inputs[pts.o(i)] for i in layers]
        extra = sorted(set(rec.outputs) - set(mlp_paths)) if weights else []
        if backward:
            grads = torch.autograd.grad(loss, z + [rec.outputs[p] for p in extra], allow_unused=True)
        else:
            grads = [None] * (len(z) + len(extra))
    n = pts.n_layers

    # Scores are products of these: kept in float32 whatever the model's dtype (no copy for float32 models).
    def heads(t: torch.Tensor) -> torch.Tensor:
        return t.detach().float().view(*t.shape[:-1], n_heads, d_head)

    g = [torch.zeros_like(t) if gr is None else gr.detach() for t, gr in zip(z, grads[: 2 * n], strict=True)]
    return _Pass(
        z_mlp=[t.detach().float() for t in z[:n]],
        z_head=[heads(t) for t in z[n:]],
        g_mlp=[t.float() for t in g[:n]],
        g_head=[heads(t) for t in g[n:]],
        rec=rec,
        grads={p: gr.detach().float() for p, gr in zip(extra, grads[2 * n :], strict=True) if gr is not None},
    )


# Informative -------------------------------------------------------------------------------------------------


def _module_jvp(module, x: torch.Tensor, delta: Delta, prefix: str) -> torch.Tensor | None:
    """First-order change of module(x) when its parameters move by delta (None if delta leaves it alone)."""
    names = [n for n, _ in module.named_parameters()]
    if not any(f"{prefix}.{n}" in delta for n in names):
        return None
    params = {n: p.detach() for n, p in module.named_parameters()}
    tangents = {
        n: delta[f"{prefix}.{n}"].to(p) if f"{prefix}.{n}" in delta else torch.zeros_like(p) for n, p in params.items()
    }
    keys = list(params)

    def f(*ps):
        return functional_call(module, dict(zip(keys, ps, strict=True)), (x.detach(),))

    return jvp(f, tuple(params[k] for k in keys), tuple(tangents[k] for k in keys))[1]


def _per_head(t: torch.Tensor, n: int, layout: str = "bthd") -> torch.Tensor:
    """Reshape a q/k/v-like tensor to [B, T, n, d_head]."""
    if layout == "bhtd":
        return t.transpose(1, 2)
    return t.view(*t.shape[:2], n, -1)


def _informative(model, base: _Pass, delta: Delta, pts: _Points) -> tuple[list, list]:
    f = pts.family
    n_heads, n_kv, d_head = head_geometry(model)
    mlp_scores, head_scores = [], []
    for i in range(pts.n_layers):
        mlp = model.get_submodule(pts.mlp(i))
        dy = _module_jvp(mlp, base.rec.inputs[pts.mlp(i)], delta, pts.mlp(i))
        mlp_scores.append(torch.zeros(base.z_mlp[i].shape[:2]) if dy is None else -(dy.float() * base.g_mlp[i]).sum(-1))

        heads = torch.zeros(*base.z_mlp[i].shape[:2], n_heads)

        def add(path, part_layout, n_groups, width_split=None):
            nonlocal heads
            if path is None or path not in base.grads:
                return
            module = model.get_submodule(path)
            dy = _module_jvp(module, base.rec.inputs[path], delta, path)
            if dy is None:
                return
            contrib = -(dy.float() * base.grads[path])
            parts = contrib.split(width_split, dim=-1) if width_split else [contrib]
            for part, groups in zip(parts, n_groups, strict=True):
                per = _per_head(part, groups, part_layout).sum(-1)  # [B, T, groups]
                if groups != n_heads:
                    per = per.repeat_interleave(n_heads // groups, dim=-1) / (n_heads // groups)
                heads = heads + per

        if f.qkv:
            add(pts.part(i, f.qkv), "bthd", [n_heads] * 3, n_heads * d_head)
        else:
            add(pts.part(i, f.q), "bthd", [n_heads])
            add(pts.part(i, f.k), "bthd", [n_kv])
            add(pts.part(i, f.v), "bthd", [n_kv])
        add(pts.part(i, f.q_norm), f.qk_norm_layout, [n_heads])
        add(pts.part(i, f.k_norm), f.qk_norm_layout, [n_kv])
        # o: head h contributes delta_W[:, h] x_h; a bias change is split between the heads
        o_path = pts.o(i)
        w_name, b_name = f"{o_path}.weight", f"{o_path}.bias"
        g_out = base.grads.get(o_path)
        if g_out is not None and w_name in delta:
            dw = delta[w_name] if f.conv1d else delta[w_name].T  # [H * d_head, d_model]
            gw = g_out @ dw.T.to(g_out)  # [B, T, H * d_head]
            heads = heads - (gw.view(*gw.shape[:2], n_heads, d_head) * base.z_head[i]).sum(-1)
        if g_out is not None and b_name in delta:
            heads = heads - (g_out @ delta[b_name].to(g_out))[..., None] / n_heads
        head_scores.append(heads)
    return mlp_scores, head_scores


# Downstream --------------------------------------------------------------------------------------------------


@torch.no_grad()
def _old_weights_new_inputs(model, tuned: _Pass, pts: _Points) -> tuple[list, list]:
    """z_C(theta_C, input under theta+delta) for every MLP and head; the model must hold base weights."""
    n_heads, _, d_head = head_geometry(model)
    z_mlp, z_head = [], []
    for i in range(pts.n_layers):
        args, kwargs = tuned.rec.calls[pts.mlp(i)]
        z_mlp.append(model.get_submodule(pts.mlp(i))(*args, **kwargs).float())
        args, kwargs = tuned.rec.calls[pts.attn(i)]
        with capture(model, inputs=[pts.o(i)]) as rec:
            model.get_submodule(pts.attn(i))(*args, **kwargs)
        z = rec.inputs[pts.o(i)].float()
        z_head.append(z.view(*z.shape[:-1], n_heads, d_head))
    return z_mlp, z_head


# Driver ------------------------------------------------------------------------------------------------------


@dataclass
class RawScores:
    """Per item, position and component: mlp[score] [N, T, L], head[score] [N, T, L, H]; lengths [N]."""

    mlp: dict[str, torch.Tensor]
    head: dict[str, torch.Tensor]
    lengths: list[int]

    def max_abs_diff(self, other: RawScores) -> float:
        worst = 0.0
        for name in SCORES:
            for mine, theirs in ((self.mlp[name], other.mlp[name]), (self.head[name], other.head[name])):
                for b, n in enumerate(self.lengths):
                    worst = max(worst, (mine[b, :n] - theirs[b, :n]).abs().max().item())
        return worst


def _with_params_requiring_grad(model):
    flags = {n: p.requires_grad for n, p in model.named_parameters()}
    for p in model.parameters():
        p.requires_grad_(True)
    return flags


def _restore_flags(model, flags) -> None:
    for n, p in model.named_parameters():
        p.requires_grad_(flags[n])


def _padded(parts: list[torch.Tensor], width: int) -> torch.Tensor:
    """Concatenate per-chunk [b, t, ...] tensors along the batch, zero-padding positions to `width`."""
    out = []
    for t in parts:
        pad = torch.zeros(t.shape[0], width - t.shape[1], *t.shape[2:], dtype=t.dtype, device=t.device)
        out.append(torch.cat([t, pad], dim=1))
    return torch.cat(out)


def extractive_scores(
    model,
    tokenizer,
    dataset: Dataset,
    delta: Delta,
    *,
    n_counterfactuals: int = 10,
    seed: int = 0,
    counterfactuals: list[list[int]] | None = None,
    batch_size: int | None = None,
) -> RawScores:
    """All three scores for every component, test item and position.

    The base and finetuned passes run over `batch_size` items at a time (default: all at once; 1 reproduces
    the per-sample reference to rounding of the counterfactual average). No pass depends on the
    counterfactuals: their outputs are gathered from the base pass.
    """
    from ocr_core.store import events

    with events.timed("scores", items=len(dataset.examples)):
        device = next(model.parameters()).device
        option_ids = torch.tensor(validate(dataset, tokenizer), device=device)
        cfs = counterfactuals or sample_counterfactuals(dataset, n_counterfactuals, seed)
        pts = _Points(family_of(model), num_layers(model))
        seqs = [prompt_ids(tokenizer, ex.prompt) for ex in dataset.examples]
        n, width, n_layers = len(seqs), max(len(s) for s in seqs), pts.n_layers
        size = batch_size or n
        chunks = [list(range(lo, min(lo + size, n))) for lo in range(0, n, size)]
        batches = [
            encode(tokenizer, [dataset.examples[i] for i in c], dataset.options, with_answers=False).to(device)
            for c in chunks
        ]

        flags = _with_params_requiring_grad(model)
        try:
            bases = [_run_pass(model, b, option_ids, pts, weights=True, calls=False) for b in batches]
            infos = [_informative(model, base, delta, pts) for base in bases]
            for base in bases:
                base.rec = None  # the informative inputs are no longer needed
            with delta.applied(model):
                tuned = [_run_pass(model, b, option_ids, pts, weights=False, calls=True) for b in batches]
            olds = [_old_weights_new_inputs(model, t, pts) for t in tuned]
        finally:
            _restore_flags(model, flags)

        def gather(get) -> list[torch.Tensor]:  # per layer: [N, width, ...] over all chunks
            return [_padded([get(k)[layer] for k in range(len(chunks))], width) for layer in range(n_layers)]

        z_mlp, z_head = gather(lambda k: bases[k].z_mlp), gather(lambda k: bases[k].z_head)
        g_mlp, g_head = gather(lambda k: bases[k].g_mlp), gather(lambda k: bases[k].g_head)
        dg_mlp = [a - b for a, b in zip(g_mlp, gather(lambda k: tuned[k].g_mlp), strict=True)]
        dg_head = [a - b for a, b in zip(g_head, gather(lambda k: tuned[k].g_head), strict=True)]
        old_mlp, old_head = gather(lambda k: olds[k][0]), gather(lambda k: olds[k][1])

        # upstream: (g_base - g_new) . (z(x) - mean_cf z(x_cf)), the counterfactual outputs aligned to x
        up_mlp = torch.zeros(n, width, n_layers)
        up_head = torch.zeros(n, width, n_layers, head_geometry(model)[0])
        for i in range(n):
            t = len(seqs[i])
            items = torch.tensor([j for j in cfs[i] for _ in range(t)])
            positions = torch.tensor([p for j in cfs[i] for p in align(seqs[i], seqs[j])])
            for layer in range(n_layers):
                for z, dg, out in ((z_mlp, dg_mlp, up_mlp), (z_head, dg_head, up_head)):
                    cf_mean = z[layer][items, positions].view(len(cfs[i]), t, *z[layer].shape[2:]).mean(0)
                    out[i, :t, layer] = (dg[layer][i, :t] * (z[layer][i, :t] - cf_mean)).sum(-1).cpu()

        def stacked(per_chunk: list[list[torch.Tensor]], dim: int) -> torch.Tensor:
            return torch.stack(gather(lambda k: per_chunk[k]), dim=dim).cpu()

        down_mlp = [-((o - z) * g).sum(-1) for o, z, g in zip(old_mlp, z_mlp, g_mlp, strict=True)]
        down_head = [-((o - z) * g).sum(-1) for o, z, g in zip(old_head, z_head, g_head, strict=True)]
        mlp = dict(
            informative=stacked([i[0] for i in infos], -1), upstream=up_mlp, downstream=torch.stack(down_mlp, -1).cpu()
        )
        head = dict(
            informative=stacked([i[1] for i in infos], 2), upstream=up_head, downstream=torch.stack(down_head, 2).cpu()
        )
        return RawScores(mlp, head, [len(s) for s in seqs])


def reference_scores(
    model, tokenizer, dataset: Dataset, delta: Delta, *, counterfactuals: list[list[int]]
) -> RawScores:
    """The per-sample reference loop: for every item and every counterfactual, recompute the base pass, the
    finetuned pass and the counterfactual pass from scratch, one prompt at a time (no batching, no reuse)."""
    option_ids = torch.tensor(validate(dataset, tokenizer), device=next(model.parameters()).device)
    pts = _Points(family_of(model), num_layers(model))
    n_heads = head_geometry(model)[0]
    seqs = [prompt_ids(tokenizer, ex.prompt) for ex in dataset.examples]
    width = max(len(s) for s in seqs)
    n, n_layers = len(seqs), pts.n_layers
    mlp = {s: torch.zeros(n, width, n_layers) for s in SCORES}
    head = {s: torch.zeros(n, width, n_layers, n_heads) for s in SCORES}

    def one(k: int) -> Batch:
        return encode(tokenizer, [dataset.examples[k]], dataset.options, with_answers=False).to(option_ids.device)

    flags = _with_params_requiring_grad(model)
    try:
        for i in range(n):
            t = len(seqs[i])
            for c, j in enumerate(counterfactuals[i]):
                base = _run_pass(model, one(i), option_ids, pts, weights=True, calls=False)
                with delta.applied(model):
                    tuned = _run_pass(model, one(i), option_ids, pts, weights=False, calls=True)
                cf = _run_pass(model, one(j), option_ids, pts, weights=False, calls=False, backward=False)
                pos = torch.tensor(align(seqs[i], seqs[j]))
                for layer in range(n_layers):
                    d_mlp = base.z_mlp[layer][0] - cf.z_mlp[layer][0, pos]
                    d_head = base.z_head[layer][0] - cf.z_head[layer][0, pos]
                    g_mlp = base.g_mlp[layer][0] - tuned.g_mlp[layer][0]
                    g_head = base.g_head[layer][0] - tuned.g_head[layer][0]
                    mlp["upstream"][i, :t, layer] += (g_mlp * d_mlp).sum(-1) / len(counterfactuals[i])
                    head["upstream"][i, :t, layer] += (g_head * d_head).sum(-1) / len(counterfactuals[i])
                if c == 0:
                    info_mlp, info_head = _informative(model, base, delta, pts)
                    z_mlp_old, z_head_old = _old_weights_new_inputs(model, tuned, pts)
                    for layer in range(n_layers):
                        mlp["informative"][i, :t, layer] = info_mlp[layer][0]
                        head["informative"][i, :t, layer] = info_head[layer][0]
                        dz = z_mlp_old[layer][0] - base.z_mlp[layer][0]
                        mlp["downstream"][i, :t, layer] = -(dz * base.g_mlp[layer][0]).sum(-1)
                        dz = z_head_old[layer][0] - base.z_head[layer][0]
                        head["downstream"][i, :t, layer] = -(dz * base.g_head[layer][0]).sum(-1)
    finally:
        _restore_flags(model, flags)
    return RawScores(mlp, head, [len(s) for s in seqs])


# Tables ------------------------------------------------------------------------------------------------------


def score_table(raw: RawScores, tmpl: Template) -> pd.DataFrame:
    """Tidy table: score, component, kind, layer, head, slot, token, value (mean over the items that have
    a token at that slot). Heads appear per head; `heatmap` sums them per layer."""
    n_slots = len(tmpl.labels)
    rows = []
    for kind, store in (("mlp", raw.mlp), ("head", raw.head)):
        for name, values in store.items():
            total = torch.zeros(n_slots, *values.shape[2:], dtype=torch.float64)
            count = torch.zeros(n_slots, dtype=torch.float64)
            for i, slots in enumerate(tmpl.slot_of):
                idx = torch.tensor(slots)
                total.index_add_(0, idx, values[i, : len(slots)].double())
                count.index_add_(0, idx, torch.ones(len(slots), dtype=torch.float64))
            mean = total / count.clamp(min=1).view(-1, *([1] * (total.dim() - 1)))
            for slot in range(n_slots):
                if kind == "mlp":
                    for layer, v in enumerate(mean[slot].tolist()):
                        rows.append((name, f"mlp.{layer}", "mlp", layer, -1, slot, tmpl.labels[slot], v))
                else:
                    for layer, per_head in enumerate(mean[slot].tolist()):
                        for h, v in enumerate(per_head):
                            rows.append((name, f"head.{layer}.{h}", "head", layer, h, slot, tmpl.labels[slot], v))
    return pd.DataFrame(rows, columns=["score", "component", "kind", "layer", "head", "slot", "token", "value"])


def heatmap(table: pd.DataFrame, score: str, kind: str = "mlp") -> pd.DataFrame:
    """layer x token matrix of one score (heads summed per layer)."""
    sub = table[(table.score == score) & (table.kind == kind)]
    grid = sub.groupby(["layer", "slot"])["value"].sum().unstack("slot")
    labels = dict(zip(sub.slot, sub.token, strict=False))
    grid.columns = [labels[c] for c in grid.columns]
    return grid


def peak(table: pd.DataFrame, score: str, kind: str = "mlp") -> dict:
    """Where a score's mass sits: the (layer, token) cell with the largest value and the layer range holding
    the top half of the positive mass."""
    grid = heatmap(table, score, kind)
    layer, token = grid.stack().idxmax()
    by_layer = grid.clip(lower=0).sum(axis=1)
    order = by_layer.sort_values(ascending=False)
    cum = order.cumsum() / max(order.sum(), 1e-12)
    top = sorted(order.index[: int((cum < 0.5).sum()) + 1])
    by_token = grid.clip(lower=0).sum(axis=0)
    return dict(
        score=score,
        kind=kind,
        layer=int(layer),
        token=token,
        value=float(grid.loc[layer, token]),
        top_half_layers=top,
        top_token=by_token.idxmax(),
    )


def component_totals(raw: RawScores) -> pd.DataFrame:
    """Per component: each score summed over positions and averaged over items (component, kind, layer,
    head, score, value)."""
    rows = []
    for kind, store in (("mlp", raw.mlp), ("head", raw.head)):
        for name, values in store.items():
            per_item = values.sum(dim=1).mean(dim=0)  # padding positions hold zeros
            if kind == "mlp":
                rows += [(f"mlp.{layer}", kind, layer, -1, name, v) for layer, v in enumerate(per_item.tolist())]
            else:
                rows += [
                    (f"head.{layer}.{h}", kind, layer, h, name, v)
                    for layer, hs in enumerate(per_item.tolist())
                    for h, v in enumerate(hs)
                ]
    return pd.DataFrame(rows, columns=["component", "kind", "layer", "head", "score", "value"])
