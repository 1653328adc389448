"""Interrupted runs: a process killed with SIGKILL at a named point (ocr_core.store.faults) leaves nothing a rerun
would misread; the rerun completes, reuses what finished, and gives records identical to an uninterrupted
run. Damaged cache entries are detected by their checksums and rebuilt; a full disk fails clearly."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from cli_output import one_error_line

ROOT = Path(__file__).resolve().parents[1]
VERIFY = ["ocr-verification", "--model", "tiny-llama", "--epochs", "2", "--seeds", "0", "--quiet"]


def _run(args: list[str], cache: Path, results: Path | None = None, kill_at: str | None = None, **kw):
    env = {k: v for k, v in os.environ.items() if k != "OCR_CORE_KILL_AT"}
    env["OCR_CORE_CACHE"] = str(cache)
    if kill_at:
        env["OCR_CORE_KILL_AT"] = kill_at
    extra = ["--results", str(results)] if results else []
    return subprocess.run(
        [sys.executable, "-m", *args, *extra], env=env, cwd=ROOT, capture_output=True, text=True, timeout=600, **kw
    )


def _records(results: Path) -> dict[str, bytes]:
    return {str(p.relative_to(results)): p.read_bytes() for p in sorted(results.rglob("records.json"))}


def _deltas(cache: Path) -> dict[str, int]:
    """Every file under the delta cache (temporaries included) -> its inode. A rewrite renames a new file into
    place (another inode); a reuse only touches the file (its mtime marks it used for pruning)."""
    return {str(p.relative_to(cache)): p.stat().st_ino for p in sorted((cache / "deltas").rglob("*"))}


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory) -> dict[str, bytes]:
    folder = tmp_path_factory.mktemp("uninterrupted")
    done = _run(["ocr_core", *VERIFY], folder / "cache", folder / "results")
    assert done.returncode == 0, done.stderr[-2000:]
    records = _records(folder / "results")
    assert records
    return records


@pytest.mark.parametrize(
    "kill_at",
    ["epoch:2", "write:safetensors", "write:json", "results"],
    ids=["during-finetune", "writing-delta", "writing-delta-meta", "writing-results"],
)
def test_killed_run_resumes_with_identical_records(kill_at, tmp_path, uninterrupted):
    cache, results = tmp_path / "cache", tmp_path / "results"
    killed = _run(["ocr_core", *VERIFY], cache, results, kill_at=kill_at)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    assert not _records(results), "records visible after the kill"
    before = _deltas(cache) if (cache / "deltas").exists() else {}
    finished = {k: t for k, t in before.items() if not Path(k).name.startswith(".")}

    rerun = _run(["ocr_core", *VERIFY], cache, results)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert _records(results) == uninterrupted
    after = _deltas(cache)
    assert not [k for k in after if Path(k).name.startswith(".")], "a half-written temporary was left behind"
    # what finished before the kill is reused, not rewritten (a delta whose meta never got written is redone)
    whole = {k: t for k, t in finished.items() if k.endswith(".json")}
    whole |= {k[: -len(".json")] + ".safetensors": finished[k[: -len(".json")] + ".safetensors"] for k in whole}
    assert {k: after[k] for k in whole} == whole
    if kill_at == "results":
        assert whole, "the finetunes finished before the results were written, so their deltas must be reused"


def test_damaged_cached_delta_is_detected_and_retrained(tmp_path, uninterrupted):
    cache, results = tmp_path / "cache", tmp_path / "results"
    assert _run(["ocr_core", *VERIFY], cache, results).returncode == 0
    tensors = sorted((cache / "deltas").rglob("*.safetensors"))[0]
    data = bytearray(tensors.read_bytes())
    data[-1] ^= 0xFF  # one flipped bit pattern in the last weight
    tensors.write_bytes(bytes(data))
    rerun = _run(["ocr_core", *VERIFY, "--force"], cache, results)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert "is damaged or unchecked: retraining it" in rerun.stdout + rerun.stderr
    assert _records(results) == uninterrupted


def test_book_killed_between_and_inside_chapters_resumes(tmp_path):
    """`make book` killed after its first chapter, then with a chapter's kernel killed mid-finetune: the
    rerun executes every chapter and reuses the first chapter's finished results."""
    cache, results, chapters = tmp_path / "cache", tmp_path / "results", tmp_path / "chapters"
    book = ["ocr_core.reporting.book", "--only", "prior_knowledge", "ocr_verification", "--models", "tiny-llama"]
    book += ["--seeds", "0", "--no-html", "--chapters", str(chapters)]
    first = _run(book, cache, results, kill_at="chapter:1")
    assert first.returncode == -signal.SIGKILL, first.stderr[-2000:]
    assert (chapters / "prior_knowledge.ipynb").exists() and not (chapters / "ocr_verification.ipynb").exists()
    finished = _records(results)
    assert finished
    stamps = {p: p.stat().st_mtime_ns for p in results.rglob("records.json")}

    second = _run(book, cache, results, kill_at="epoch:1")  # the kernel of ocr_verification dies
    assert second.returncode != 0
    assert "ocr_verification" in second.stdout + second.stderr

    third = _run(book, cache, results)
    assert third.returncode == 0, third.stderr[-2000:]
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps, "finished results were recomputed"
    assert set(finished) < set(_records(results))
    assert (chapters / "ocr_verification.ipynb").exists()
    # the profile keeps the pages' seconds of the runs before: one process, so no worker recorded them
    own = {m[1]: float(m[2]) for m in re.finditer(r"\[book\] (\w+): (\d+) s \(", third.stdout)}
    chapters_s = json.loads((ROOT / "_build" / "book_profile.json").read_text())["chapters"]
    assert chapters_s["prior_knowledge"] > own.get("prior_knowledge", 0.0) + 0.5, (
        chapters_s,
        own,
    )  # ran in the first run
    assert chapters_s["ocr_verification"] > own.get("ocr_verification", 0.0) + 0.5, (
        chapters_s,
        own,
    )  # died in the second


