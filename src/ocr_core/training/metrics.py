"""Ranks over an option set, the mean-logit loss, and answer-only cross-entropy.

Logits are computed only where they are needed: at the last prompt token, for the option first tokens only
(ranks, mean-logit loss), or at the positions that predict answer tokens (training). With Gemma 3's
262k-token vocabulary the full output layer would otherwise dominate the cost.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from ocr_core.data import Dataset
from ocr_core.data.tokens import Batch, encode, validate


def final_hidden(model, batch: Batch) -> torch.Tensor:
    """Last hidden state after the final norm. [batch, pos, d_model]"""
    out = model.base_model(input_ids=batch.input_ids, attention_mask=batch.attention_mask, use_cache=False)
    return out.last_hidden_state


def output_logits(model, hidden: torch.Tensor, token_ids: torch.Tensor | None = None, matmul=None) -> torch.Tensor:
    """Output-layer logits of `hidden` [..., d_model], for `token_ids` only if given. [..., n_tokens]

    Applies the model's final logit soft-capping (Gemma 2) where its config has one. `matmul(h, weight)`
    replaces `h @ weight.T` (the training step passes one that accumulates the weight gradient in place).
    """
    head = model.get_output_embeddings()
    weight = head.weight if token_ids is None else head.weight[token_ids]
    hidden = hidden.to(weight.dtype)
    logits = hidden @ weight.T if matmul is None else matmul(hidden, weight)
    if getattr(head, "bias", None) is not None:
        logits = logits + (head.bias if token_ids is None else head.bias[token_ids])
    cap = getattr(model.config, "final_logit_softcapping", None)
    if cap:
        logits = torch.tanh(logits / cap) * cap
    return logits


def option_logits(model, batch: Batch, option_ids: torch.Tensor) -> torch.Tensor:
    """Logits at the last prompt token, restricted to the option first tokens. [batch, n_options]"""
    hidden = final_hidden(model, batch)
    last = hidden[torch.arange(hidden.shape[0], device=hidden.device), batch.last]
    logits = output_logits(model, last, option_ids)
    return logits.to(torch.promote_types(logits.dtype, torch.float32))  # bf16 -> fp32; fp64 stays


def ranks_from_logits(logits: torch.Tensor, answer: torch.Tensor) -> torch.Tensor:
    """Rank of the correct option (0 = best): how many options score strictly higher. [batch]"""
    correct = logits.gather(1, answer[:, None])
    return (logits > correct).sum(dim=1)


def mean_logit_loss(logits: torch.Tensor, answer: torch.Tensor) -> torch.Tensor:
    """Paper's scoring loss: -logit[correct] + mean logit over options. [batch, n_options] -> [batch]"""
    return -logits.gather(1, answer[:, None])[:, 0] + logits.mean(dim=1)


def answer_loss(model, batch: Batch) -> torch.Tensor:
    """Mean cross-entropy over the answer tokens of `prompt + " " + answer` (prompt tokens carry no loss)."""
    hidden = final_hidden(model, batch)
    logits = output_logits(model, hidden[batch.answer_rows, batch.answer_cols])
    return torch.nn.functional.cross_entropy(logits.float(), batch.answer_targets)


def _device(model) -> torch.device:
    return next(model.parameters()).device


@torch.no_grad()
def ranks(model, tokenizer, dataset: Dataset, batch_size: int = 32) -> torch.Tensor:
    """Rank of each example's answer among `dataset.options` (0 = best; chance (n-1)/2). [n_examples]"""
    option_ids = torch.tensor(validate(dataset, tokenizer), device=_device(model))
    out = []
    for start in range(0, len(dataset), batch_size):
        chunk = dataset.examples[start : start + batch_size]
        batch = encode(tokenizer, chunk, dataset.options, with_answers=False).to(_device(model))
        out.append(ranks_from_logits(option_logits(model, batch, option_ids), batch.answer).cpu())
    return torch.cat(out)


def mean_rank(model, tokenizer, dataset: Dataset, batch_size: int = 32) -> float:
    return ranks(model, tokenizer, dataset, batch_size).float().mean().item()


def evaluate(model, tokenizer, eval_sets: dict[str, Dataset], batch_size: int = 32) -> dict[str, Sequence[int]]:
    """Per-example ranks for several named datasets."""
    from ocr_core.store import events

    with events.timed("eval", sets=len(eval_sets), items=sum(len(ds.examples) for ds in eval_sets.values())):
        return {name: ranks(model, tokenizer, ds, batch_size).tolist() for name, ds in eval_sets.items()}
