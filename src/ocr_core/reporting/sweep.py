"""Sweeps: a grid of models x learning rates x epochs x seeds, each run one papermill execution of a book
notebook, locally or on a Slurm cluster through submitit; and the aggregation of finished runs.

    python -m ocr_core sweep --models smollm2-135m --lrs 5e-5 1e-4 --epochs 5 10 --seeds 0
    python -m ocr_core sweep ... --executor slurm --partition gpu --gpus 1 --timeout-min 120

Layout: `<sweep>/sweep.json` (the grid and the command), `<sweep>/runs/<key>/` per run with the executed
`notebook.ipynb`, `run.json`, the run's own `results/` and a `DONE` marker written last. A run with `DONE`
is skipped, so a sweep killed half way resumes where it stopped (and the deltas a killed run finished are
cached, so even it restarts cheaply). Each run is its own process: papermill starts a fresh kernel locally,
submitit a fresh job on the cluster.
"""

from __future__ import annotations

import itertools
import json
import shlex
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from ocr_core.errors import UserError
from ocr_core.experiments.registry import EXPERIMENTS
from ocr_core.store.io import atomic_write_bytes, atomic_write_json, safe_name
from ocr_core.training.cache import enforce_limit

# Notebooks a sweep can run: their parameters cell takes models, lr, epochs, seeds and results.
SWEEPABLE = tuple(e.name for e in EXPERIMENTS if e.sweeps)
# Exceptions a run's kernel raises for the user to fix (ocr_core.errors.user_errors, by name).
_USER_ERRORS = (
    "ParameterError",
    "ModelUnavailableError",
    "MemoryPlanError",
    "DatasetTokenError",
    "MissingResultError",
    "UserError",
)
# The sweep the book's "Sweeps" chapter shows (`make book` runs it; finished runs are skipped).
DEFAULT_DIR = "results/sweeps/default"
DEFAULT_GRID = dict(notebook="ocr_verification", models=["smollm2-135m"], lrs=[5e-5, 1e-4], epochs=[5, 10], seeds=[0])


@dataclass(frozen=True)
class Run:
    """One point of the grid."""

    notebook: str
    model: str
    lr: float
    epochs: int
    seed: int

    @property
    def key(self) -> str:
        return f"{safe_name(self.model)}__lr={self.lr:g}__epochs={self.epochs}__seed={self.seed}"

    def parameters(self, folder: Path) -> dict:
        return dict(models=[self.model], lr=self.lr, epochs=self.epochs, seeds=[self.seed], results=str(folder))


def grid(notebook: str, models: Sequence[str], lrs: Sequence[float], epochs: Sequence[int], seeds: Sequence[int]):
    """Every combination, in a fixed order (model, lr, epochs, seed)."""
    if notebook not in SWEEPABLE:
        raise ValueError(f"cannot sweep {notebook!r}; choose from {SWEEPABLE}")
    return [Run(notebook, *point) for point in itertools.product(models, lrs, epochs, seeds)]


def run_folder(sweep: Path, run: Run) -> Path:
    return Path(sweep) / "runs" / run.key


def is_done(sweep: Path, run: Run) -> bool:
    return (run_folder(sweep, run) / "DONE").exists()


def execute_run(run: Run, sweep: str | Path, root: str | Path) -> str:
    """Execute one run's notebook with papermill (a fresh kernel) and mark it done; skip it if done."""
    from ocr_core.reporting.notebooks import source_to_ipynb, strip_execution_metadata

    folder = run_folder(Path(sweep), run)
    if (folder / "DONE").exists():
        return "skipped"
    import papermill

    folder.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    source = source_to_ipynb(run.notebook, Path(root))
    partial = folder / "notebook.partial.ipynb"
    try:
        papermill.execute_notebook(
            str(source),
            str(partial),
            parameters=run.parameters(folder.resolve() / "results"),
            cwd=str(root),
            progress_bar=False,
            kernel_name="python3",
        )
    except papermill.PapermillExecutionError as err:
        if err.ename in _USER_ERRORS:  # the notebook refused its parameters or model: say so in one line
            raise UserError(f"sweep run {run.key}: {err.ename}: {err.evalue} (notebook: {partial})") from err
        raise
    strip_execution_metadata(partial)
    partial.replace(folder / "notebook.ipynb")
    atomic_write_json(folder / "run.json", dict(asdict(run), seconds=round(time.perf_counter() - started, 1)))
    atomic_write_bytes(folder / "DONE", b"")
    enforce_limit()
    return "done"


