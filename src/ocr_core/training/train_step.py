"""One training step's loss and gradients, without the vocabulary-sized temporaries of plain autograd.

Plain autograd on a model whose input embedding is trained allocates, every step, a zeroed vocabulary-sized
gradient for the embedding lookup, another for the output layer, and a third for their sum (tied weights).
For Gemma 3 (262,144 x 640) each is 670 MB of fresh, page-faulting memory, and this dominates a step on a
CPU. Here the gradients live in persistent `.grad` buffers instead:

- the embedding lookup runs outside autograd; the gradient of its output [batch, pos, d_model] is
  scattered into the used rows of the weight's `.grad` (index_add), times the module's embedding scale;
- the output layer is a matmul whose weight gradient is accumulated straight into `.grad` (addmm_).

The gradients equal plain autograd's up to float rounding (tests/test_finetune.py checks every tiny
architecture). Models whose embedding does something else (max_norm, scale_grad_by_freq, an unknown module)
fall back to plain autograd for the embedding.
"""

from __future__ import annotations

import torch

from ocr_core.data.tokens import Batch
from ocr_core.training.metrics import final_hidden, output_logits


class _HeadMatmul(torch.autograd.Function):
    """hidden @ weight.T, adding the weight's gradient into weight.grad in place. [n, d] x [V, d] -> [n, V]"""

    @staticmethod
    def forward(ctx, hidden: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(hidden, weight)
        return hidden @ weight.T

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        hidden, weight = ctx.saved_tensors
        weight.grad.addmm_(grad.T.to(weight.grad.dtype), hidden.to(weight.grad.dtype))
        return (grad @ weight if ctx.needs_input_grad[0] else None), None


def _embedding_scale(module) -> float | None:
    """The factor the embedding module multiplies looked-up rows by, or None if it is not a plain lookup."""
    if not isinstance(module, torch.nn.Embedding) or module.max_norm is not None or module.scale_grad_by_freq:
        return None
    if type(module) is torch.nn.Embedding:
        return 1.0
    scale = getattr(module, "embed_scale", None)  # Gemma 3's scaled word embedding
    return None if scale is None else float(scale)


class TrainStep:
    """Loss + backward for `finetune`, with gradients accumulated into persistent buffers.

    `params`: the trained parameters {name: Parameter}. Call `zero_grad()` before each step, then
    `loss = step(batch)` runs forward and backward.
    """

    def __init__(self, model, params: dict[str, torch.nn.Parameter]):
        self.model = model
        self.params = params
        trained = {id(p) for p in params.values()}
        embedding = model.get_input_embeddings()
        head = model.get_output_embeddings()
        self.embedding = embedding if id(embedding.weight) in trained else None
        self.scale = _embedding_scale(embedding) if self.embedding is not None else None
        self.head_weight = head.weight if head is not None and id(head.weight) in trained else None
        # Only the vocabulary-sized weights keep persistent buffers; autograd hands the others fresh tensors
        # (stealing them is cheaper than adding them into a zeroed buffer).
        self.buffered = [w for w in (self.head_weight, self.embedding.weight if self.scale else None) if w is not None]

    def zero_grad(self) -> None:
        """Zero the persistent buffers in place; drop every other gradient."""
        buffered = {id(w) for w in self.buffered}
        for p in self.params.values():
            if id(p) in buffered:
                if p.grad is None:
                    p.grad = torch.zeros_like(p)
                else:
                    p.grad.zero_()
            else:
                p.grad = None

    def __call__(self, batch: Batch) -> torch.Tensor:
        model = self.model
        if self.scale is None:  # plain autograd through the embedding (or the embedding is frozen)
            hidden = final_hidden(model, batch)
            embeds = None
        else:
            with torch.no_grad():
                embeds = self.embedding(batch.input_ids)
            embeds.requires_grad_(True)
            out = model.base_model(inputs_embeds=embeds, attention_mask=batch.attention_mask, use_cache=False)
            hidden = out.last_hidden_state
        chosen = hidden[batch.answer_rows, batch.answer_cols]
        if self.head_weight is None:
            logits = output_logits(model, chosen)
        else:
            logits = output_logits(model, chosen, matmul=lambda h, w: _HeadMatmul.apply(h, w))
        loss = torch.nn.functional.cross_entropy(logits.float(), batch.answer_targets)
        loss.backward()
        if embeds is not None:
            ids = batch.input_ids.flatten()
            grad = embeds.grad.flatten(0, 1) * self.scale
            if self.embedding.padding_idx is not None:
                grad[ids == self.embedding.padding_idx] = 0
            self.embedding.weight.grad.index_add_(0, ids, grad.to(self.embedding.weight.grad.dtype))
        return loss.detach()
