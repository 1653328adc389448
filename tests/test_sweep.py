"""`ocr_core sweep`: a 2x2 grid runs the real notebook per point, resumes after a kill without redoing
finished runs, aggregates, and goes through submitit's executor the same way."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ocr_core.reporting.notebooks import repo_root
from ocr_core.reporting.sweep import Run, aggregate, grid, is_done, run_submitit

ROOT = repo_root(Path(__file__).parent)
GRID = ["--model", "tiny-llama", "--lrs", "1e-3", "3e-3", "--epochs", "1", "2", "--seeds", "0"]


@pytest.fixture(autouse=True)
def _private_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("OCR_CORE_CACHE", str(tmp_path / "cache"))


def _sweep(folder: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "ocr_core", "sweep", *GRID, "--dir", str(folder), *extra]


def test_grid_order_and_keys():
    runs = grid("ocr_verification", ["m/a"], [1e-4, 3e-4], [5], [0, 1])
    assert [r.key for r in runs] == [
        "m--a__lr=0.0001__epochs=5__seed=0",
        "m--a__lr=0.0001__epochs=5__seed=1",
        "m--a__lr=0.0003__epochs=5__seed=0",
        "m--a__lr=0.0003__epochs=5__seed=1",
    ]
    with pytest.raises(ValueError, match="cannot sweep"):
        grid("sweep", ["m"], [1e-4], [1], [0])


def test_sweep_resumes_after_kill_without_redoing_finished_runs(tmp_path):
    folder = tmp_path / "sweep"
    proc = subprocess.Popen(
        _sweep(folder), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True
    )
    deadline = time.time() + 300
    while not list(folder.glob("runs/*/DONE")):
        assert proc.poll() is None, proc.stdout.read().decode()
        assert time.time() < deadline, "no run finished in 5 minutes"
        time.sleep(0.5)
    os.killpg(proc.pid, signal.SIGKILL)  # the sweep and its notebook kernel, mid-way through the second run
    proc.wait()
    finished = {p.parent.name: p.parent.joinpath("notebook.ipynb").stat().st_mtime for p in folder.glob("runs/*/DONE")}
    assert 1 <= len(finished) < 4

    out = subprocess.run(_sweep(folder), cwd=ROOT, capture_output=True, text=True, check=True, timeout=600).stdout
    assert out.count("finished earlier, skipped") == len(finished), out
    assert f"{4 - len(finished)} run, {len(finished)} skipped" in out
    for key, mtime in finished.items():  # not re-executed
        assert (folder / "runs" / key / "notebook.ipynb").stat().st_mtime == mtime
    assert len(list(folder.glob("runs/*/DONE"))) == 4
    assert not list(folder.glob("runs/*/*.partial.ipynb"))  # the killed run's partial notebook was replaced

    rows = aggregate(folder)
    assert len(rows) == 4 * 2 * 2  # runs x hops x splits
    assert {(r["lr"], r["epochs"]) for r in rows} == {(1e-3, 1), (1e-3, 2), (3e-3, 1), (3e-3, 2)}
    for r in rows:
        assert r["gain"] == pytest.approx(r["before"] - r["after"])
    manifest = json.loads((folder / "sweep.json").read_text())
    assert manifest["command"].startswith("python -m ocr_core sweep") and len(manifest["runs"]) == 4
    nb = json.loads((folder / "runs" / next(iter(finished)) / "notebook.ipynb").read_text())
    injected = [c for c in nb["cells"] if "injected-parameters" in c["metadata"].get("tags", [])]
    assert injected and "tiny-llama" in "".join(injected[0]["source"])


def test_submitit_executor_runs_the_unfinished_runs(tmp_path):
    pytest.importorskip("submitit")
    folder = tmp_path / "sweep"
    runs = [Run("ocr_verification", "tiny-llama", 1e-3, 1, 0), Run("ocr_verification", "tiny-llama", 1e-3, 1, 1)]
    jobs = run_submitit(runs[:1], folder, ROOT, cluster="local", wait=True, timeout_min=10)
    assert len(jobs) == 1 and is_done(folder, runs[0])
    jobs = run_submitit(runs, folder, ROOT, cluster="local", wait=True, timeout_min=10)
    assert len(jobs) == 1 and all(is_done(folder, r) for r in runs)  # only the unfinished one was submitted
    assert list((folder / "submitit").rglob("*_log.out"))
