"""Checked parameters: one set of rules (types, ranges, known models) for the command line's arguments and
the book notebooks' parameters. A wrong value raises a `ParameterError` naming the parameter, what was given
and what is expected. Where a list is expected a single value means a list of one, as papermill passes it
(`-p models tiny-llama` is ["tiny-llama"], `-p seeds 0` is [0]).

    models, seeds, results = check_params(models=models, seeds=seeds, results=results)  # a notebook's first cell
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from numbers import Integral, Real
from pathlib import Path
from typing import Any

from ocr_core.errors import ParameterError, UserError
from ocr_core.models.hub import check_model
from ocr_core.models.placement import check_device, check_dtype

Convert = Callable[[Any], Any]


class _Invalid(ValueError):
    """A value breaks its rule; a message, if given, replaces 'got ...; expected ...'."""


def _integer(minimum: int) -> Convert:
    def convert(value):
        if not isinstance(value, Integral) or isinstance(value, bool) or value < minimum:
            raise _Invalid
        return int(value)

    return convert


def _number(*, minimum: float = 0.0, strict: bool = True, below: float = math.inf) -> Convert:
    """A finite real in (minimum, below) (`strict`) or [minimum, below)."""

    def convert(value):
        if not isinstance(value, Real) or isinstance(value, bool) or not math.isfinite(value):
            raise _Invalid
        if value < minimum or (strict and value == minimum) or value >= below:
            raise _Invalid
        return value

    return convert


def _text(value) -> str:
    if not isinstance(value, str | os.PathLike) or not str(value).strip():
        raise _Invalid
    return str(value)


def _file(value) -> str:
    path = _text(value)
    if not Path(path).is_file():
        raise _Invalid(f"no file {path!r} (from {Path.cwd()})")
    return path


def _model(value) -> str:
    from ocr_core.models.hub import ModelUnavailableError

    name = _text(value)
    try:
        check_model(name)
    except ModelUnavailableError as err:
        raise _Invalid(str(err)) from err
    return name


def _via(check: Callable[[str], str]) -> Convert:
    """A converter from a check that raises a UserError with its own message (`ocr_core.models.placement`)."""

    def convert(value):
        try:
            return check(_text(value))
        except UserError as err:
            raise _Invalid(str(err)) from err

    return convert


def _many(convert: Convert, *, empty: bool = False) -> Convert:
    """A list of values each passing `convert`; a single value is a list of one."""

    def each(value):
        items = [value] if value is None or isinstance(value, str | bytes | os.PathLike | Real) else value
        if not isinstance(items, list | tuple) or not (items or empty):
            raise _Invalid
        return [convert(v) for v in items]

    return each


def _optional(convert: Convert) -> Convert:
    return lambda value: None if value is None else convert(value)


def _hop_files(value) -> list[str]:
    """Paths of hop files, each read and checked (`ocr_core.data.userdata`); a single path is a list of one."""
    from ocr_core.data.userdata import HopFileError, load_hop_files

    paths = _many(_file)(value)
    try:
        load_hop_files(paths)
    except HopFileError as err:
        raise _Invalid(str(err)) from err
    return paths


_COUNT, _SEED, _LR = _integer(1), _integer(0), _number()
_MODELS = "embedded or tiny (`python -m ocr_core models`), a local model folder or a Hugging Face id"
_LIST = "one, or a list such as"

# parameter -> (what is expected, converter); notebooks use these names, the command line maps its options on
# them (ocr_core.cli._OPTION_RULES).
RULES: dict[str, tuple[str, Convert]] = {
    "models": (f"a model name or a list of them: {_MODELS}", _many(_model)),
    "ablation_models": (f"a list of model names ({_MODELS}), possibly empty", _many(_model, empty=True)),
    "paper_models": ("a list of model names, or None (every paper model)", _optional(_many(_text, empty=True))),
    "seeds": (
        f"seeds: integers >= 0 ({_LIST} [0, 1, 2]), or None (each experiment's default: 5 for verification, "
        "freezing and scores, 3 for the rest)",
        _optional(_many(_SEED)),
    ),
    "ablation_seeds": (
        f"seeds: integers >= 0 ({_LIST} [0, 1, 2]), or None (the first three of `seeds`)",
        _optional(_many(_SEED)),
    ),
    "seed": ("a seed: an integer >= 0", _SEED),
    "lr": ("a learning rate: a number > 0 (default: the model's recommended)", _optional(_LR)),
    "ocr_lr": ("a learning rate: a number > 0 (default: the model's recommended)", _optional(_LR)),
    "lrs": (f"learning rates: numbers > 0 ({_LIST} [1e-4, 3e-4])", _many(_LR)),
    "epochs": ("epochs: an integer >= 1 (default: the model's recommended)", _optional(_COUNT)),
    "ocr_epochs": ("epochs: an integer >= 1 (default: the model's recommended)", _optional(_COUNT)),
    "max_epochs": ("the cap of each phase: an integer >= 1", _COUNT),
    "epoch_grid": (f"epochs: integers >= 1 ({_LIST} [5, 10])", _many(_COUNT)),
    "batch_size": ("a batch size: an integer >= 1 (default: the model's recommended)", _optional(_COUNT)),
    "n_counterfactuals": ("a count: an integer >= 1", _COUNT),
    "split": ("a fraction of the blocks: a number between 0 and 1", _number(below=1.0)),
    "results": ("a folder name", _text),
    "sweep_dir": ("a folder name", _text),
    "paper": ("the path of an existing file", _file),
    "data": (
        "a hop file (.csv or .json; columns kind, subject, prompt, answer), a list of them, or None (the built-in "
        "hops)",
        _optional(_hop_files),
    ),
    "prune": ("a size in GB: a number >= 0", _optional(_number(strict=False))),
    "gpus": ("an integer >= 1", _COUNT),
    "timeout_min": ("minutes: an integer >= 1", _COUNT),
    "device": ("a device: cpu, cuda or cuda:N", _optional(_via(check_device))),
    "dtype": ("a dtype: float32, bfloat16 or float16", _optional(_via(check_dtype))),
}


def check_param(name: str, value: Any, label: str | None = None) -> Any:
    """`value` normalized by parameter `name`'s rule, or a ParameterError that starts with `label` (default
    'parameter NAME')."""
    if name not in RULES:
        raise TypeError(f"no rule for parameter {name!r}; known: {', '.join(RULES)}")
    expected, convert = RULES[name]
    try:
        return convert(value)
    except _Invalid as bad:
        message = str(bad) or f"got {value!r}; expected {expected}"
        raise ParameterError(f"{label or f'parameter {name}'}: {message}") from (bad.__cause__ or None)


def check_params(**params: Any) -> tuple:
    """Each parameter normalized by its rule (RULES), in the order given; the first wrong one raises a
    ParameterError. A notebook's first code cell: `models, seeds = check_params(models=models, seeds=seeds)`."""
    return tuple(check_param(name, value) for name, value in params.items())
