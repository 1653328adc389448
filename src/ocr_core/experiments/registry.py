"""Every experiment, once: its one name and what the rest of the package derives from it.

`name` is the experiment's module (`ocr_core.experiments.<name>`), its results folder (`EXPERIMENT`), its
notebook (`notebooks/<name>.py`) and chapter (`book/chapters/<name>`), and, with hyphens, its subcommand
(`python -m ocr_core <cli>`). The command line, the book's notebook list, the sweepable notebooks, the
end-to-end check and the paper comparison are all read from EXPERIMENTS; `tests/test_registry.py` checks that
the names agree everywhere.

Adding an experiment: its module (VERSION, EXPERIMENT = its name, an entry function that runs or reuses it
through `base.run_cached`, a records -> rows table function), its notebook, its test, one line in `_toc.yml`
and one entry here (in book order).

Modules are imported only when an entry is used, so the command line starts without torch.
"""

from __future__ import annotations

import importlib
import inspect
import shlex
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

# Command-line option groups an experiment's subcommand takes (ocr_core.cli builds them):
#   settings: --lr --epochs --batch-size --embeddings     embeddings: --embeddings alone
#   seeds: --seeds S...   seed: --seed S                  hops: --hops and --data (the user's hop files)
#   counterfactuals: --counterfactuals N                  lrs: --lrs LR... and --max-epochs N (each phase's cap)
OPTION_GROUPS = ("settings", "embeddings", "seeds", "seed", "hops", "counterfactuals", "lrs")
_SETTINGS = ("lr", "epochs", "batch_size", "embeddings")


@dataclass(frozen=True)
class Experiment:
    """One experiment: see the module docstring."""

    name: str
    title: str  # one line: the subcommand's help
    run: str  # the module's entry function: run (or reuse) it for one model, returns a RunDir (or SeedRuns)
    table: str  # the module's function records -> rows (a list of dicts) that the command line prints
    options: tuple[str, ...] = ()  # OPTION_GROUPS of its subcommand, beyond --model, --results and placement
    fictional: bool = False  # default lr and epochs: the model's for the fictional relations (Settings.for_model)
    dynamics: bool = False  # one of the four training-dynamics experiments (`python -m ocr_core dynamics`)
    sweeps: bool = False  # its notebook takes models, lr, epochs, seeds and results: `python -m ocr_core sweep`
    check: bool = False  # run by the end-to-end check (ocr_core.tools.check) on every paper architecture
    paper: bool = False  # the paper has a table of it (book/data/paper_numbers.json, the paper_vs_reproduction chapter)

    @property
    def module(self) -> str:
        return f"{__package__}.{self.name}"

    @property
    def cli(self) -> str:
        """Its subcommand: `python -m ocr_core <cli>`."""
        return self.name.replace("_", "-")

    def load(self) -> ModuleType:
        return importlib.import_module(self.module)

    @property
    def version(self) -> int:
        return self.load().VERSION

    def entry(self) -> Callable:
        """The entry function: `entry()(model, **settings)` runs or reuses the experiment for one model."""
        return getattr(self.load(), self.run)

    def rows(self, records: list[dict]) -> list[dict]:
        return getattr(self.load(), self.table)(records)

    def call(self, model: str, **kwargs):
        """The entry for `model` with those of `kwargs` that it takes (others ignored: the options of a group
        of experiments that not every one of them has)."""
        fn = self.entry()
        accepted = inspect.signature(fn).parameters
        return fn(model, **{k: v for k, v in kwargs.items() if k in accepted})

    def command(self, model: str, config: dict, results: str | Path = "results") -> str:
        """The command that produces the result of `model` with `config` (as the entry passed it to
        run_cached): --model, --seeds (or --seed) and --results always, other options only where the config
        differs from their default; settings with no option are named after the command."""
        from ocr_core.experiments.settings import Settings

        defaults = {
            k: p.default for k, p in inspect.signature(self.entry()).parameters.items() if p.default is not p.empty
        }
        model_defaults = Settings.for_model(model, fictional=self.fictional).kwargs()
        args = ["python", "-m", "ocr_core", self.cli, "--model", model]
        unsettable = []
        for key, value in config.items():
            if key == "ocr":  # structure_installation's OCR stage: the model's OCR-verification settings by default
                ocr = Settings.for_model(model).kwargs()
                unsettable += [f"ocr_{k}={v!r}" for k, v in value.items() if v != ocr[k]]
                continue
            if key == "data":
                files = ", ".join(f"{d['name']} (sha256 {d['sha256'][:12]})" for d in value)
                args += ["--data", "FILE..."]
                unsettable.append(f"FILE: the hop files {files}")
                continue
            if key == "seed" and "seeds" in self.options:  # one cached run per seed (structure_installation)
                key, value = "seeds", [value]
            if key not in ("seeds", "seed"):  # always named; the others where they differ from their default
                if key == "hops":
                    default = [] if config.get("data") else ["first_hop", "second_hop"]
                elif key in _SETTINGS and defaults.get(key) is None:
                    default = model_defaults[key]
                elif key in defaults:
                    default = defaults[key]
                else:
                    continue  # fixed by the code (a data pool), not a choice of the caller
                if _same(value, default):
                    continue
            option = "counterfactuals" if key == "n_counterfactuals" else key
            if not self._has_option(option):
                unsettable.append(f"{key}={value!r}")
                continue
            if key == "embeddings":
                value = "train" if value else "freeze"
            args += ["--" + option.replace("_", "-"), *map(str, value if isinstance(value, list | tuple) else [value])]
        args += ["--results", str(results)]
        line = shlex.join(args)
        return line + (f" (with {'; '.join(unsettable)})" if unsettable else "")

    def _has_option(self, key: str) -> bool:
        groups = {
            "lr": "settings",
            "epochs": "settings",
            "max_epochs": "lrs",
            "batch_size": "settings",
            "embeddings": "embeddings" if "embeddings" in self.options else "settings",
            "hops": "hops",
            "counterfactuals": "counterfactuals",
            "lrs": "lrs",
            "seeds": "seeds",
            "seed": "seed",
        }
        return groups.get(key) in self.options


