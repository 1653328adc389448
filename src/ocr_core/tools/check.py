"""End-to-end check: every experiment once per model, with timings, on whatever device is asked for.

    python -m ocr_core.tools.check                         # GPU machine: gemma-3-270m + tiny paper architectures, bf16
    python -m ocr_core.tools.check --device cpu --dtype float32 --models tiny-olmo tiny-llama

Meant for a fresh GPU machine before a long run (`scripts/gpu_check.sh`, a few minutes on one H100); the test
suite runs the same function on the CPU with the tiny random models of every paper architecture. Results go to
a throwaway folder. Exit status 1 if any experiment failed; the table says which and why.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import traceback
from collections.abc import Callable, Sequence

DEFAULT_MODELS = ("gemma-3-270m", "tiny-olmo", "tiny-llama", "tiny-gemma2", "tiny-qwen2", "tiny-mistral")


def _experiments() -> dict[str, Callable]:
    """The checked experiments (registry entries with `check`): name -> fn(model, results, seeds) -> run."""
    from ocr_core.experiments.registry import EXPERIMENTS

    return {
        e.name: lambda m, r, s, e=e: e.call(m, seeds=s, seed=s[0], results=r, progress=False)
        for e in EXPERIMENTS
        if e.check
    }


def check(
    models: Sequence[str], *, results: str, seeds: Sequence[int] = (0,), only: Sequence[str] | None = None, log=print
) -> list[dict]:
    """Run each experiment (all, or `only`) on each model; one row per pair: seconds, records, error."""
    experiments = _experiments()
    rows = []
    for model in models:
        for name, fn in experiments.items():
            if only and name not in only:
                continue
            started = time.perf_counter()
            try:
                records = len(fn(model, results, list(seeds)).records())
                error = ""
            except Exception as err:  # report every failure, then exit 1
                records, error = 0, f"{type(err).__name__}: {err}"
                traceback.print_exc()
            row = dict(model=model, experiment=name, seconds=round(time.perf_counter() - started, 1), records=records)
            rows.append(dict(row, error=error))
            log(f"[check] {model:<14} {name:<22} {row['seconds']:7.1f} s  {'FAILED ' + error if error else 'ok'}")
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ocr_core.tools.check", description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=list(DEFAULT_MODELS))
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--dtype", default="bfloat16")
    parser.add_argument("--only", nargs="+", default=None, help="these experiments only (their names)")
    parser.add_argument("--results", default=None, help="results folder (default: a temporary one)")
    args = parser.parse_args(argv)
    os.environ["OCR_CORE_DEVICE"], os.environ["OCR_CORE_DTYPE"] = args.device, args.dtype
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="ocr_core-check-") as tmp:
        rows = check(args.models, results=args.results or tmp, only=args.only)
    failed = [r for r in rows if r["error"]]
    print(
        f"[check] {len(rows) - len(failed)} of {len(rows)} passed in {time.perf_counter() - started:.0f} s "
        f"({args.dtype} on {args.device})"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
