"""Build the book: execute every notebook with papermill (both embedded models), then run Jupyter Book.

    python -m ocr_core.reporting.book              # execute all notebooks, then build _build/html
    python -m ocr_core.reporting.book --only data_ordering --models smollm2-135m
    python -m ocr_core.reporting.book --no-execute # rebuild the HTML from the executed notebooks

Notebook sources are jupytext `py:percent` files in notebooks/; the executed notebooks go to book/chapters/,
where _toc.yml reads them. Experiments cache their results (results/) and finetuned deltas, so a second
build only re-renders, and only the pages whose inputs changed (`_page_current`; `--force`: every page).
The delta cache is pruned to its limit after each chapter (`ocr_core.training.cache`).

With several models, `--jobs 2` (the default) and both models' largest finetunes within the memory budget
(`workers_fit`; `--memory-budget`, default 8 GB, which the embedded models exceed together: then one process
computes them), the experiment chapters are first computed in one worker process per model, one thread each (on 2
cores two 1-thread processes finish more finetunes than one 2-thread process; the bits are the same), and when one
worker is done the other's next finetune takes both cores. Each worker executes the chapters for its model alone
(in COMPUTE_ORDER) into _build/compute/<model>/, which leaves the results in the results folder; the chapters are
then executed for all models together, in book order, reading those results.
"""

from __future__ import annotations

import argparse
import json
import os
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
EXPERIMENT_CHAPTERS = names()
# The order a compute worker runs the experiment chapters in: the readers of cached deltas right after their
# producer, before later chapters' deltas push them out of the cache. The verification's finetunes (with the
# embeddings ablation 12 deltas per model, 8.8 GB for Gemma-3-270M) are read by robustness and scores (the
# blocks-only ones) and layer freezing (all); none of the three writes a delta.
COMPUTE_ORDER = (
    "prior_knowledge",
    "ocr_verification",
    "implication_robustness",
    "extractive_scores",
    "layer_freezing",
    "lr_sweep",
    "data_ordering",
    "weight_grafting",
    "grafting_localization",
    "structure_installation",
)
# Chapters that aggregate a sweep folder instead of taking `models` (the book runs the default sweep first).
SWEEP_CHAPTERS = ("sweep",)
EMBEDDED = ("gemma-3-270m", "smollm2-135m")
# The committed profile of a cold build (`python -m ocr_core.tools.bench book`): the progress lines' ETA.
PROFILE = Path("book") / "data" / "book_profile.json"


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
        # the kernel's own log (its start-up notice that local TCP is unencrypted) is noise between the
        # progress lines; errors in cells still fail the chapter with their traceback
        extra_arguments=["--IPKernelApp.log_level=ERROR"],
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


def compute_folder(root: Path, args: argparse.Namespace) -> Path:
    """Where the compute workers execute their chapters: _build/compute/, or compute/ beside `--chapters`."""
    return args.chapters.parent / "compute" if args.chapters else root / "_build" / "compute"


def _worker_command(model: str, names: list[str], root: Path, args: argparse.Namespace) -> list[str]:
    command = [sys.executable, "-m", "ocr_core.reporting.book", "--worker", "--no-html", "--models", model]
    command += ["--only", *names, "--chapters", str(compute_folder(root, args) / model)]
    if args.results is not None:
        command += ["--results", args.results]
    if args.seeds is not None:
        command += ["--seeds", *map(str, args.seeds)]
    return command


