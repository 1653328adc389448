"""The delta cache's pruning removes whole deltas, oldest first, down to the asked size."""

import json
import os

import pytest

from ocr_core.cli import main
from ocr_core.training.cache import cached_deltas, prune, summary


def _fake_delta(root, model, key, size, mtime, embeddings=None):
    folder = root / "deltas" / model
    folder.mkdir(parents=True, exist_ok=True)
    for suffix, n in ((".safetensors", size), (".json", 10)):
        path = folder / f"{key}{suffix}"
        with open(path, "wb") as fh:
            fh.truncate(n)  # sparse: the size counts, the disk stays free
        if suffix == ".json" and embeddings is not None:  # a delta's metadata: its key's trainable set
            meta = dict(key=dict(settings=dict(trainable=dict(embeddings=embeddings, frozen_layers=[]))))
            path.write_text(json.dumps(meta).ljust(n))
        os.utime(path, (mtime, mtime))


def test_prune_removes_oldest_whole_deltas(tmp_path):
    _fake_delta(tmp_path, "m1", "old", 1000, 100)
    _fake_delta(tmp_path, "m2", "mid", 1000, 200)
    _fake_delta(tmp_path, "m1", "new", 1000, 300)
    assert [e.key for e in cached_deltas(tmp_path)] == ["old", "mid", "new"]
    assert [e.size for e in cached_deltas(tmp_path)] == [1010, 1010, 1010]

    assert [e.key for e in prune(2100, tmp_path, dry_run=True)] == ["old"]
    assert len(list((tmp_path / "deltas").rglob("*.*"))) == 6  # a dry run removes nothing

    removed = prune(1500, tmp_path)
    assert [e.key for e in removed] == ["old", "mid"]
    left = sorted(p.name for p in (tmp_path / "deltas").rglob("*.*"))
    assert left == ["new.json", "new.safetensors"]
    assert prune(0, tmp_path)[0].key == "new" and cached_deltas(tmp_path) == []


def test_prune_removes_the_embeddings_ablations_first_then_the_oldest(tmp_path):
    """Blocks-only deltas are read by three more chapters, an ablation's by one: a newer ablation goes first."""
    _fake_delta(tmp_path, "m1", "blocks_old", 1000, 100, embeddings=False)
    _fake_delta(tmp_path, "m1", "ablation_new", 3000, 300, embeddings=True)
    _fake_delta(tmp_path, "m2", "blocks_mid", 1000, 200, embeddings=False)
    assert [e.key for e in prune(2500, tmp_path)] == ["ablation_new"]  # each delta: 1000 or 3000 + its .json
    assert [e.key for e in prune(1200, tmp_path)] == ["blocks_old"]


def test_summary_and_cli(tmp_path, monkeypatch, capsys):
    _fake_delta(tmp_path, "m1", "a", 2_000_000_000, 100)
    _fake_delta(tmp_path, "m1", "b", 1_000_000_000 - 20, 200)
    assert summary(cached_deltas(tmp_path))[0] | {"oldest": None, "newest": None} == dict(
        model="m1", deltas=2, gb=3.0, oldest=None, newest=None
    )
    monkeypatch.setenv("OCR_CORE_CACHE", str(tmp_path))
    assert main(["cache", "--prune", "1.5"]) == 0
    out = capsys.readouterr().out
    assert "removed 1 deltas (2.00 GB)" in out and "1 deltas, 1.00 GB" in out
    assert [e.key for e in cached_deltas(tmp_path)] == ["b"]


def test_the_limit_comes_from_the_environment_and_prunes_oldest_first(tmp_path, monkeypatch, capsys):
    from ocr_core.training.cache import DEFAULT_LIMIT_GB, enforce_limit, limit_bytes

    monkeypatch.delenv("OCR_CORE_CACHE_MAX_GB", raising=False)
    assert limit_bytes() == int(DEFAULT_LIMIT_GB * 1e9)
    monkeypatch.setenv("OCR_CORE_CACHE_MAX_GB", "0")
    assert limit_bytes() is None
    for bad in ("lots", "-1"):
        monkeypatch.setenv("OCR_CORE_CACHE_MAX_GB", bad)
        with pytest.raises(ValueError, match="OCR_CORE_CACHE_MAX_GB"):
            limit_bytes()

    _fake_delta(tmp_path, "m1", "old", 2_000_000_000, 100)
    _fake_delta(tmp_path, "m1", "new", 2_000_000_000, 200)
    monkeypatch.setenv("OCR_CORE_CACHE_MAX_GB", "3")
    assert [e.key for e in enforce_limit(tmp_path)] == ["old"]
    assert "removed the 1 oldest deltas" in capsys.readouterr().out
    assert enforce_limit(tmp_path) == [] and [e.key for e in cached_deltas(tmp_path)] == ["new"]


def test_every_cli_command_leaves_the_cache_under_the_limit(tmp_path, monkeypatch):
    _fake_delta(tmp_path, "m1", "old", 2_000_000_000, 100)
    _fake_delta(tmp_path, "m1", "new", 2_000_000_000, 200)
    monkeypatch.setenv("OCR_CORE_CACHE", str(tmp_path))
    monkeypatch.setenv("OCR_CORE_CACHE_MAX_GB", "3")
    assert main(["models"]) == 0
    assert [e.key for e in cached_deltas(tmp_path)] == ["new"]


def test_a_used_file_is_marked_recent_and_not_hashed_again(tmp_path, monkeypatch):
    """A cache hit touches its files for least-recently-used pruning; the checksum it already matched holds."""
    import os

    from ocr_core.store import io

    path = tmp_path / "d.safetensors"
    path.write_bytes(b"delta")
    os.utime(path, ns=(0, 0))
    good = io.file_sha256(path)
    hashed = []
    real = io.file_sha256
    monkeypatch.setattr(io, "file_sha256", lambda p: hashed.append(p) or real(p))
    assert io.file_matches(path, good) and len(hashed) == 1
    io.mark_used(path)
    assert path.stat().st_mtime_ns > 0
    assert io.file_matches(path, good) and len(hashed) == 1  # not re-read after the touch
    path.write_bytes(b"other")  # changed on disk: checked again
    assert not io.file_matches(path, good) and len(hashed) == 2
