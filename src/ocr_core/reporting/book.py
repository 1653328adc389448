"""Build the book: execute every notebook with papermill (both embedded models), then run Jupyter Book.

    python -m ocr_core.reporting.book              # execute all notebooks, then build _build/html
    python -m ocr_core.reporting.book --only data_ordering --models smollm2-135m
    python -m ocr_core.reporting.book --no-execute # rebuild the HTML from the executed notebooks

Notebook sources are jupytext `py:percent` files in notebooks/; the executed notebooks go to book/chapters/,
where _toc.yml reads them. Experiments cache their results (results/) and finetuned deltas, so a second
build only re-renders. The delta cache is pruned to its limit after each chapter (`ocr_core.training.cache`).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from ocr_core.experiments.registry import names
from ocr_core.reporting.notebooks import repo_root, source_to_ipynb, strip_execution_metadata
from ocr_core.store import faults
from ocr_core.training.cache import enforce_limit

# The chapters that report on the experiments' results (they read results, never train), in book order.
REPORTS = ("cross_model", "model_scale", "sweep", "paper_vs_reproduction")
# In book order: one chapter per experiment (ocr_core.experiments.registry), then the reports. Each notebook's
# parameters cell has `models`, `results` and its own settings.
NOTEBOOKS = (*names(), *REPORTS)
# Chapters that aggregate a sweep folder instead of taking `models` (the book runs the default sweep first).
SWEEP_CHAPTERS = ("sweep",)
EMBEDDED = ("gemma-3-270m", "smollm2-135m")


def run_default_sweep(root: Path, results: str | None = None) -> str:
    """Run (or finish) the default sweep the "Sweeps" chapter shows; returns its folder."""
    from ocr_core.reporting.sweep import DEFAULT_DIR, DEFAULT_GRID, grid, run_local, write_manifest

    folder = root / (str(Path(results) / "sweeps" / "default") if results else DEFAULT_DIR)
    g = DEFAULT_GRID
    runs = grid(g["notebook"], g["models"], g["lrs"], g["epochs"], g["seeds"])
    write_manifest(folder, runs, ["sweep", "--dir", str(folder.relative_to(root))])
    run_local(runs, folder, root)
    return str(folder.relative_to(root))


def execute(name: str, root: Path, models: list[str], extra: dict | None = None, chapters: Path | None = None) -> float:
    """Execute one notebook into `chapters`/<name>.ipynb (default book/chapters); returns seconds."""
    import papermill

    source = source_to_ipynb(name, root)
    out = (chapters or root / "book" / "chapters") / f"{name}.ipynb"
    out.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    if name in SWEEP_CHAPTERS:
        parameters = dict(sweep_dir=run_default_sweep(root, (extra or {}).get("results")))
    else:
        parameters = dict(models=list(models), **(extra or {}))
    papermill.execute_notebook(
        str(source),
        str(out),
        parameters=parameters,
        cwd=str(root),
        progress_bar=False,
        kernel_name="python3",
    )
    strip_execution_metadata(out)
    return time.perf_counter() - started


def build_html(root: Path) -> float:
    started = time.perf_counter()
    subprocess.run(
        [str(Path(sys.executable).parent / "jupyter-book"), "build", str(root), "--path-output", str(root), "-q"],
        check=True,
        cwd=root,
    )
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ocr_core.reporting.book", description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=list(EMBEDDED))
    parser.add_argument("--only", nargs="+", choices=NOTEBOOKS, help="execute only these notebooks")
    parser.add_argument("--no-execute", action="store_true", help="build the HTML from executed notebooks")
    parser.add_argument("--no-html", action="store_true", help="execute notebooks but skip Jupyter Book")
    parser.add_argument("--results", default=None, help="results directory passed to every notebook")
    parser.add_argument("--seeds", type=int, nargs="+", default=None, help="seeds passed to every notebook")
    parser.add_argument("--chapters", type=Path, default=None, help="where executed notebooks go (book/chapters)")
    args = parser.parse_args(argv)
    root = repo_root()
    timings: dict[str, float] = {}
    started = time.perf_counter()
    if not args.no_execute:
        names = args.only or NOTEBOOKS
        for i, name in enumerate(names, 1):
            print(f"[book] {i}/{len(names)} {name} ({', '.join(args.models)}) ...", flush=True)
            extra = {k: v for k, v in (("results", args.results), ("seeds", args.seeds)) if v is not None}
            timings[name] = execute(name, root, args.models, extra, args.chapters)
            enforce_limit()
            faults.point("chapter")
            print(f"[book] {name}: {timings[name]:.0f} s (elapsed {time.perf_counter() - started:.0f} s)", flush=True)
    if not args.no_html:
        print("[book] jupyter-book build ...", flush=True)
        timings["jupyter-book build"] = build_html(root)
        print(f"[book] html: {timings['jupyter-book build']:.0f} s -> {root / '_build/html/index.html'}")
    timings["total"] = time.perf_counter() - started
    (root / "_build").mkdir(exist_ok=True)
    (root / "_build" / "book_timings.json").write_text(json.dumps(timings, indent=1) + "\n")
    print(f"[book] done in {timings['total']:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
