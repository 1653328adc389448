"""Command line: `python -m ocr_core <command>` (or the `ocr-core` script)."""

from __future__ import annotations

import argparse
import sys
import time

from ocr_core.models import DEFAULT_MODEL, EMBEDDED


def _models(_: argparse.Namespace) -> int:
    from ocr_core.models import model_spec
    from ocr_core.tiny import TINY_ARCHS

    for name in EMBEDDED:
        spec = model_spec(name)
        print(f"{name:<14} lr={spec.lr:g} epochs={spec.epochs}  {spec.description}")
    print("tiny random models: " + ", ".join(sorted(TINY_ARCHS)))
    print("any Hugging Face id or local path also works (paper settings: lr=3e-6, epochs=8, bf16 on GPU)")
    return 0


def _embeddings(args: argparse.Namespace) -> bool | None:
    return None if args.embeddings is None else args.embeddings == "train"


def _verify(args: argparse.Namespace) -> int:
    from ocr_core.experiments.ocr_verification import format_summary, summarize_ocr, verify

    for model in args.model:
        started = time.perf_counter()
        run = verify(
            model,
            lr=args.lr,
            epochs=args.epochs,
            batch_size=args.batch_size,
            embeddings=_embeddings(args),
            seeds=args.seeds,
            hops=args.hops,
            results=args.results,
            force=args.force,
            progress=not args.quiet,
        )
        print(format_summary(summarize_ocr(run.records())))
        print(f"[ocr_core] {model}: results in {run.path} ({time.perf_counter() - started:.0f} s)", flush=True)
    return 0


def _scores(args: argparse.Namespace) -> int:
    import pandas as pd

    from ocr_core.experiments.scores import scores, summarize_scores

    for model in args.model:
        started = time.perf_counter()
        run = scores(
            model,
            hops=args.hops,
            lr=args.lr,
            epochs=args.epochs,
            embeddings=_embeddings(args),
            seed=args.seed,
            n_counterfactuals=args.counterfactuals,
            results=args.results,
            force=args.force,
            progress=not args.quiet,
        )
        with pd.option_context("display.width", 200, "display.max_columns", 20):
            print(summarize_scores(pd.DataFrame(run.records())).to_string(index=False))
        print(f"[ocr_core] {model}: score table in {run.path} ({time.perf_counter() - started:.0f} s)", flush=True)
    return 0


DYNAMICS = ("freezing", "ordering", "grafting", "localization")


def _dynamics(args: argparse.Namespace) -> int:
    import pandas as pd

    from ocr_core.experiments import freezing, grafting, localization, ordering

    experiments = {
        "freezing": (freezing.freezing, freezing.freezing_table),
        "ordering": (ordering.ordering, ordering.ordering_table),
        "grafting": (grafting.grafting, grafting.grafting_table),
        "localization": (localization.localization, localization.localization_table),
    }
    names = DYNAMICS if args.command == "dynamics" else (args.command,)
    for model in args.model:
        for name in names:
            run_fn, table_fn = experiments[name]
            started = time.perf_counter()
            run = run_fn(
                model,
                lr=args.lr,
                epochs=args.epochs,
                batch_size=args.batch_size,
                embeddings=_embeddings(args),
                seeds=args.seeds,
                results=args.results,
                force=args.force,
                progress=not args.quiet,
            )
            with pd.option_context("display.width", 250, "display.max_columns", 30, "display.precision", 2):
                print(f"== {name}, {model}")
                print(pd.DataFrame(table_fn(run.records())).to_string(index=False))
            print(f"[ocr_core] {name} on {model}: {run.path} ({time.perf_counter() - started:.0f} s)", flush=True)
    return 0


def _lr_sweep(args: argparse.Namespace) -> int:
    import pandas as pd

    from ocr_core.experiments.lr_sweep import lr_sweep, sweep_table

    for model in args.model:
        run = lr_sweep(
            model,
            lrs=args.lrs,
            epochs=args.epochs,
            embeddings=_embeddings(args) is not False,
            seed=args.seed,
            results=args.results,
            force=args.force,
            progress=not args.quiet,
        )
        print(f"== lr sweep, {model}, {args.epochs} epochs per phase")
        print(pd.DataFrame(sweep_table(run.records())).to_string(index=False))
    return 0


def _subcommand(
    sub, name: str, help: str, func, *, settings: bool = True, seeds: bool = True
) -> argparse.ArgumentParser:
    """A subcommand with the options every experiment shares."""
    p = sub.add_parser(name, help=help)
    p.add_argument("--model", nargs="+", default=[DEFAULT_MODEL], help="model names, HF ids or paths")
    if settings:
        p.add_argument("--lr", type=float, default=None, help="learning rate (default: the model's recommended)")
        p.add_argument("--epochs", type=int, default=None, help="epochs (default: the model's recommended)")
        p.add_argument("--batch-size", type=int, default=None)
    if settings or name == "lr-sweep":
        p.add_argument(
            "--embeddings",
            choices=["train", "freeze"],
            default=None,
            help="train or freeze the input embedding and output layer (default: the model's recommended)",
        )
    if seeds:
        p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    else:
        p.add_argument("--seed", type=int, default=0)
    p.add_argument("--results", default="results", help="results directory")
    p.add_argument("--force", action="store_true", help="rerun even if finished results exist")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=func)
    return p


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ocr_core", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("models", help="list the embedded and tiny models").set_defaults(func=_models)

    p = _subcommand(sub, "verify", "OCR verification: finetune on facts, rank implications", _verify)
    p.add_argument("--hops", nargs="+", default=["first_hop", "second_hop"])
    p = _subcommand(sub, "scores", "extractive scores after finetuning each hop's facts", _scores, seeds=False)
    p.add_argument("--counterfactuals", type=int, default=10, help="counterfactual prompts per test item")
    p.add_argument("--hops", nargs="+", default=["first_hop", "second_hop"])
    p = _subcommand(
        sub,
        "lr-sweep",
        "learning-rate sweep on the fictional relations (W_F, then W_{F,I})",
        _lr_sweep,
        settings=False,
        seeds=False,
    )
    p.add_argument("--lrs", type=float, nargs="+", default=[1e-4, 3e-4, 1e-3])
    p.add_argument("--epochs", type=int, default=5)
    helps = dict(
        freezing="layer freezing (pre and post, early and late blocks)",
        ordering="data ordering on the fictional relations, then test-name OCR",
        grafting="weight grafting of W_{F,I} onto counterfactual facts",
        localization="informative(W_{F,I}) vs downstream(OCR) per component",
        dynamics="all four training-dynamics experiments",
    )
    for name, text in helps.items():
        _subcommand(sub, name, text, _dynamics)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
