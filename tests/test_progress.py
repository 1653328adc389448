"""Work events and the book's progress lines and profile: events are written only when asked, a finetune's
epochs and end reach the progress lines with an ETA, and the profile counts the work per chapter and model."""

import json
from pathlib import Path

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
    expected = {"chapters": {"layer_freezing": 100.0}}
    monitor = BuildMonitor(path, ["ocr_verification", "layer_freezing"], expected, log=lines.append)
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
    with open(path, "a") as fh:  # the build's own process times the page: not a row of work
        fh.write(json.dumps(dict(t=1.0, kind="page", seconds=9.0, chapter="layer_freezing", pid=1)) + "\n")
    (row,) = profile.summarize(events.read(path))
    assert row["chapter"] == "layer_freezing" and row["model"] == "tiny-llama"
    assert (row["loads"], row["finetunes"], row["steps"], row["deltas_reused"], row["evals"]) == (1, 1, 4, 1, 3)
    out = tmp_path / "profile.json"
    profile.write(out, rows=[row], chapters={"layer_freezing": 1.0}, peak={"disk_gb": 0.1}, meta={})
    assert json.loads(out.read_text())["work"] == [row]


def test_without_a_profile_the_eta_says_so(tmp_path):
    monitor = BuildMonitor(tmp_path / "none.jsonl", ["prior_knowledge"], {}, log=lambda _: None)
    assert "no profile" in monitor.eta()


def test_compute_phase_lines_and_eta_follow_each_worker(monkeypatch, tmp_path):
    """Two workers: a line per chapter a worker finishes; the ETA is the slower worker's remaining chapters
    (from the profile) plus executing every chapter."""
    path = tmp_path / "ev.jsonl"
    monkeypatch.setenv("OCR_CORE_EVENTS", str(path))
    expected = {
        "chapters": {"a": 10.0, "b": 10.0},
        "compute": {"m1": {"a": 600.0, "b": 600.0}, "m2": {"a": 60.0, "b": 60.0}},
    }
    lines: list[str] = []
    monitor = BuildMonitor(path, ["a", "b"], expected, log=lines.append)
    monitor.compute(["m1", "m2"], ["a", "b"])
    assert "ETA ~20:" in monitor.eta()  # m1: 1200 s left, + 20 s of executing chapters
    for model in ("m1", "m2"):
        monkeypatch.setenv("OCR_CORE_CHAPTER", "a")
        events.emit("chapter", model=model, started=True)
        events.emit("chapter", 600.0 if model == "m1" else 60.0, model=model, started=False)
    monitor.poll()
    assert [line.split(" | ")[1] for line in lines] == ["a computed for m1 in 10:00", "a computed for m2 in 1:00"]
    assert "ETA ~10:" in monitor.eta()  # m1's chapter b: 600 s, + 20 s
    assert monitor.compute_seconds == {"m1": {"a": 600.0}, "m2": {"a": 60.0}}
    events.emit("chapter", 30.0, model="m2", started=False)  # computed again (a seed added): both were work
    monitor.poll()
    assert monitor.compute_seconds["m2"] == {"a": 90.0}


def test_tree_rss_counts_child_processes():
    import subprocess
    import sys
    import time

    from ocr_core.reporting.progress import tree_rss

    alone, anon_alone = tree_rss(), tree_rss(anonymous=True)
    child = subprocess.Popen([sys.executable, "-c", 'x = b"x" * 300_000_000; import time; time.sleep(30)'])
    try:
        for _ in range(100):
            if tree_rss() - alone > 250_000_000:
                break
            time.sleep(0.1)
        assert tree_rss() - alone > 250_000_000
        assert tree_rss(anonymous=True) - anon_alone > 250_000_000  # no file backs it
    finally:
        child.kill()


def test_tree_rss_anonymous_leaves_out_mapped_files(tmp_path):
    """Weights and deltas opened with mmap are resident but file-backed: `anonymous` does not count them."""
    import subprocess
    import sys
    import time

    from ocr_core.reporting.progress import tree_rss

    path = tmp_path / "weights.bin"
    path.write_bytes(b"w" * 300_000_000)
    code = f"import mmap; f = open({str(path)!r}, 'rb'); m = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)\n"
    code += "s = sum(m[i] for i in range(0, len(m), 4096)); print('ready', flush=True); import time; time.sleep(30)"
    before, anon_before = tree_rss(), tree_rss(anonymous=True)
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "ready"
        time.sleep(0.2)
        assert tree_rss() - before > 250_000_000
        assert tree_rss(anonymous=True) - anon_before < 100_000_000
    finally:
        child.kill()
        child.wait()


