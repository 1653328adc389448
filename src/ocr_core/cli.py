"""Command line: `python -m ocr_core <command>` (or the `ocr-core` script).

A user error (a wrong argument, an unknown or unreachable model, a model that does not fit) prints one line,
`ocr_core: error: ...`, and exits with status 2; `--debug` or OCR_CORE_DEBUG=1 shows the traceback instead.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import NoReturn

from ocr_core.models.loading import DEFAULT_MODEL, EMBEDDED

# Option (argparse dest) -> the rule in ocr_core.experiments.params.RULES that checks it, before anything is loaded.
_OPTION_RULES = {
    "model": "models",
    "lr": "lr",
    "epochs": "epochs",
    "batch_size": "batch_size",
    "seeds": "seeds",
    "seed": "seed",
    "lrs": "lrs",
    "max_epochs": "max_epochs",
    "counterfactuals": "n_counterfactuals",
    "results": "results",
    "dir": "sweep_dir",
    "gpus": "gpus",
    "timeout_min": "timeout_min",
    "prune": "prune",
    "device": "device",
    "dtype": "dtype",
    "data": "data",
}


class _Parser(argparse.ArgumentParser):
    """argparse, with its usage errors in one line like every other user error."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"ocr_core: error: {message} (see: {self.prog} -h)\n")


def _check_args(args: argparse.Namespace) -> None:
    """Normalize every checked option in place (ocr_core.experiments.params), or raise the first ParameterError."""
    from ocr_core.experiments.params import check_param

    rules = dict(_OPTION_RULES, epochs="epoch_grid") if args.command == "sweep" else _OPTION_RULES
    for dest, rule in rules.items():
        if hasattr(args, dest):
            setattr(args, dest, check_param(rule, getattr(args, dest), "argument --" + dest.replace("_", "-")))


def _models(_: argparse.Namespace) -> int:
    from ocr_core.models.presets import PAPER_MODELS, model_spec
    from ocr_core.models.tiny import TINY_ARCHS
    from ocr_core.reporting.scale import finetune_peak_gib

    print("embedded (CPU, no network):")
    for name in EMBEDDED:
        spec = model_spec(name)
        print(f"  {name:<28} {spec.params_b:5.3f} B  lr={spec.lr:g} epochs={spec.epochs}  {spec.description}")
    print("the paper's models (GPU; planned device memory of full finetuning in bf16):")
    for name, spec in PAPER_MODELS.items():
        print(
            f"  {name:<28} {spec.params_b:5.1f} B  {finetune_peak_gib(spec):6.0f} GiB  lr={spec.lr:g} "
            f"epochs={spec.epochs}  {spec.paper}"
        )
    print("tiny random models: " + ", ".join(sorted(TINY_ARCHS)))
    print("any other Hugging Face id or local path also works (paper settings: lr=3e-6, epochs=8, bf16 on GPU)")
    return 0


def _plan(args: argparse.Namespace) -> int:
    from ocr_core.models.memory import MemoryPlanError, check_before_loading
    from ocr_core.models.placement import resolve

    status = 0
    for name in args.model:
        placement = resolve(name, device=args.device, dtype=args.dtype, device_map=args.device_map)
        try:
            check_before_loading(name, placement)
            print(f"[ocr_core] {name} fits ({placement.dtype} on {placement.device})")
        except MemoryPlanError as err:
            print(f"[ocr_core] {name} does not fit:\n{err}")
            status = 1
    return status


def _placement_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--device", default=None, help="cpu, cuda, cuda:1 (default: cuda when available)")
    p.add_argument("--dtype", default=None, help="float32, bfloat16 (default: bf16 for hub models on CUDA)")
    p.add_argument("--device-map", default=None, help="'auto': spread the model over every visible GPU")


def _embeddings(args: argparse.Namespace) -> bool | None:
    return None if args.embeddings is None else args.embeddings == "train"


