"""One capture context manager over named modules: their inputs, outputs and full call arguments.

Captured outputs (and, with `clone_inputs`, inputs) are fresh tensors that stay in the autograd graph, so
`torch.autograd.grad(loss, rec.outputs[path])` gives dL/d(output) even when the model later modifies the
original in place (OLMo clamps q/k/v in place).
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import torch


@dataclass
class Recorder:
    inputs: dict[str, torch.Tensor] = field(default_factory=dict)  # first positional arg / hidden_states
    outputs: dict[str, torch.Tensor] = field(default_factory=dict)  # module output (first if a tuple)
    calls: dict[str, tuple[tuple, dict[str, Any]]] = field(default_factory=dict)  # (args, kwargs)


def _first_input(args: tuple, kwargs: dict) -> torch.Tensor:
    return args[0] if args else kwargs["hidden_states"]


@contextmanager
def capture(
    model: torch.nn.Module,
    outputs: Iterable[str] = (),
    inputs: Iterable[str] = (),
    calls: Iterable[str] = (),
    clone_inputs: bool = False,
):
    """`with capture(model, outputs=[...], inputs=[...], calls=[...]) as rec:` records, per module path,
    the output, the input (cloned into the graph with `clone_inputs`, so it can be differentiated against)
    and the detached call arguments."""
    rec = Recorder()
    handles = []
    out_set, in_set, call_set = set(outputs), set(inputs), set(calls)

    def pre_hook(path):
        def hook(module, args, kwargs):
            if path in call_set:
                rec.calls[path] = (
                    tuple(a.detach() if torch.is_tensor(a) else a for a in args),
                    {k: v.detach() if torch.is_tensor(v) else v for k, v in kwargs.items()},
                )
            if path in in_set:
                x = _first_input(args, kwargs)
                if clone_inputs:
                    x = x.clone()
                    if args:
                        args = (x, *args[1:])
                    else:
                        kwargs = dict(kwargs, hidden_states=x)
                rec.inputs[path] = x
                return args, kwargs
            return None

        return hook

    def fwd_hook(path):
        def hook(module, args, output):
            if isinstance(output, tuple):
                head = output[0].clone()
                rec.outputs[path] = head
                return (head, *output[1:])
            out = output.clone()
            rec.outputs[path] = out
            return out

        return hook

    try:
        for path in in_set | call_set:
            module = model.get_submodule(path)
            handles.append(module.register_forward_pre_hook(pre_hook(path), with_kwargs=True))
        for path in out_set:
            handles.append(model.get_submodule(path).register_forward_hook(fwd_hook(path)))
        yield rec
    finally:
        for h in handles:
            h.remove()
