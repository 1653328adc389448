"""Which parameters a finetune trains."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ocr_core.arch.families import COMPONENT_KINDS, family_of, num_layers


@dataclass(frozen=True)
class Trainable:
    """Which parameters are trained: blocks `layers` (None = every block), minus blocks `frozen_layers`, of the
    component `kinds` (subset of arch.COMPONENT_KINDS; None = all). `embeddings=True` (with `layers` None) also
    trains what lies outside the blocks: the input embedding, the output layer (the same matrix where tied) and
    the final norm. The default trains the blocks only, as the paper's OLMo runs do."""

    layers: tuple[int, ...] | None = None
    kinds: tuple[str, ...] | None = None
    frozen_layers: tuple[int, ...] = ()
    embeddings: bool = False

    def select(self, model) -> dict[str, torch.nn.Parameter]:
        family, depth = family_of(model), num_layers(model)
        bad = [i for i in (*(self.layers or ()), *self.frozen_layers) if not 0 <= i < depth]
        if bad:
            raise ValueError(f"layers {bad} out of range: the model has layers 0..{depth - 1}")
        if self.kinds is not None and not set(self.kinds) <= set(COMPONENT_KINDS):
            raise ValueError(
                f"unknown component kinds {sorted(set(self.kinds) - set(COMPONENT_KINDS))}; "
                f"choose from {COMPONENT_KINDS}"
            )
        chosen = {}
        vocab = {id(m.weight) for m in (model.get_input_embeddings(), model.get_output_embeddings()) if m is not None}
        for name, param in model.named_parameters():
            layer = family.layer_of(name)
            if not self.embeddings and (id(param) in vocab or layer is None):
                continue
            if self.layers is not None and layer not in self.layers:
                continue
            if layer is not None and layer in self.frozen_layers:
                continue
            if self.kinds is not None and family.kind_of(name) not in self.kinds:
                continue
            chosen[name] = param
        if not chosen:
            raise ValueError(f"{self} selects no parameters of this model")
        return chosen