def compute_in_workers(names: list[str], root: Path, args: argparse.Namespace) -> dict[str, float]:
    """Compute the experiment chapters `names` for each model in its own worker process (module docstring):
    1 thread each, raised to `numerics.THREADS` in the last worker still running. Returns {model: seconds}."""
    from ocr_core import numerics

    folder = root / "_build" / "threads"
    folder.mkdir(parents=True, exist_ok=True)
    names = sorted(names, key=COMPUTE_ORDER.index)
    workers, started, seconds = {}, time.perf_counter(), {}
    for model in args.models:
        threads_file = folder / model
        threads_file.write_text("1\n")
        env = dict(os.environ, **{numerics.THREADS_VAR: "1", numerics.THREADS_FILE_VAR: str(threads_file)})
        workers[model] = subprocess.Popen(_worker_command(model, names, root, args), cwd=root, env=env)
    while workers:
        time.sleep(0.5)
        for model, proc in list(workers.items()):
            if proc.poll() is None:
                continue
            seconds[model] = time.perf_counter() - started
            del workers[model]
            if proc.returncode:  # stop the others now rather than hours later: what they finished is kept
                for other in workers.values():
                    other.terminate()
                for other in workers.values():
                    other.wait()
                raise RuntimeError(
                    f"the compute worker of {model} failed (its output is above); fix it and run the book again: "
                    "finished results and cached deltas are reused"
                )
            if len(workers) == 1:  # the last one running gets every core from its next finetune on
                (folder / next(iter(workers))).write_text(f"{numerics.THREADS}\n")
    return seconds


def _chapter_fingerprint(root: Path, name: str, models: list[str], extra: dict) -> str:
    """What a worker's execution of chapter `name` depends on beyond the results it reads: its notebook source
    and the parameters the book passes."""
    import hashlib

    source = (root / "notebooks" / f"{name}.py").read_bytes()
    parameters = json.dumps(dict(models=models, **extra), sort_keys=True).encode()
    return hashlib.sha256(source + b"\0" + parameters).hexdigest()[:16]


def _still_computed(manifest: Path, fingerprint: str, root: Path) -> bool:
    """Whether the worker's last execution of this chapter (its `manifest`) had the same fingerprint and every
    result it read or wrote is still finished: then there is nothing for the worker to compute. (Code that now
    keys the chapter's results differently is not seen here: the chapter then computes them when it is
    executed for all models, in one process.)"""
    try:
        info = json.loads(manifest.read_text())
    except (OSError, json.JSONDecodeError):
        return False
    return info.get("fingerprint") == fingerprint and _all_done(root, info.get("results") or [])


def _all_done(root: Path, paths: list[str]) -> bool:
    """Whether there are result folders in `paths` (relative to `root`, or absolute) and each is finished."""
    return bool(paths) and all((root / p / "DONE").exists() for p in paths)


