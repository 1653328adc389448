"""Weight deltas (finetuned - base, per parameter) and their arithmetic.

A `Delta` maps parameter names to tensors. Deltas add, subtract, scale and restrict to layers or component
kinds; `applied(model)` adds one for the duration of a `with` block and restores the saved weights exactly
afterwards (restore from a copy, never by subtracting, which is inexact in low precision).
"""

from __future__ import annotations

import hashlib
import json
import struct
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import torch
from safetensors.torch import load_file

from ocr_core.arch.families import COMPONENT_KINDS, family_of
from ocr_core.store.io import atomic_write


class DeltaMismatchError(ValueError):
    """A delta names parameters the model lacks, or has the wrong shapes."""


class Delta(Mapping[str, torch.Tensor]):
    """Per-parameter weight change, stored in float32 on the CPU."""

    def __init__(self, tensors: Mapping[str, torch.Tensor] | None = None):
        self._t = {k: v.detach().to("cpu", torch.float32) for k, v in (tensors or {}).items()}

    # Mapping protocol
    def __getitem__(self, key: str) -> torch.Tensor:
        return self._t[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._t)

    def __len__(self) -> int:
        return len(self._t)

    def __repr__(self) -> str:
        return f"Delta({len(self)} tensors, {self.numel():,} values, norm {self.norm():.4g})"

    # Arithmetic: missing keys count as zero.
    def __add__(self, other: Delta) -> Delta:
        out = dict(self._t)
        for k, v in other.items():
            out[k] = out[k] + v if k in out else v
        return Delta(out)

    def __neg__(self) -> Delta:
        return Delta({k: -v for k, v in self._t.items()})

    def __sub__(self, other: Delta) -> Delta:
        return self + (-other)

    def __mul__(self, scale: float) -> Delta:
        return Delta({k: v * scale for k, v in self._t.items()})

    __rmul__ = __mul__

    def numel(self) -> int:
        return sum(v.numel() for v in self._t.values())

    def norm(self) -> float:
        total = sum(((v.double() ** 2).sum() for v in self._t.values()), torch.zeros((), dtype=torch.float64))
        return float(total.sqrt())

    def restrict(self, model, layers: Iterable[int] | None = None, kinds: Iterable[str] | None = None) -> Delta:
        """Only the parameters in `layers` (block indices) and of component `kinds` (arch.COMPONENT_KINDS).

        Parameters outside any block (embeddings, final norm) are kept only when `layers` is None.
        """
        family = family_of(model)
        layer_set = None if layers is None else set(layers)
        kind_set = None if kinds is None else set(kinds)
        if kind_set is not None and not kind_set <= set(COMPONENT_KINDS):
            raise ValueError(f"unknown component kinds {sorted(kind_set - set(COMPONENT_KINDS))}")
        keep = {}
        for name, value in self._t.items():
            layer = family.layer_of(name)
            if layer_set is not None and layer not in layer_set:
                continue
            if kind_set is not None and family.kind_of(name) not in kind_set:
                continue
            keep[name] = value
        return Delta(keep)

    def without(self, model, layers: Iterable[int]) -> Delta:
        """Everything except the parameters of blocks `layers` (what "reverting" those layers leaves)."""
        family = family_of(model)
        drop = set(layers)
        return Delta({k: v for k, v in self._t.items() if family.layer_of(k) not in drop})

    def _check(self, params: Mapping[str, torch.nn.Parameter]) -> None:
        missing = [k for k in self._t if k not in params]
        wrong = [
            f"{k}: {tuple(v.shape)} vs {tuple(params[k].shape)}"
            for k, v in self._t.items()
            if k in params and v.shape != params[k].shape
        ]
        if missing or wrong:
            raise DeltaMismatchError(
                f"delta does not fit this model: missing parameters {missing[:5]} ({len(missing)} in all); "
                f"shape mismatches {wrong[:5]}"
            )

    @torch.no_grad()
    def add_to(self, model, scale: float = 1.0) -> None:
        """Add `scale * delta` to the model's weights in place (permanently)."""
        params = dict(model.named_parameters())
        self._check(params)
        for k, v in self._t.items():
            params[k].add_(v.to(params[k].device, params[k].dtype), alpha=scale)

    @contextmanager
    def applied(self, model, scale: float = 1.0):
        """`with delta.applied(model):` runs the block on base + scale * delta, then restores exactly."""
        params = dict(model.named_parameters())
        self._check(params)
        saved = {k: params[k].detach().clone() for k in self._t}
        try:
            self.add_to(model, scale)
            yield model
        finally:
            with torch.no_grad():
                for k, v in saved.items():
                    params[k].copy_(v)

    def content_hash(self) -> str:
        """sha256 (16 hex) over names and values; computed once per Delta (deltas are never mutated)."""
        if getattr(self, "_hash", None) is None:
            self._hash = self._compute_hash()
        return self._hash

    def _compute_hash(self) -> str:
        digest = hashlib.sha256()
        for k in sorted(self._t):
            digest.update(k.encode())
            digest.update(self._t[k].contiguous().numpy())  # the array's own buffer: no copy of a 0.7 GB table
        return digest.hexdigest()[:16]

    def save(self, path: str | Path) -> Path:
        """Write the delta as a safetensors file, streamed tensor by tensor from the tensors' own memory (the
        library's `save` builds the whole file in memory first: +1 GB at the peak for a Gemma-3-270M delta)."""
        path = Path(path)
        tensors = {k: v.contiguous() for k, v in sorted(self._t.items())}
        header, offset = {}, 0
        for k, v in tensors.items():
            size = v.numel() * 4
            header[k] = {"dtype": "F32", "shape": list(v.shape), "data_offsets": [offset, offset + size]}
            offset += size
        head = json.dumps(header, separators=(",", ":")).encode()
        head += b" " * (-len(head) % 8)  # the data starts 8-byte aligned

        def write(fh) -> None:
            fh.write(struct.pack("<Q", len(head)) + head)
            for v in tensors.values():
                fh.write(v.numpy().data)

        atomic_write(path, write, 8 + len(head) + offset)
        return path

    @classmethod
    def load(cls, path: str | Path) -> Delta:
        return cls(load_file(str(path)))

    @classmethod
    def between(cls, new: Mapping[str, torch.Tensor], old: Mapping[str, torch.Tensor]) -> Delta:
        """new - old for every key of `old`, in float32."""
        return cls({k: new[k].detach().float().cpu() - old[k].detach().float().cpu() for k in old})