def write_manifest(sweep: Path, runs: Sequence[Run], argv: Sequence[str]) -> None:
    atomic_write_json(
        Path(sweep) / "sweep.json",
        dict(command="python -m ocr_core " + shlex.join(argv), runs=[asdict(r) for r in runs]),
    )


def run_local(runs: Sequence[Run], sweep: Path, root: Path, *, log=print) -> dict[str, int]:
    """Run the grid here, one run after another (each in its own kernel process)."""
    counts = {"done": 0, "skipped": 0}
    started = time.perf_counter()
    for i, run in enumerate(runs, 1):
        if is_done(sweep, run):
            log(f"[sweep] {i}/{len(runs)} {run.key}: finished earlier, skipped")
            counts["skipped"] += 1
            continue
        log(f"[sweep] {i}/{len(runs)} {run.key} ...")
        counts[execute_run(run, sweep, root)] += 1
        log(f"[sweep] {i}/{len(runs)} {run.key}: done (elapsed {time.perf_counter() - started:.0f} s)")
    return counts


def run_submitit(runs: Sequence[Run], sweep: Path, root: Path, *, cluster: str | None, wait: bool, **params):
    """Submit the unfinished runs as one job array with submitit (`cluster`: None = Slurm if available,
    "slurm", "local" or "debug"); `params` go to `executor.update_parameters` (timeout_min, gpus_per_node,
    slurm_partition, ...). Returns the jobs."""
    try:
        import submitit
    except ImportError as err:
        raise SystemExit("the cluster executor needs submitit: pip install -e '.[cluster]'") from err
    todo = [r for r in runs if not is_done(sweep, r)]
    if not todo:
        return []
    executor = submitit.AutoExecutor(folder=str(Path(sweep) / "submitit" / "%j"), cluster=cluster)
    executor.update_parameters(name=f"ocr_core-{Path(sweep).name}", **params)
    jobs = executor.map_array(execute_run, todo, [str(sweep)] * len(todo), [str(root)] * len(todo))
    if wait:
        for job in jobs:
            job.result()
    return jobs


def aggregate(sweep: str | Path) -> list[dict]:
    """Tidy rows from every finished run: its grid point, hop/split and mean ranks before and after."""
    from ocr_core.experiments.ocr_verification import summarize_ocr

    rows = []
    for done in sorted(Path(sweep).glob("runs/*/DONE")):
        folder = done.parent
        run = json.loads((folder / "run.json").read_text())
        if run["notebook"] != "ocr_verification":
            continue
        files = sorted(folder.glob("results/ocr_verification/*/*/records.json"))
        records = [r for f in files for r in json.loads(f.read_text())]
        for row in summarize_ocr(records):
            rows.append(
                dict(
                    model=run["model"],
                    lr=run["lr"],
                    epochs=run["epochs"],
                    seed=run["seed"],
                    hop=row["hop"],
                    split=row["split"],
                    before=row["before"],
                    after=row["after"],
                    gain=row["before"] - row["after"],
                    seconds=run["seconds"],
                )
            )
    return rows


def main(args) -> int:
    """`python -m ocr_core sweep` (arguments parsed in ocr_core.cli)."""
    from ocr_core.reporting.notebooks import repo_root

    root = repo_root()
    sweep = Path(args.dir)
    runs = grid(args.notebook, args.model, args.lrs, args.epochs, args.seeds)
    if args.aggregate:
        import pandas as pd

        frame = pd.DataFrame(aggregate(sweep))
        print(frame.round(2).to_string(index=False) if len(frame) else f"no finished runs under {sweep}")
        return 0
    write_manifest(sweep, runs, args.argv if args.argv is not None else sys.argv[1:])
    if args.executor == "local":
        counts = run_local(runs, sweep, root)
        print(f"[sweep] {counts['done']} run, {counts['skipped']} skipped; results under {sweep / 'runs'}")
    else:
        params = dict(timeout_min=args.timeout_min, gpus_per_node=args.gpus)
        if args.partition:
            params["slurm_partition"] = args.partition
        jobs = run_submitit(runs, sweep, root, cluster=args.executor, wait=args.wait, **params)
        print(
            f"[sweep] submitted {len(jobs)} jobs ({len(runs) - len(jobs)} finished earlier); logs in "
            f"{sweep / 'submitit'}"
        )
    return 0
