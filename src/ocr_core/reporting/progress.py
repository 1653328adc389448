"""Progress lines of a book build, from the work events the chapters' kernels write (`ocr_core.store.events`):
a line per finished finetune (chapter, model, seed and phase, epochs, seconds), a line for a long finetune
every half minute, a line per chapter a compute worker finishes, each with the elapsed time and an ETA from the
committed profile of a cold build (`book/data/book_profile.json`); and the build's peak disk use of the cache
and results and its peak resident memory (every process of the build, summed), sampled."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from ocr_core.store import events


def folder_bytes(folder: Path) -> int:
    total = 0
    for path in Path(folder).rglob("*"):
        try:
            if path.is_file():
                total += path.stat().st_size
        except OSError:
            continue
    return total


def minutes(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return (
        f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
        if seconds >= 3600
        else (f"{seconds // 60}:{seconds % 60:02d}")
    )


def tree_rss(pid: int | None = None, *, anonymous: bool = False) -> int:
    """Resident memory in bytes of process `pid` (default: this one) and all its descendants (Linux /proc;
    0 where it cannot be read). `anonymous`: only the memory no file backs (RssAnon: tensors, heaps), without
    the pages of files mapped for reading (weights and deltas opened from the cache), which the system can drop."""
    import os

    root = os.getpid() if pid is None else pid
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    page = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            stat = (entry / "stat").read_text()
            fields = stat[stat.rindex(")") + 2 :].split()
            pid_, ppid = int(entry.name), int(fields[1])
            rss[pid_] = _anonymous(entry) if anonymous else int(fields[21]) * page
            children.setdefault(ppid, []).append(pid_)
        except (OSError, ValueError, IndexError):
            continue
    total, todo = 0, [root]
    while todo:
        current = todo.pop()
        total += rss.get(current, 0)
        todo += children.get(current, [])
    return total


def _anonymous(proc: Path) -> int:
    """RssAnon of /proc/<pid>/status, in bytes."""
    for line in (proc / "status").read_text().splitlines():
        if line.startswith("RssAnon:"):
            return int(line.split()[1]) * 1024
    return 0


# Before its first finetune a one-process build scales the ETA by its finished computing pages only once they
# were planned to take this long: a short first page is mostly one-off work (a model's first load), and prior
# knowledge, 173 s in a workers' profile and 20 s in one process, made a cold build's ETA 33 min for 3 h of work.
MIN_PLANNED = 300.0


class BuildMonitor:
    """Follows the events file of a build in a thread and prints progress lines; tracks peak disk use of
    `disk_folders` and the peak resident memory of this process and everything it started (kernels, compute
    workers), summed. `expected`: a previous cold build's profile (`reporting.profile`): {"chapters": {chapter:
    seconds}, "compute": {model: {chapter: seconds}}, "work": [{"steps": n, "finetune_s": seconds, ...}]} (empty:
    no ETA). With `resume` (the events file holds an
    interrupted build that this one resumes) the earlier runs' chapter seconds and peaks are kept, not
    printed again; peaks are written to the events file as they rise, so a killed run's peaks are kept too."""

    def __init__(
        self,
        path: Path,
        chapters: Sequence[str],
        expected: dict,
        disk_folders: Sequence[Path] = (),
        log: Callable[[str], None] = print,
        interval: float = 2.0,
        resume: bool = False,
    ):
        self.path, self.chapters = Path(path), list(chapters)
        self.expected = dict(expected.get("chapters", {}))
        self.expected_compute = {m: dict(c) for m, c in expected.get("compute", {}).items()}
        if not self.expected_compute:  # a profile of one process: its pages' seconds hold their models' compute
            self._split_compute(expected.get("work", []))
        self.disk_folders, self.log, self.interval = list(disk_folders), log, interval
        self.started = time.perf_counter()
        self.chapter_started = self.started
        self.index = 0
        self.peak_disk = 0
        self.peak_rss = 0
        self.peak_anon = 0  # the part of peak_rss's kind that no file backs, at its own peak
        self.workers: dict[str, list[str]] = {}  # compute phase: model -> its chapters not yet finished
        self.worker_chapter: dict[str, tuple[str, float]] = {}  # model -> (chapter, started)
        self.compute_seconds: dict[str, dict[str, float]] = {}  # model -> chapter -> seconds
        self.cold: dict[str, list[str]] = {}  # one process: chapter -> the models whose work it computes itself
        self._computed = [0.0, 0.0]  # one process: seconds the finished computing pages took, and their estimate
        self._trained = [0.0, 0]  # this run's finetunes: seconds and training steps
        work = expected.get("work", [])
        steps = sum(row.get("steps", 0) for row in work)
        self._profile_step = sum(row.get("finetune_s", 0.0) for row in work) / steps if steps else 0.0
        self._offset = 0
        self._noted = (0, 0, 0)  # peaks (disk, rss, anon) last written to the events file
        if resume:
            self._resume()
        self._last_line = 0.0
        self._last_disk = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _split_compute(self, work: Sequence[dict]) -> None:
        """Take each model's compute per chapter (its training, evaluation, score passes and loads) out of the
        page seconds of a profile made in one process, as the workers' profiles record them apart."""
        for row in work:
            if row.get("model") and row.get("chapter"):
                seconds = sum(row.get(k, 0.0) for k in ("finetune_s", "eval_s", "score_s", "load_s"))
                per = self.expected_compute.setdefault(row["model"], {})
                per[row["chapter"]] = per.get(row["chapter"], 0.0) + seconds
        for name, seconds in self.expected.items():
            self.expected[name] = max(0.0, seconds - sum(c.get(name, 0.0) for c in self.expected_compute.values()))

    def _resume(self) -> None:
        """Take over an interrupted build's chapter seconds; print only what happens from now on. The peaks start
        from zero: each run's are its own (`profile.runs`), and the build's are the largest of its runs'."""
        found = events.read(self.path)
        for e in found:
            if e["kind"] == "chapter" and not e.get("started") and not e.get("skipped"):
                self._add_seconds(e.get("model", ""), e.get("chapter", ""), e["seconds"])
        self._offset = self.path.stat().st_size if self.path.exists() else 0

    def _note_peaks(self) -> None:
        """Write the peaks to the events file when one rose by 0.1 GB since last written."""
        now = (self.peak_disk, self.peak_rss, self.peak_anon)
        if any(a - b > 1e8 for a, b in zip(now, self._noted, strict=True)):
            self._noted = now
            events.emit_to(self.path, "peak", disk=self.peak_disk, rss=self.peak_rss, anon=self.peak_anon)

    def __enter__(self) -> BuildMonitor:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        self.poll()
        self.sample_disk()
        self.sample_memory()

    def chapter(self, index: int) -> None:
        """Chapter `index` (0-based, into `chapters`) starts now."""
        now = time.perf_counter()
        if self.cold.get(self.chapters[self.index]) and index > self.index:  # a computing page just finished
            self._computed[0] += now - self.chapter_started
            self._computed[1] += self._page_seconds(self.chapters[self.index])
        self.index, self.chapter_started = index, now

    def compute(self, models: Sequence[str], chapters: Sequence[str]) -> None:
        """The compute phase starts: one worker per model, each through `chapters` in order."""
        self.workers = {m: list(chapters) for m in models}
        now = time.perf_counter()
        self.worker_chapter = {m: (chapters[0], now) for m in models}

    def serial(self, cold: dict[str, Sequence[str]]) -> None:
        """The chapters compute in their pages, in this process (no compute phase): `cold` maps each chapter
        to the models whose results it has to compute (none: it reads them), so the ETA adds their compute
        seconds from the profile to the page's."""
        self.cold = {name: list(models) for name, models in cold.items()}

    def _page_seconds(self, name: str, scale: float = 1.0) -> float:
        """Expected seconds of executing page `name`: the profile's page time, plus, in one process, the compute
        time of each model it computes (measured by the profile's workers), times `scale`."""
        compute = sum(self.expected_compute.get(m, {}).get(name, 0.0) for m in self.cold.get(name, ()))
        return (self.expected.get(name, 0.0) + compute) * scale

    def compute_done(self) -> None:
        self.workers = {}
        self.chapter_started = time.perf_counter()

    def eta(self) -> str:
        if not self.expected:
            return "ETA unknown (no profile of a cold build yet)"
        now = time.perf_counter()
        left = 0.0
        if self.workers:  # compute phase: the slowest worker's remaining chapters, then every chapter
            per_worker = []
            for model, todo in self.workers.items():
                expected = self.expected_compute.get(model, {})
                chapter, since = self.worker_chapter.get(model, ("", now))
                rest = sum(expected.get(c, 0.0) for c in todo)
                if chapter in todo:
                    rest -= min(expected.get(chapter, 0.0), now - since)
                per_worker.append(rest)
            left = max(per_worker, default=0.0) + sum(self.expected.get(name, 0.0) for name in self.chapters)
        else:
            scale = self._scale()
            current = self.chapters[self.index]
            left = max(0.0, self._page_seconds(current, scale) - (now - self.chapter_started))
            left += sum(self._page_seconds(name, scale) for name in self.chapters[self.index + 1 :])
        return f"ETA ~{minutes(left)} (from the profile of a cold build)"

    def _scale(self) -> float:
        """How this process computes against the profile (which may come from other threads, another machine):
        its training steps' seconds against the profile's, once it has trained; before, the computing pages
        finished so far against their estimate. Steps, not pages: a resumed build's first page may have done
        most of its work in an earlier run, and would say this build is that much faster."""
        seconds, steps = self._trained
        if steps and self._profile_step > 0:
            return seconds / steps / self._profile_step
        spent, planned = self._computed
        return spent / planned if planned >= MIN_PLANNED else 1.0

    def _prefix(self, event: dict | None = None) -> str:
        if self.workers:
            chapter = (event or {}).get("chapter", "")
            return f"[book] compute {chapter}".rstrip()
        return f"[book] {self.index + 1}/{len(self.chapters)} {self.chapters[self.index]}"

    def line(self, text: str, event: dict | None = None) -> None:
        self._last_line = time.perf_counter()
        elapsed = minutes(self._last_line - self.started)
        self.log(f"{self._prefix(event)} | {text} | {elapsed} elapsed | {self.eta()}")

    def _add_seconds(self, model: str, chapter: str, seconds: float) -> None:
        """A chapter computed again (its notebook changed, a seed added) adds its seconds: both were work."""
        per = self.compute_seconds.setdefault(model, {})
        per[chapter] = per.get(chapter, 0.0) + seconds

    def _chapter_event(self, event: dict) -> None:
        """A compute worker started or finished a chapter."""
        model, chapter = event.get("model", ""), event.get("chapter", "")
        if event.get("started"):
            self.worker_chapter[model] = (chapter, time.perf_counter())
            return
        if chapter in self.workers.get(model, []):
            self.workers[model].remove(chapter)
        if event.get("skipped"):
            self.line(f"{chapter} for {model}: still computed, nothing to do", event)
            return
        self._add_seconds(model, chapter, event["seconds"])
        self.line(f"{chapter} computed for {model} in {minutes(event['seconds'])}", event)

    def poll(self) -> None:
        """Print lines for the events written since the last poll."""
        try:
            with open(self.path) as fh:
                fh.seek(self._offset)
                chunk = fh.read()
        except FileNotFoundError:
            return
        whole = chunk[: chunk.rfind("\n") + 1]
        self._offset += len(whole.encode())
        for raw in whole.splitlines():
            event = events.parse(raw)
            if event is None:
                continue
            kind = event["kind"]
            if kind == "finetune":
                self._trained[0] += event["seconds"]
                self._trained[1] += event.get("steps", 0)
                text = f"{event.get('desc', '')}: {event.get('steps', 0)} steps in {event['seconds']:.0f} s"
                self.line(text, event)
            elif kind == "epoch" and time.perf_counter() - self._last_line > 30:
                self.line(f"{event.get('desc', '')}: epoch {event['epoch']}/{event['epochs']}", event)
            elif kind == "result" and not event.get("reused"):
                self.line(f"{event['experiment']} on {event['model']} done in {event['seconds']:.0f} s", event)
            elif kind == "chapter":
                self._chapter_event(event)

    def sample_disk(self) -> None:
        self._last_disk = time.perf_counter()
        self.peak_disk = max(self.peak_disk, sum(folder_bytes(f) for f in self.disk_folders if Path(f).exists()))
        self._note_peaks()

    def sample_memory(self) -> None:
        self.peak_rss = max(self.peak_rss, tree_rss())
        self.peak_anon = max(self.peak_anon, tree_rss(anonymous=True))
        self._note_peaks()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.poll()
            self.sample_memory()
            if time.perf_counter() - self._last_disk > 10:
                self.sample_disk()