def _experiment(args: argparse.Namespace) -> int:
    """Run (or reuse) one experiment, or the `dynamics` group, for each model and print its table."""
    import pandas as pd

    from ocr_core.experiments.registry import EXPERIMENTS, get

    group = [e for e in EXPERIMENTS if e.dynamics] if args.command == "dynamics" else [get(args.command)]
    # Every parsed option by its entry function's parameter name; each entry takes those it has (Experiment.call).
    options = {k: v for k, v in vars(args).items() if k not in ("command", "func", "argv", "debug", "model", "quiet")}
    if "embeddings" in options:
        options["embeddings"] = _embeddings(args)
    if "counterfactuals" in options:
        options["n_counterfactuals"] = options.pop("counterfactuals")
    for model in args.model:
        for experiment in group:
            started = time.perf_counter()
            run = experiment.call(model, **options, progress=not args.quiet)
            with pd.option_context("display.width", 250, "display.max_columns", 30, "display.precision", 2):
                print(f"== {experiment.name}, {model}")
                print(pd.DataFrame(experiment.rows(run.records())).to_string(index=False))
            seconds = time.perf_counter() - started
            print(f"[ocr_core] {experiment.name} on {model}: {run.path} ({seconds:.0f} s)", flush=True)
    return 0


def _sweep(args: argparse.Namespace) -> int:
    from ocr_core.reporting.sweep import main as sweep_main

    return sweep_main(args)


def _cache(args: argparse.Namespace) -> int:
    from ocr_core.store.io import cache_root
    from ocr_core.training.cache import cached_deltas, prune, summary

    if args.prune is not None:
        removed = prune(int(args.prune * 1e9), dry_run=args.dry_run)
        verb = "would remove" if args.dry_run else "removed"
        print(f"{verb} {len(removed)} deltas ({sum(e.size for e in removed) / 1e9:.2f} GB), oldest first")
    entries = cached_deltas()
    print(f"delta cache {cache_root() / 'deltas'}: {len(entries)} deltas, {sum(e.size for e in entries) / 1e9:.2f} GB")
    for row in summary(entries):
        print("  {model:<24} {deltas:>4} deltas {gb:>7.2f} GB  written {oldest} .. {newest}".format(**row))
    return 0


def _numerics(args: argparse.Namespace) -> int:
    import json

    from ocr_core import numerics

    print(numerics.mode() if args.mode else json.dumps(numerics.environment()) if args.json else numerics.describe())
    return 0


def _hop_options(p: argparse.ArgumentParser) -> None:
    """--hops and --data: the built-in hops and the user's own hop files (ocr_core.data.userdata)."""
    hops = ["first_hop", "second_hop"]
    p.add_argument(
        "--hops", nargs="+", choices=hops, default=None, help="built-in hops (default: both, or none with --data)"
    )
    p.add_argument(
        "--data",
        nargs="+",
        default=None,
        metavar="FILE",
        help="your own hop files (.csv/.json; columns kind, subject, prompt, answer; README 'Your own facts'), "
        "instead of the built-in hops or besides those named by --hops",
    )


# The options of `dynamics`: those its four experiments share (ocr_core.experiments.registry.OPTION_GROUPS).
_DYNAMICS = ("settings", "seeds")


def _subcommand(sub, name: str, help: str, func, options: tuple[str, ...]) -> argparse.ArgumentParser:
    """A subcommand with the options every experiment shares and its own option groups
    (ocr_core.experiments.registry.OPTION_GROUPS)."""
    p = sub.add_parser(name, help=help)
    p.add_argument("--model", nargs="+", default=[DEFAULT_MODEL], help="model names, HF ids or paths")
    if "settings" in options:
        p.add_argument("--lr", type=float, default=None, help="learning rate (default: the model's recommended)")
        p.add_argument("--epochs", type=int, default=None, help="epochs (default: the model's recommended)")
        p.add_argument("--batch-size", type=int, default=None)
    if "settings" in options or "embeddings" in options:
        p.add_argument(
            "--embeddings",
            choices=["train", "freeze"],
            default=None,
            help="train or freeze the input embedding and output layer (default: the model's recommended)",
        )
    if "seeds" in options:
        p.add_argument(
            "--seeds",
            type=int,
            nargs="+",
            default=None,
            help="default: 5 seeds for verification, freezing and scores, 3 for the other experiments",
        )
    if "seed" in options:
        p.add_argument("--seed", type=int, default=0)
    if "counterfactuals" in options:
        p.add_argument("--counterfactuals", type=int, default=10, help="counterfactual prompts per test item")
    if "lrs" in options:
        from ocr_core.experiments.settings import MAX_EPOCHS

        p.add_argument("--lrs", type=float, nargs="+", default=[1e-4, 2e-4, 3e-4])
        p.add_argument(
            "--max-epochs", type=int, default=MAX_EPOCHS, help="cap of each phase (it stops when its items are learned)"
        )
    if "hops" in options:
        _hop_options(p)
    p.add_argument("--results", default="results", help="results directory")
    _placement_options(p)
    p.add_argument("--force", action="store_true", help="rerun even if finished results exist")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=func)
    return p


