"""Work events and the book's progress lines and profile: events are written only when asked, a finetune's
epochs and end reach the progress lines with an ETA, and the profile counts the work per chapter and model."""

import json

from ocr_core.reporting import profile
from ocr_core.reporting.progress import BuildMonitor
from ocr_core.store import events


def test_events_are_off_unless_asked(monkeypatch, tmp_path):
    monkeypatch.delenv("OCR_CORE_EVENTS", raising=False)
    events.emit("load", 1.0, model="m")
    assert list(tmp_path.iterdir()) == []
    monkeypatch.setenv("OCR_CORE_EVENTS", str(tmp_path / "ev.jsonl"))
    monkeypatch.setenv("OCR_CORE_CHAPTER", "ocr_verification")
    with events.timed("load", model="m"):
        pass
    (event,) = events.read(tmp_path / "ev.jsonl")
    assert event["kind"] == "load" and event["chapter"] == "ocr_verification" and event["model"] == "m"


def test_a_real_finetune_reaches_the_progress_lines_and_the_profile(monkeypatch, tmp_path):
    from ocr_core import first_hop, load_model
    from ocr_core.experiments.base import Settings, train_on

    path = tmp_path / "ev.jsonl"
    monkeypatch.setenv("OCR_CORE_EVENTS", str(path))
    monkeypatch.setenv("OCR_CORE_CHAPTER", "layer_freezing")
    monkeypatch.setenv("OCR_CORE_CACHE", str(tmp_path / "cache"))
    lines: list[str] = []
    monitor = BuildMonitor(path, ["ocr_verification", "layer_freezing"], {"layer_freezing": 100.0}, log=lines.append)
    monitor.chapter(1)
    model, tok = load_model("tiny-llama", progress=False)
    facts = first_hop(0).facts.subset(range(8))
    settings = Settings(lr=1e-3, epochs=2, batch_size=4)
    for _ in range(2):  # trained, then reused from the delta cache
        train_on(
            model,
            tok,
            facts,
            model_name="tiny-llama",
            settings=settings,
            seed=0,
            eval_sets={"f": facts},
            progress=False,
            desc="tiny-llama seed 0 W_F",
        )
    monitor.poll()
    assert any("2/2 layer_freezing | tiny-llama seed 0 W_F: 4 steps" in line and "ETA ~" in line for line in lines)
    (row,) = profile.summarize(events.read(path))
    assert row["chapter"] == "layer_freezing" and row["model"] == "tiny-llama"
    assert (row["loads"], row["finetunes"], row["steps"], row["deltas_reused"], row["evals"]) == (1, 1, 4, 1, 3)
    out = tmp_path / "profile.json"
    profile.write(out, rows=[row], chapters={"layer_freezing": 1.0}, peak={"disk_gb": 0.1}, meta={})
    assert json.loads(out.read_text())["work"] == [row]


def test_without_a_profile_the_eta_says_so(tmp_path):
    monitor = BuildMonitor(tmp_path / "none.jsonl", ["prior_knowledge"], {}, log=lambda _: None)
    assert "no profile" in monitor.eta()