@pytest.mark.slow
def test_killed_dequantization_leaves_no_model_and_reruns(tmp_path):
    code = "from ocr_core.models.loading import load_model; load_model('smollm2-135m', progress=False); print('loaded')"
    cache = tmp_path / "cache"
    env = {k: v for k, v in os.environ.items() if k != "OCR_CORE_KILL_AT"} | {"OCR_CORE_CACHE": str(cache)}
    first = subprocess.run(
        [sys.executable, "-c", code], env=env | {"OCR_CORE_KILL_AT": "dequantize"}, capture_output=True, text=True
    )
    assert first.returncode == -signal.SIGKILL
    models = cache / "models"
    assert not (models / "smollm2-135m").exists()
    assert list(models.glob(".smollm2-135m.tmp-*")), "the killed de-quantization left its temporary folder"
    second = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert second.returncode == 0 and "loaded" in second.stdout, second.stderr[-2000:]
    assert not list(models.glob(".smollm2-135m.tmp-*")), "the stale temporary folder was not removed"
    sums = json.loads((models / "smollm2-135m" / "DONE").read_text())
    assert sums and all(len(h) == 64 for h in sums.values())


def test_model_cache_with_a_wrong_checksum_is_rebuilt(tmp_path):
    from ocr_core.models import loading as models
    from ocr_core.store.io import file_sha256

    target = tmp_path / "m"
    target.mkdir()
    (target / "model.safetensors").write_bytes(b"weights")

    (target / "DONE").write_text(json.dumps({"model.safetensors": file_sha256(target / "model.safetensors")}))
    assert models._model_cache_intact(target)
    (target / "model.safetensors").write_bytes(b"weightz")
    assert not models._model_cache_intact(target)
    (target / "DONE").write_text("")  # a cache from before checksums
    assert not models._model_cache_intact(target)


def test_cache_limit_holds_at_every_write(tmp_path, monkeypatch):
    """A long command that writes many deltas never has more than the limit on disk, not only at its end."""
    from ocr_core import first_hop
    from ocr_core.models.loading import load_model
    from ocr_core.training.cache import cached_deltas
    from ocr_core.training.finetune import cached_finetune

    monkeypatch.setenv("OCR_CORE_CACHE", str(tmp_path))
    model, tok = load_model("tiny-llama")
    data = first_hop(0).facts
    one = cached_finetune(model, tok, data.subset(range(4)), model_name="tiny-llama", lr=1e-3, epochs=1)
    size = sum(e.size for e in cached_deltas())
    monkeypatch.setenv("OCR_CORE_CACHE_MAX_GB", str(2.5 * size / 1e9))
    sizes = []
    for seed in range(1, 6):
        cached_finetune(model, tok, data.subset(range(4)), model_name="tiny-llama", lr=1e-3, epochs=1, seed=seed)
        sizes.append(sum(e.size for e in cached_deltas()))
    assert max(sizes) <= 2.5 * size, sizes
    assert len(cached_deltas()) == 2
    assert one.delta.numel() > 0


def test_full_disk_fails_clearly_and_leaves_no_partial_entry(tmp_path, monkeypatch):
    import shutil
    from collections import namedtuple

    from ocr_core import first_hop
    from ocr_core.models.loading import load_model
    from ocr_core.store.io import DiskSpaceError, atomic_write_bytes
    from ocr_core.training.cache import cached_deltas
    from ocr_core.training.finetune import cached_finetune

    monkeypatch.setenv("OCR_CORE_CACHE", str(tmp_path))
    model, tok = load_model("tiny-llama")
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda _: usage(10**9, 10**9, 1000))
    with pytest.raises(DiskSpaceError, match=r"the delta cache needs .* GB .* only 0.00 GB are free"):
        cached_finetune(model, tok, first_hop(0).facts.subset(range(4)), model_name="tiny-llama", lr=1e-3, epochs=1)
    assert not cached_deltas() and not [p for p in (tmp_path / "deltas").rglob("*") if p.is_file()]

    # the disk fills up during the write itself: ENOSPC becomes a clear error, no temporary is left
    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", full)
    with pytest.raises(DiskSpaceError, match=r"no space left on the disk holding .* nothing partial was kept"):
        atomic_write_bytes(tmp_path / "x" / "big.safetensors", b"0" * 100)
    assert list((tmp_path / "x").iterdir()) == []


def test_cache_that_cannot_hold_a_delta_is_one_cli_line(tmp_path):
    """The command line reports a disk or cache limit that cannot hold the next delta in one line, exit 2,
    and leaves no cache entry."""
    cache = tmp_path / "cache"
    env = {k: v for k, v in os.environ.items() if k not in ("OCR_CORE_KILL_AT", "OCR_CORE_DEBUG")}
    env |= {"OCR_CORE_CACHE": str(cache), "OCR_CORE_CACHE_MAX_GB": "0.000001"}  # 1 kB: smaller than any delta
    done = subprocess.run(
        [sys.executable, "-m", "ocr_core", *VERIFY, "--results", str(tmp_path / "results")],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    one_error_line(done, "ocr_core: error: a delta of ", "OCR_CORE_CACHE_MAX_GB")
    assert not [p for p in (cache / "deltas").rglob("*") if p.is_file()]
