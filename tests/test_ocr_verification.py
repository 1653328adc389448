import json
import subprocess
import sys

import pytest

from ocr_core.experiments.ocr_verification import run_ocr_verification, summarize_ocr, verify


def test_records_cover_every_hop_seed_epoch_and_split(tiny_llama):
    model, tok = tiny_llama
    records = run_ocr_verification(model, tok, model_name="tiny-llama", lr=1e-3, epochs=2, seeds=(0, 1), progress=False)
    keys = {(r["hop"], r["seed"], r["epoch"], r["split"]) for r in records}
    assert keys == {
        (h, s, e, sp)
        for h in ("first_hop", "second_hop")
        for s in (0, 1)
        for e in range(3)
        for sp in ("fact", "implication")
    }
    assert all(r["chance"] == 9.5 and len(r["ranks"]) == 20 for r in records)
    summary = summarize_ocr(records)
    assert {(r["hop"], r["split"]) for r in summary} == {
        (h, s) for h in ("first_hop", "second_hop") for s in ("fact", "implication")
    }
    assert all(r["n_seeds"] == 2 for r in summary)


def test_unknown_hop_is_rejected(tiny_llama):
    model, tok = tiny_llama
    with pytest.raises(ValueError, match="unknown hops"):
        run_ocr_verification(model, tok, model_name="x", lr=1e-3, epochs=1, hops=("third_hop",), progress=False)


def test_same_seed_gives_identical_result_files(tmp_path):
    runs = [verify("tiny-qwen2", epochs=2, seeds=(3,), results=tmp_path / name, progress=False) for name in ("a", "b")]
    files = [sorted(p.name for p in run.path.iterdir()) for run in runs]
    assert files[0] == files[1] == ["DONE", "config.json", "provenance.json", "records.json"]
    for name in files[0]:
        assert (runs[0].path / name).read_bytes() == (runs[1].path / name).read_bytes()
    other = verify("tiny-qwen2", epochs=2, seeds=(4,), results=tmp_path / "a", progress=False)
    assert other.path != runs[0].path


def test_finished_runs_are_reused_not_recomputed(tmp_path):
    run = verify("tiny-llama", epochs=1, seeds=(0,), hops=("first_hop",), results=tmp_path, progress=False)
    marker = [{"reused": True}]
    (run.path / "records.json").write_text(json.dumps(marker))
    again = verify("tiny-llama", epochs=1, seeds=(0,), hops=("first_hop",), results=tmp_path, progress=False)
    assert again.records() == marker
    forced = verify(
        "tiny-llama", epochs=1, seeds=(0,), hops=("first_hop",), results=tmp_path, force=True, progress=False
    )
    assert forced.records() != marker


def test_cli_writes_results(tmp_path):
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "ocr_core",
            "ocr-verification",
            "--model",
            "tiny-olmo",
            "--epochs",
            "1",
            "--seeds",
            "0",
            "--hops",
            "first_hop",
            "--results",
            str(tmp_path),
            "--quiet",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "first_hop" in out.stdout and "implication" in out.stdout
    (records,) = tmp_path.glob("ocr_verification/tiny-olmo/*/records.json")
    assert {r["split"] for r in json.loads(records.read_text())} == {"fact", "implication"}


@pytest.mark.slow
def test_gemma_generalizes_from_first_hop_facts_to_implications(gemma):
    """The phenomenon itself, on real weights: facts alone lower the implication rank (chance 9.5)."""
    model, tok = gemma
    records = run_ocr_verification(
        model,
        tok,
        model_name="gemma-3-270m",
        lr=1e-4,
        epochs=10,
        seeds=(0,),
        hops=("first_hop",),
        progress=False,
    )
    final = {r["split"]: r["mean_rank"] for r in records if r["epoch"] == 10}
    start = {r["split"]: r["mean_rank"] for r in records if r["epoch"] == 0}
    assert final["fact"] < 0.5
    assert start["implication"] > 7
    assert final["implication"] < 5, f"no OCR: implication rank {start['implication']} -> {final['implication']}"


@pytest.mark.slow
def test_smollm2_learns_first_hop_facts(smollm):
    model, tok = smollm
    records = run_ocr_verification(
        model,
        tok,
        model_name="smollm2-135m",
        lr=1e-4,
        epochs=10,
        seeds=(0,),
        hops=("first_hop",),
        progress=False,
    )
    final = {r["split"]: r["mean_rank"] for r in records if r["epoch"] == 10}
    assert final["fact"] < 0.5


@pytest.mark.slow
def test_real_model_runs_are_bit_identical_for_the_same_seed(smollm):
    model, tok = smollm
    kwargs = dict(model_name="smollm2-135m", lr=1e-4, epochs=2, seeds=(5,), hops=("second_hop",), progress=False)
    first = run_ocr_verification(model, tok, **kwargs)
    second = run_ocr_verification(model, tok, **kwargs)
    assert json.dumps(first, sort_keys=True) == json.dumps(second, sort_keys=True)
