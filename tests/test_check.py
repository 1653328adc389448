"""Every experiment, scores included, end to end on a tiny random model of each paper architecture (the same
function the GPU check script runs), on this CPU."""

import pytest

from ocr_core.tools.check import check, main

PAPER_TINY = ["tiny-olmo", "tiny-llama", "tiny-gemma2", "tiny-qwen2", "tiny-mistral"]


@pytest.fixture(autouse=True)
def _private_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("OCR_CORE_CACHE", str(tmp_path / "cache"))


def test_every_experiment_runs_on_every_paper_architecture(tmp_path):
    rows = check(PAPER_TINY, results=str(tmp_path / "results"), log=lambda _: None)
    assert len(rows) == len(PAPER_TINY) * 7
    failed = [(r["model"], r["experiment"], r["error"]) for r in rows if r["error"]]
    assert not failed
    assert all(r["records"] > 0 for r in rows)
    assert {r["experiment"] for r in rows} == {
        "prior_knowledge",
        "ocr_verification",
        "extractive_scores",
        "layer_freezing",
        "data_ordering",
        "weight_grafting",
        "grafting_localization",
    }


def test_check_exits_nonzero_when_an_experiment_fails(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("OCR_CORE_DEVICE", "cpu")  # main() sets both; monkeypatch restores them afterwards
    monkeypatch.setenv("OCR_CORE_DTYPE", "float32")
    assert (
        main(["--models", "no-such-model", "--device", "cpu", "--dtype", "float32", "--only", "ocr_verification"]) == 1
    )
    assert "0 of 1 passed" in capsys.readouterr().out