def _book(tmp_path, tag: str, jobs: int):
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    env = dict(os.environ, OCR_CORE_CACHE=str(tmp_path / f"cache{tag}"))
    command = [sys.executable, "-m", "ocr_core.reporting.book", "--only", "prior_knowledge", "ocr_verification"]
    command += ["--models", "tiny-llama", "tiny-olmo", "--seeds", "0", "--no-html", "--jobs", str(jobs)]
    command += ["--chapters", str(tmp_path / f"chapters{tag}"), "--results", str(tmp_path / f"results{tag}")]
    done = subprocess.run(command, env=env, cwd=root, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    results = tmp_path / f"results{tag}"
    records = {str(p.relative_to(results)): p.read_bytes() for p in sorted(results.rglob("records.json"))}
    threads = {json.loads(p.read_text())["threads"] for p in results.rglob("provenance.json")}
    return done.stdout, records, threads


def test_book_computes_each_model_in_its_own_worker_with_the_same_results(tmp_path):
    """`--jobs 2`: one 1-thread worker per model computes the chapters, then they are executed for both models;
    the results (paths, so keys, and bytes) and the checked outputs equal a one-process build's."""
    from ocr_core.tools.checked import checked_outputs

    out2, records2, threads2 = _book(tmp_path, "2", jobs=2)
    out1, records1, threads1 = _book(tmp_path, "1", jobs=1)
    assert records2 and records2 == records1
    assert 1 in threads2 and threads1 == {2}
    for model in ("tiny-llama", "tiny-olmo"):
        assert f"ocr_verification computed for {model}" in out2
    assert "computed for" not in out1
    # a rebuild: the workers find their last build's results all there and skip their chapters
    again, records_again, _ = _book(tmp_path, "2", jobs=2)
    assert records_again == records2
    for model in ("tiny-llama", "tiny-olmo"):
        assert f"ocr_verification for {model}: still computed" in again
    assert "computed for" not in again
    assert again.count("up to date (nothing it reads changed)") == 2  # and no page is executed again
    chapter = "ocr_verification.ipynb"
    two, one = (json.loads((tmp_path / f"chapters{t}" / chapter).read_text()) for t in ("2", "1"))
    assert checked_outputs(two) == checked_outputs(one) != []


def test_one_worker_per_model_only_when_their_largest_finetunes_fit_the_memory_budget():
    """The build's memory budget decides --jobs 2: parallel workers only when the memory plans of both models'
    largest finetunes, plus the processes themselves, fit it; the embedded models' do not fit 8 GB."""
    from ocr_core.reporting.book import DEFAULT_MEMORY_BUDGET_GB, finetune_peaks, workers_fit

    def peaks(models):
        return {m: 3 * 10**9 for m in models}

    fits, why = workers_fit(["a", "b"], 8, peaks=peaks)  # 6 GB + three 0.3 GB processes
    assert fits and "fit the 8 GB memory budget" in why
    fits, why = workers_fit(["a", "b"], 6.5, peaks=peaks)
    assert not fits and "up to 6.9 GB" in why and "a 3.0 GB" in why and "over the 6.5 GB memory budget" in why
    assert workers_fit(["a", "b"], 0, peaks=peaks)[0]  # no budget
    real = finetune_peaks(["gemma-3-270m", "smollm2-135m"])
    assert not workers_fit(list(real), DEFAULT_MEMORY_BUDGET_GB, peaks=lambda models: real)[0]
    assert real["gemma-3-270m"] > real["smollm2-135m"] > 10**9


def test_a_worker_recomputes_a_chapter_when_its_source_or_a_result_changed(tmp_path):
    import argparse

    from ocr_core.reporting import book

    root = tmp_path
    (root / "notebooks").mkdir()
    (root / "notebooks" / "x.py").write_text("print(1)\n")
    result = root / "results" / "x" / "m" / "abc"
    result.mkdir(parents=True)
    (result / "DONE").write_text("")
    fingerprint = book._chapter_fingerprint(root, "x", ["m"], {})
    manifest = root / "x.json"
    manifest.write_text(json.dumps(dict(fingerprint=fingerprint, results=["results/x/m/abc"])))
    assert book._still_computed(manifest, fingerprint, root)
    assert not book._still_computed(manifest, book._chapter_fingerprint(root, "x", ["m"], {"seeds": [0]}), root)
    (root / "notebooks" / "x.py").write_text("print(2)\n")
    assert not book._still_computed(manifest, book._chapter_fingerprint(root, "x", ["m"], {}), root)
    (result / "DONE").unlink()
    assert not book._still_computed(manifest, fingerprint, root)
    assert book.compute_folder(root, argparse.Namespace(chapters=None)) == root / "_build" / "compute"


def test_a_failing_worker_stops_the_others_at_once(tmp_path, monkeypatch):
    import argparse
    import sys
    import time

    import pytest

    from ocr_core.reporting import book

    def command(model, names, root, args):
        code = "import sys; sys.exit(3)" if model == "bad" else "import time; time.sleep(120)"
        return [sys.executable, "-c", code]

    monkeypatch.setattr(book, "_worker_command", command)
    args = argparse.Namespace(models=["good", "bad"])
    started = time.perf_counter()
    with pytest.raises(RuntimeError, match="the compute worker of bad failed"):
        book.compute_in_workers(["prior_knowledge"], tmp_path, args)
    assert time.perf_counter() - started < 30


def test_a_resumed_build_keeps_the_interrupted_runs_chapters_and_peaks(tmp_path):
    """A build killed mid-way leaves its events without an end: the next build resumes that profile (chapter
    seconds, both runs, each with its own peaks) without printing the old lines again; after an ended build a new
    profile starts."""
    path = tmp_path / "ev.jsonl"
    events.emit_to(path, "build", started=True)
    first = BuildMonitor(path, ["a"], {}, log=lambda _: None)
    first.peak_disk, first.peak_rss = 7e9, 3e9
    first._note_peaks()
    events.emit_to(path, "chapter", 600.0, model="m1", started=False)
    # killed here: no "done"
    assert len(profile.interrupted(path)) == 1
    events.emit_to(path, "build", started=True)
    lines: list[str] = []
    second = BuildMonitor(path, ["a"], {}, log=lines.append, resume=True)
    second.poll()
    assert lines == []
    assert second.compute_seconds == {"m1": {"": 600.0}}
    assert (second.peak_disk, second.peak_rss) == (0, 0)  # this run's own, from zero
    second.peak_disk, second.peak_rss = 5e9, 4e9
    second._note_peaks()
    events.emit_to(path, "peak", disk=9e9, rss=8e9)  # an older build's event: the running maximum, no anon
    runs = profile.runs(events.read(path))
    assert [(r["disk_gb"], r["rss_gb"], r["peak"]) for r in runs] == [
        (7.0, 3.0, "this run"),
        (9.0, 8.0, "running maximum"),
    ]
    events.emit_to(path, "build", done=True)
    assert profile.interrupted(path) == []


def test_a_page_is_up_to_date_until_something_it_reads_changes(tmp_path):
    """A warm rebuild executes no page; a changed notebook, result or parameter executes it again."""
    from ocr_core.reporting import book

    root = tmp_path
    (root / "notebooks").mkdir()
    (root / "notebooks" / "ch.py").write_text("x = 1\n")
    run = root / "results" / "exp" / "m" / "abc"
    run.mkdir(parents=True)
    (run / "records.json").write_text("[1]")
    out = root / "book" / "chapters" / "ch.ipynb"
    out.parent.mkdir(parents=True)
    out.write_text("{}")
    used = ["results/exp/m/abc"]
    package = book._package_digest(root)
    manifest = book._page_manifest(root, out)
    manifest.parent.mkdir(parents=True)
    fingerprint = book._page_fingerprint(root, "ch", ["m"], {}, used, package)
    manifest.write_text(json.dumps(dict(fingerprint=fingerprint, page=str(out), results=used)))
    assert book._page_current(root, "ch", ["m"], {}, out, package)
    assert not book._page_current(root, "ch", ["m", "n"], {}, out, package)  # another model
    assert not book._page_current(root, "ch", ["m"], {}, out, package + "x")  # the package changed
    (run / "records.json").write_text("[2]")  # the result was computed again
    assert not book._page_current(root, "ch", ["m"], {}, out, package)
    (run / "records.json").write_text("[1]")
    (root / "notebooks" / "ch.py").write_text("x = 2\n")
    assert not book._page_current(root, "ch", ["m"], {}, out, package)


def test_converting_a_notebook_while_another_process_reads_it_never_shows_half_a_file(tmp_path):
    """Both compute workers convert the same jupytext source when they start a chapter: a reader (papermill in
    the other worker) must see the whole notebook every time, never a truncated or empty file."""
    import shutil
    import threading

    import nbformat

    from ocr_core.reporting.notebooks import source_to_ipynb

    root = Path(__file__).resolve().parents[1]
    (tmp_path / "notebooks").mkdir()
    shutil.copy(root / "notebooks" / "ocr_verification.py", tmp_path / "notebooks")
    target = source_to_ipynb("ocr_verification", tmp_path)
    done, bad = threading.Event(), []

    def convert():
        for _ in range(60):
            source_to_ipynb("ocr_verification", tmp_path)
        done.set()

    writer = threading.Thread(target=convert)
    writer.start()
    reads = 0
    while not done.is_set() or reads == 0:
        try:
            nbformat.reads(target.read_text(), as_version=4)
        except Exception as err:  # any failure to parse is what this test guards
            bad.append(repr(err)[:80])
        reads += 1
    writer.join()
    assert not bad, f"{len(bad)} of {reads} reads saw a partial notebook: {bad[:2]}"
    assert not list((tmp_path / "notebooks").glob(".*")), "a temporary file was left behind"


def test_in_one_process_the_eta_adds_the_compute_of_the_chapters_that_compute(tmp_path):
    """No compute phase (the default memory budget): a page that computes takes its models' compute seconds from
    the profile, not only the seconds of executing a page that reads cached results."""
    expected = {
        "chapters": {"a": 10.0, "b": 10.0},
        "compute": {"m1": {"a": 600.0, "b": 300.0}, "m2": {"a": 60.0, "b": 60.0}},
    }
    monitor = BuildMonitor(tmp_path / "ev.jsonl", ["a", "b"], expected, log=lambda _: None)
    assert "ETA ~0:" in monitor.eta()  # nothing said about computing: 20 s of pages only
    monitor.serial({"a": ["m1", "m2"], "b": []})  # a computes for both models, b reads its results
    assert "ETA ~11:" in monitor.eta()  # 10 + 600 + 60, then 10


def test_in_one_process_the_eta_scales_by_how_fast_the_computing_pages_went(monkeypatch, tmp_path):
    """The profile's compute seconds come from one-thread workers; a computing page that took half its estimate
    halves the estimate of the computing pages still to come."""
    from ocr_core.reporting import progress

    clock = [1000.0]
    monkeypatch.setattr(progress.time, "perf_counter", lambda: clock[0])
    expected = {"chapters": {"a": 0.0, "b": 0.0, "c": 0.0}, "compute": {"m": {"a": 600.0, "b": 1200.0, "c": 60.0}}}
    monitor = BuildMonitor(tmp_path / "ev.jsonl", ["a", "b", "c"], expected, log=lambda _: None)
    monitor.serial({"a": ["m"], "b": ["m"], "c": []})
    monitor.chapter(0)
    assert "ETA ~30:00" in monitor.eta()  # 600 + 1200, c reads its results
    clock[0] += 300.0  # a took 300 s of its 600
    monitor.chapter(1)
    assert "ETA ~10:00" in monitor.eta()  # b: 1200 x 0.5


def test_a_short_first_page_does_not_scale_the_eta(monkeypatch, tmp_path):
    """A first computing page planned under 5 minutes (a model's first load, a few evaluations) says little
    about the hours of training after it: a page that took a tenth of its 3 min leaves the estimate as it is."""
    from ocr_core.reporting import progress

    clock = [1000.0]
    monkeypatch.setattr(progress.time, "perf_counter", lambda: clock[0])
    expected = {"chapters": {"a": 0.0, "b": 0.0}, "compute": {"m": {"a": 180.0, "b": 3600.0}}}
    monitor = BuildMonitor(tmp_path / "ev.jsonl", ["a", "b"], expected, log=lambda _: None)
    monitor.serial({"a": ["m"], "b": ["m"]})
    monitor.chapter(0)
    clock[0] += 18.0
    monitor.chapter(1)
    assert "ETA ~1:00:00" in monitor.eta()  # b as planned, not 6 min


def test_in_one_process_the_eta_scales_by_the_training_steps_not_by_a_resumed_page(monkeypatch, tmp_path):
    """A resumed build's first computing page did most of its work in the earlier run: it finishes in a tenth of
    its estimate, but this process trains at half the profile's speed per step, so what is left takes twice
    the profile's time, not a tenth of it."""
    from ocr_core.reporting import progress

    clock = [1000.0]
    monkeypatch.setattr(progress.time, "perf_counter", lambda: clock[0])
    expected = {
        "chapters": {"a": 0.0, "b": 0.0},
        "compute": {"m": {"a": 1000.0, "b": 600.0}},
        "work": [
            {"chapter": "a", "steps": 1000, "finetune_s": 800.0},
            {"chapter": "b", "steps": 500, "finetune_s": 400.0},
        ],
    }
    path = tmp_path / "ev.jsonl"
    monitor = BuildMonitor(path, ["a", "b"], expected, log=lambda _: None)
    monitor.serial({"a": ["m"], "b": ["m"]})
    monitor.chapter(0)
    events.emit_to(path, "finetune", 16.0, model="m", steps=10)  # 1.6 s a step, the profile's 0.8
    monitor.poll()
    clock[0] += 100.0  # a ends after a tenth of its 1000 s
    monitor.chapter(1)
    assert "ETA ~20:00" in monitor.eta()  # b: 600 s x 2


def test_a_stopped_builds_pages_keep_their_seconds_in_the_profile():
    """One process records no worker seconds: each page's time is summed over the runs from its page events, and
    a page whose run was killed while it executed counts until that run's last event."""
    found = [
        dict(kind="build", started=True, t=0.0),
        dict(kind="page", started=True, chapter="a", t=0.0),
        dict(kind="page", seconds=10.0, chapter="a", t=10.0),
        dict(kind="page", started=True, chapter="b", t=10.0),
        dict(kind="eval", seconds=1.0, chapter="b", t=25.0),  # killed after this
        dict(kind="build", started=True, t=100.0),
        dict(kind="page", started=True, chapter="a", t=100.0),
        dict(kind="page", seconds=2.0, chapter="a", t=102.0),
        dict(kind="page", started=True, chapter="b", t=102.0),
        dict(kind="page", seconds=30.0, chapter="b", t=132.0),
    ]
    assert profile.page_seconds(found) == {"a": 12.0, "b": 45.0}


def test_a_profile_made_in_one_process_gives_each_page_its_compute_apart(monkeypatch, tmp_path):
    """A one-process profile's page seconds hold the compute: a page that reads cached results is estimated
    without it, a page that computes with it."""
    from ocr_core.reporting import progress

    monkeypatch.setattr(progress.time, "perf_counter", lambda: 1000.0)
    work = [{"chapter": "a", "model": "m", "steps": 100, "finetune_s": 600.0, "eval_s": 80.0, "load_s": 10.0}]
    expected = {"chapters": {"a": 700.0, "b": 20.0}, "compute": {}, "work": work}
    reads = BuildMonitor(tmp_path / "ev.jsonl", ["a", "b"], expected, log=lambda _: None)
    reads.serial({"a": [], "b": []})
    assert "ETA ~0:30" in reads.eta()  # 700 - 690, then 20
    computes = BuildMonitor(tmp_path / "ev.jsonl", ["a", "b"], expected, log=lambda _: None)
    computes.serial({"a": ["m"], "b": []})
    assert "ETA ~12:00" in computes.eta()  # 10 + 690, then 20