def build_parser() -> argparse.ArgumentParser:
    from ocr_core.experiments.registry import EXPERIMENTS
    from ocr_core.reporting.sweep import DEFAULT_DIR, DEFAULT_GRID, SWEEPABLE

    parser = _Parser(prog="ocr_core", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    debug = "show the full traceback of an error instead of one line (also: OCR_CORE_DEBUG=1)"
    parser.add_argument("--debug", action="store_true", help=debug)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("models", help="list the embedded and tiny models").set_defaults(func=_models)

    for experiment in EXPERIMENTS:
        _subcommand(sub, experiment.cli, experiment.title, _experiment, experiment.options)
    dynamics = ", ".join(e.cli for e in EXPERIMENTS if e.dynamics)
    _subcommand(sub, "dynamics", f"the four training-dynamics experiments: {dynamics}", _experiment, _DYNAMICS)
    p = sub.add_parser("sweep", help="a grid of models x lr x epochs x seeds over a book notebook")
    p.add_argument("--model", nargs="+", default=DEFAULT_GRID["models"], help="model names, HF ids or paths")
    p.add_argument("--lrs", type=float, nargs="+", default=DEFAULT_GRID["lrs"])
    p.add_argument("--epochs", type=int, nargs="+", default=DEFAULT_GRID["epochs"])
    p.add_argument("--seeds", type=int, nargs="+", default=DEFAULT_GRID["seeds"])
    p.add_argument(
        "--notebook", choices=SWEEPABLE, default=DEFAULT_GRID["notebook"], help="which book notebook each run executes"
    )
    p.add_argument("--dir", default=DEFAULT_DIR, help="the sweep's folder (runs, logs, manifest)")
    p.add_argument(
        "--executor",
        choices=["local", "slurm", "debug"],
        default="local",
        help="local: one run after another here; slurm: a submitit job array; debug: submitit in-process",
    )
    p.add_argument("--partition", default=None, help="Slurm partition")
    p.add_argument("--gpus", type=int, default=1, help="GPUs per Slurm job")
    p.add_argument("--timeout-min", type=int, default=240, help="time limit per Slurm job")
    p.add_argument("--wait", action="store_true", help="wait for the submitted jobs")
    p.add_argument("--aggregate", action="store_true", help="print the finished runs' table and exit")
    _placement_options(p)
    p.set_defaults(func=_sweep)
    p = sub.add_parser("plan", help="print the memory plan of models and whether they fit here")
    p.add_argument("--model", nargs="+", default=[DEFAULT_MODEL])
    _placement_options(p)
    p.set_defaults(func=_plan)
    p = sub.add_parser("numerics", help="the numeric environment: pinned code paths, threads, versions, mode")
    p.add_argument("--mode", action="store_true", help="print only the mode: exact or tolerance")
    p.add_argument("--json", action="store_true", help="print the environment as JSON")
    p.set_defaults(func=_numerics)
    p = sub.add_parser("cache", help="show the finetuned-delta cache; --prune GB to shrink it")
    p.add_argument("--prune", type=float, default=None, metavar="GB", help="keep at most GB gigabytes, newest kept")
    p.add_argument("--dry-run", action="store_true", help="with --prune: only say what would be removed")
    p.set_defaults(func=_cache)
    for p in sub.choices.values():  # --debug after the command as well (SUPPRESS keeps the global one's value)
        p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=debug)
    return parser


def _debug(args: argparse.Namespace) -> bool:
    return bool(getattr(args, "debug", False)) or os.environ.get("OCR_CORE_DEBUG", "") not in ("", "0")


def main(argv: list[str] | None = None) -> int:
    from ocr_core import numerics
    from ocr_core.errors import describe, user_errors

    args = build_parser().parse_args(argv)
    args.argv = argv
    try:
        numerics.require()
        _check_args(args)  # before anything is loaded
        # Placement travels by environment, so notebooks' kernels and cluster jobs see it too.
        for option in ("device", "dtype", "device_map"):
            if getattr(args, option, None):
                os.environ[f"OCR_CORE_{option.upper()}"] = getattr(args, option)
        try:
            return args.func(args)
        finally:
            if args.func is not _cache:
                from ocr_core.training.cache import enforce_limit

                enforce_limit()
    except user_errors() as err:
        if _debug(args):
            raise
        print(f"ocr_core: error: {describe(err)}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
