"""Where a model runs and in which dtype: explicit arguments, else $OCR_CORE_DEVICE / $OCR_CORE_DTYPE /
$OCR_CORE_DEVICE_MAP (so papermill kernels and cluster jobs inherit them), else the defaults: CUDA when
available; float32 for the embedded and tiny models, bfloat16 for hub models on CUDA.

The default placement on a CPU (float32) has an empty `tag`; any other placement tags result folders and
cached deltas, so a GPU bf16 run never reuses CPU float32 results or the reverse.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class Placement:
    device: str
    dtype: str
    device_map: str | None = None

    @property
    def tag(self) -> str:
        """'' for float32 on the CPU; else e.g. 'bfloat16-cuda' or 'bfloat16-auto'."""
        where = "auto" if self.device_map else torch.device(self.device).type
        return "" if (self.dtype, where) == ("float32", "cpu") else f"{self.dtype}-{where}"

    def kwargs(self) -> dict:
        """Arguments for `ocr_core.models.loading.load_model`."""
        return dict(device=self.device, dtype=self.dtype, device_map=self.device_map)


def resolve(name: str, *, device: str | None = None, dtype: str | None = None, device_map: str | None = None):
    """The placement of model `name` (see the module docstring)."""
    from ocr_core.models.presets import model_spec

    device = device or os.environ.get("OCR_CORE_DEVICE") or ("cuda" if torch.cuda.is_available() else "cpu")
    device_map = device_map or os.environ.get("OCR_CORE_DEVICE_MAP") or None
    dtype = dtype or os.environ.get("OCR_CORE_DTYPE")
    if dtype is None:
        on_gpu = torch.device(device).type == "cuda"
        dtype = "bfloat16" if on_gpu and model_spec(name).kind == "hub" else "float32"
    return Placement(device, check_dtype(dtype), device_map)


def check_dtype(dtype: str) -> str:
    """`dtype` if torch has a dtype of that name, else a ParameterError (a ValueError)."""
    from ocr_core.errors import ParameterError

    if not isinstance(dtype, str) or not isinstance(getattr(torch, dtype, None), torch.dtype):
        raise ParameterError(f"unknown dtype {dtype!r}: use float32, bfloat16 or float16")
    return dtype


def check_device(device: str) -> str:
    """`device` if torch parses it and, for CUDA, a GPU is visible; else a ParameterError."""
    from ocr_core.errors import ParameterError

    try:
        kind = torch.device(device).type
    except (RuntimeError, TypeError) as err:
        raise ParameterError(f"unknown device {device!r}: use cpu, cuda or cuda:N") from err
    if kind == "cuda" and not torch.cuda.is_available():
        raise ParameterError(f"device {device!r}: no CUDA GPU is visible here (use cpu)")
    return device


def of_model(model) -> Placement:
    """The placement a loaded model actually has (device of its first parameter)."""
    p = next(model.parameters())
    mapped = len({q.device for q in model.parameters()}) > 1
    return Placement(str(p.device), str(p.dtype).removeprefix("torch."), "auto" if mapped else None)


def lost_update_fraction(params, lr: float) -> float:
    """Fraction of weights an update of size `lr` would not change (it is below half the spacing of the
    weight's floating-point format at that value): ~0 in float32, most weights in bfloat16 at lr 3e-6."""
    lost = total = 0
    for p in params:
        if not p.dtype.is_floating_point:
            continue
        w = p.detach().abs().float()
        spacing = torch.finfo(p.dtype).eps * torch.exp2(torch.floor(torch.log2(w.clamp_min(1e-30))))
        lost += int((spacing / 2 > lr).sum())
        total += w.numel()
    return lost / max(total, 1)