def _same(value, default) -> bool:
    if isinstance(value, list | tuple) and isinstance(default, list | tuple):
        return list(value) == list(default)
    return value == default


_HOP = ("settings", "seeds", "hops")
_TWO_PHASE = ("settings", "seeds")

# In book order.
EXPERIMENTS: tuple[Experiment, ...] = (
    Experiment(
        "prior_knowledge",
        "what the base model already knows: city -> language, landmark -> city",
        run="prior_knowledge",
        table="knowledge_table",
        check=True,
    ),
    Experiment(
        "ocr_verification",
        "OCR verification: finetune on facts, rank implications",
        run="verify",
        table="summarize_ocr",
        options=_HOP,
        sweeps=True,
        check=True,
        paper=True,
    ),
    Experiment(
        "implication_robustness",
        "OCR on paraphrased implication templates and another attribute of the latent city",
        run="robustness",
        table="robustness_table",
        options=("settings", "seeds"),
    ),
    Experiment(
        "extractive_scores",
        "extractive scores after finetuning each hop's facts",
        run="scores",
        table="scores_table",
        options=("settings", "seed", "counterfactuals", "hops"),
        check=True,
    ),
    Experiment(
        "lr_sweep",
        "learning-rate sweep on the fictional relations (W_F, then W_{F,I})",
        run="lr_sweep",
        table="sweep_table",
        options=("embeddings", "seed", "lrs"),
    ),
    Experiment(
        "layer_freezing",
        "layer freezing (pre and post, early and late blocks)",
        run="freezing",
        table="freezing_table",
        options=_HOP,
        dynamics=True,
        sweeps=True,
        check=True,
        paper=True,
    ),
    Experiment(
        "data_ordering",
        "data ordering on the fictional relations, then test-name OCR",
        run="ordering",
        table="ordering_table",
        options=_TWO_PHASE,
        fictional=True,
        dynamics=True,
        sweeps=True,
        check=True,
        paper=True,
    ),
    Experiment(
        "weight_grafting",
        "weight grafting of W_{F,I} onto counterfactual facts",
        run="grafting",
        table="grafting_table",
        options=_TWO_PHASE,
        fictional=True,
        dynamics=True,
        sweeps=True,
        check=True,
        paper=True,
    ),
    Experiment(
        "grafting_localization",
        "informative(W_{F,I}) vs downstream(OCR) per component",
        run="localization",
        table="localization_table",
        options=_TWO_PHASE,
        fictional=True,
        dynamics=True,
        check=True,
        paper=True,
    ),
    Experiment(
        "structure_installation",
        "beyond the paper: install a structure on real templates, then fresh-name OCR",
        run="installation",
        table="installation_table",
        options=_TWO_PHASE,
        fictional=True,
    ),
)

BY_NAME = {e.name: e for e in EXPERIMENTS}


def names(experiments: Sequence[Experiment] = EXPERIMENTS) -> tuple[str, ...]:
    return tuple(e.name for e in experiments)


def get(name: str) -> Experiment:
    """The experiment called `name` (its one name, or its subcommand)."""
    return BY_NAME[name.replace("-", "_")]