def _package_digest(root: Path) -> str:
    """What every executed page depends on beyond its notebook and results: the package's code and data files
    and the book's data files (the paper's numbers), not the build profile, which each build rewrites."""
    import hashlib

    h = hashlib.sha256()
    package = Path(__file__).resolve().parents[1]
    files = sorted(p for p in package.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    files += sorted(p for p in (root / "book" / "data").glob("*") if p.is_file() and p.name != PROFILE.name)
    for p in files:
        h.update(p.name.encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()


def _page_fingerprint(root: Path, name: str, models: list[str], extra: dict, used: list[str], package: str) -> str:
    """An executed page's inputs: its notebook source and parameters (`_chapter_fingerprint`), the package
    (`_package_digest`) and the records of every result it read (their content: a recomputed result differs)."""
    import hashlib

    h = hashlib.sha256(_chapter_fingerprint(root, name, models, extra).encode() + package.encode())
    for path in sorted(set(used)):
        records = root / path / "records.json"
        h.update(path.encode() + b"\0" + (records.read_bytes() if records.exists() else b"missing"))
    return h.hexdigest()[:16]


def _page_manifest(root: Path, out: Path) -> Path:
    """Where the manifest of executed page `out` is kept: one folder per output folder (a build into
    another `--chapters` folder has its own)."""
    import hashlib

    folder = hashlib.sha256(str(out.parent.resolve()).encode()).hexdigest()[:12]
    return root / "_build" / "pages" / folder / f"{out.stem}.json"


def _page_current(root: Path, name: str, models: list[str], extra: dict, out: Path, package: str) -> bool:
    """Whether executed page `out` is up to date: executed by a build whose manifest holds the fingerprint its
    inputs have now. A warm rebuild then executes nothing; any change to a notebook, the package, the book's
    data or a result it read executes the page again."""
    manifest = _page_manifest(root, out)
    if not out.exists() or not manifest.exists():
        return False
    info = json.loads(manifest.read_text())
    fresh = _page_fingerprint(root, name, models, extra, info.get("results", []), package)
    return info.get("fingerprint") == fresh and info.get("page") == str(out)


def _results_kept(root: Path, out: Path) -> bool:
    """Whether every result that executed page `out` read last time is still there (then executing it again
    reads them instead of computing; a page never executed computes)."""
    manifest = _page_manifest(root, out)
    if not manifest.exists():
        return False
    return _all_done(root, json.loads(manifest.read_text()).get("results", []))


def _run_worker(names: list[str], root: Path, args: argparse.Namespace) -> None:
    """One compute worker: each chapter of `names` for `args.models` (one model), into `args.chapters`, with a
    manifest per chapter (its fingerprint and the results it used) so a rebuild skips what is still computed."""
    from ocr_core.store import events

    model = ",".join(args.models)
    chapters = args.chapters or compute_folder(root, args) / model
    extra = {k: v for k, v in (("results", args.results), ("seeds", args.seeds)) if v is not None}
    for name in names:
        os.environ["OCR_CORE_CHAPTER"] = name
        manifest = chapters / f"{name}.json"
        fingerprint = _chapter_fingerprint(root, name, args.models, extra)
        if _still_computed(manifest, fingerprint, root):
            events.emit("chapter", model=model, started=False, skipped=True)
            print(f"[book] {model}: {name} still computed (last build's results are all there)", flush=True)
            continue
        manifest.unlink(missing_ok=True)
        events.emit("chapter", model=model, started=True)
        seconds = execute(name, root, args.models, extra, chapters)
        events.emit("chapter", seconds, model=model, started=False)
        used = [
            e["path"]
            for e in events.read(events.events_file() or os.devnull)
            if e["kind"] == "result" and e.get("chapter") == name and e.get("model") == model and "path" in e
        ]
        manifest.write_text(json.dumps(dict(fingerprint=fingerprint, results=sorted(set(used))), indent=1) + "\n")
        enforce_limit()
        print(f"[book] {model}: {name} computed in {seconds:.0f} s", flush=True)


# Resident memory of a build process that loads no model (the build itself, each worker): torch and
# transformers are imported.
PROCESS_BYTES = 300 * 2**20
DEFAULT_MEMORY_BUDGET_GB = 8.0


def finetune_peaks(models: list[str]) -> dict[str, int]:
    """`memory.finetune_peak` of each model, computed in a child process (a model's config may need its first
    de-quantization, whose memory this process would keep)."""
    code = (
        "import json, sys; from ocr_core.models.memory import finetune_peak; "
        "print(json.dumps({m: finetune_peak(m) for m in sys.argv[1:]}))"
    )
    out = subprocess.run([sys.executable, "-c", code, *models], capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def workers_fit(models: list[str], budget_gb: float, peaks=finetune_peaks) -> tuple[bool, str]:
    """Whether one worker per model fits the memory budget (GB; 0: no budget): each worker's largest finetune
    by the memory plans, plus the build's and the workers' own processes, all at once. Else one process
    computes the chapters, one finetune at a time. Returns the decision and a line that says why."""
    if not budget_gb:
        return True, "one worker per model (no memory budget: --memory-budget 0)"
    need = dict(peaks(models))
    total = sum(need.values()) + (len(models) + 1) * PROCESS_BYTES
    each = ", ".join(f"{m} {b / 1e9:.1f} GB" for m, b in need.items())
    if total <= budget_gb * 1e9:
        return (
            True,
            f"one worker per model: {total / 1e9:.1f} GB at most by the memory plans ({each}) fit the "
            f"{budget_gb:g} GB memory budget",
        )
    return False, (
        f"one process, one finetune at a time: one worker per model would need up to {total / 1e9:.1f} GB by the "
        f"memory plans ({each}, their largest finetunes), over the {budget_gb:g} GB memory budget "
        "(--memory-budget GB, or OCR_CORE_MEMORY_BUDGET_GB; 0: none)"
    )


def _execute_all(names: list[str], root: Path, args: argparse.Namespace) -> dict[str, float]:
    """Execute `names` in order, with progress lines and an ETA (`reporting.progress`) from the work events the
    kernels write, and write the build's profile to _build/book_profile.json (`reporting.profile`)."""
    import resource

    from ocr_core.reporting import profile
    from ocr_core.reporting.progress import BuildMonitor, minutes
    from ocr_core.store import events
    from ocr_core.store.io import cache_root
    from ocr_core.store.results import provenance

    build = root / "_build"
    build.mkdir(exist_ok=True)
    events_path = build / "book_events.jsonl"
    earlier = profile.interrupted(events_path)  # a build stopped before its end: this one resumes it
    if earlier:
        print(f"[book] resuming a build interrupted after {len(earlier)} run(s): its work so far stays in the profile")
    else:
        events_path.unlink(missing_ok=True)
    events.emit_to(events_path, "build", started=True)
    expected = profile.load(root / PROFILE)
    saved = {k: os.environ.get(k) for k in ("OCR_CORE_EVENTS", "OCR_CORE_CHAPTER")}
    os.environ["OCR_CORE_EVENTS"] = str(events_path)  # the kernels inherit it
    # Workers and kernels inherit it too: glibc then keeps two malloc arenas per process instead of up to 8 per
    # core, so memory freed by one thread is reused by the other instead of held in an arena of its own.
    os.environ.setdefault("MALLOC_ARENA_MAX", "2")
    timings: dict[str, float] = {}
    compute_total: dict[str, float] = {}
    disk = [cache_root(), root / (args.results or "results")]
    started = time.perf_counter()
    experiments = [n for n in names if n in EXPERIMENT_CHAPTERS]
    parallel = args.jobs > 1 and len(args.models) > 1 and experiments
    if parallel:
        parallel, why = workers_fit(args.models, args.memory_budget)
        print(f"[book] {why}", flush=True)
    try:
        with BuildMonitor(events_path, names, expected, disk, resume=bool(earlier)) as monitor:
            if parallel:
                monitor.compute(args.models, sorted(experiments, key=COMPUTE_ORDER.index))
                print(f"[book] computing {len(experiments)} chapters, one worker per model | {monitor.eta()}")
                compute_total = compute_in_workers(experiments, root, args)
                monitor.poll()
                monitor.compute_done()
            elif experiments:  # the pages compute: the ETA counts each page's compute time where results are missing
                chapters = args.chapters or root / "book" / "chapters"
                monitor.serial(
                    {n: [] if _results_kept(root, chapters / f"{n}.ipynb") else args.models for n in experiments}
                )
            package = _package_digest(root)
            for i, name in enumerate(names):
                monitor.chapter(i)
                os.environ["OCR_CORE_CHAPTER"] = name
                extra = {k: v for k, v in (("results", args.results), ("seeds", args.seeds)) if v is not None}
                out = (args.chapters or root / "book" / "chapters") / f"{name}.ipynb"
                if not getattr(args, "force", False) and _page_current(root, name, args.models, extra, out, package):
                    print(f"[book] {i + 1}/{len(names)} {name}: up to date (nothing it reads changed)", flush=True)
                    timings[name] = 0.0
                    continue
                print(f"[book] {i + 1}/{len(names)} {name} ({', '.join(args.models)}) | {monitor.eta()}", flush=True)
                page_started = time.time()
                events.emit_to(events_path, "page", started=True)
                timings[name] = execute(name, root, args.models, extra, args.chapters)
                events.emit_to(events_path, "page", timings[name])
                used = [
                    e["path"]
                    for e in events.read(events_path)
                    if e["kind"] == "result" and e.get("chapter") == name and "path" in e and e["t"] >= page_started
                ]
                fingerprint = _page_fingerprint(root, name, args.models, extra, used, package)
                manifest = _page_manifest(root, out)
                manifest.parent.mkdir(parents=True, exist_ok=True)
                manifest.write_text(json.dumps(dict(fingerprint=fingerprint, page=str(out), results=sorted(set(used)))))
                enforce_limit()
                faults.point("chapter")
                elapsed = minutes(time.perf_counter() - started)
                print(f"[book] {name}: {timings[name]:.0f} s ({elapsed} elapsed)", flush=True)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    events.emit_to(events_path, "peak", disk=monitor.peak_disk, rss=monitor.peak_rss, anon=monitor.peak_anon)
    where = provenance()
    meta = dict(models=list(args.models), seeds=args.seeds, jobs=args.jobs, commit=where["commit"], cpu=where["cpu"])
    # what decided one worker per model against one process (a resumed build records its last run's)
    meta.update(memory_budget_gb=args.memory_budget, workers=bool(parallel))
    all_events = events.read(events_path)
    rows = profile.summarize(all_events)
    compute = dict(chapters=monitor.compute_seconds, total=compute_total)
    meta["runs"] = profile.runs(all_events)  # [{started, seconds, peaks}]: more than one when the build was resumed
    peak = dict(  # every process of the build, summed (sampled); the largest of the runs'
        disk_gb=max(r["disk_gb"] for r in meta["runs"]),
        rss_gb=max(r["rss_gb"] for r in meta["runs"]),
        anon_gb=max(r["anon_gb"] for r in meta["runs"]),  # of it, memory no file backs (not the mapped weights)
        largest_process_rss_gb=round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1e6, 2),
    )
    pages = profile.page_seconds(all_events)  # a resumed build's earlier runs executed pages too
    chapters = {name: pages.get(name, 0.0) for name in timings}
    profile.write(build / "book_profile.json", rows=rows, chapters=chapters, peak=peak, meta=meta, compute=compute)
    events.emit_to(events_path, "build", done=True)  # the next build starts a new profile
    print(
        f"[book] peak disk (cache + results) {peak['disk_gb']} GB, peak memory (all processes) {peak['rss_gb']} GB",
        flush=True,
    )
    return timings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ocr_core.reporting.book", description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=list(EMBEDDED))
    parser.add_argument("--only", nargs="+", choices=NOTEBOOKS, help="execute only these notebooks")
    parser.add_argument("--no-execute", action="store_true", help="build the HTML from executed notebooks")
    parser.add_argument("--no-html", action="store_true", help="execute notebooks but skip Jupyter Book")
    parser.add_argument("--results", default=None, help="results directory passed to every notebook")
    parser.add_argument("--seeds", type=int, nargs="+", default=None, help="seeds passed to every notebook")
    parser.add_argument("--chapters", type=Path, default=None, help="where executed notebooks go (book/chapters)")
    parser.add_argument(
        "--jobs", type=int, choices=(1, 2), default=2, help="compute workers (one per model; 1: one process)"
    )
    parser.add_argument(
        "--force", action="store_true", help="execute every page, even those whose inputs did not change"
    )
    parser.add_argument(
        "--memory-budget",
        type=float,
        default=float(os.environ.get("OCR_CORE_MEMORY_BUDGET_GB") or DEFAULT_MEMORY_BUDGET_GB),
        help="GB of resident memory the build may use (default 8; 0: no budget): one worker per model only "
        "when their largest finetunes fit it together, by the memory plans",
    )
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)  # see compute_in_workers
    args = parser.parse_args(argv)
    if args.memory_budget < 0:
        parser.error(f"--memory-budget: got {args.memory_budget:g}; expected GB >= 0 (0: no budget)")
    root = repo_root()
    if args.worker:
        _run_worker(args.only or [], root, args)
        return 0
    timings: dict[str, float] = {}
    started = time.perf_counter()
    if not args.no_execute:
        names = args.only or NOTEBOOKS
        timings.update(_execute_all(names, root, args))
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
