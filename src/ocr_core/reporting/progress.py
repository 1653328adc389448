"""Progress lines of a book build, from the work events the chapters' kernels write (`ocr_core.store.events`):
a line per finished finetune (chapter, model, seed and phase, epochs, seconds), a line for a long finetune
every half minute, each with the elapsed time and an ETA from the committed profile of a cold build
(`book/data/book_profile.json`); and the build's peak disk use of the cache and results, sampled."""

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


class BuildMonitor:
    """Follows the events file of a build in a thread and prints progress lines; tracks peak disk use of
    `disk_folders`. `expected`: {chapter: seconds} of a previous cold build (empty: no ETA)."""

    def __init__(
        self,
        path: Path,
        chapters: Sequence[str],
        expected: dict[str, float],
        disk_folders: Sequence[Path] = (),
        log: Callable[[str], None] = print,
        interval: float = 2.0,
    ):
        self.path, self.chapters, self.expected = Path(path), list(chapters), dict(expected)
        self.disk_folders, self.log, self.interval = list(disk_folders), log, interval
        self.started = time.perf_counter()
        self.chapter_started = self.started
        self.index = 0
        self.peak_disk = 0
        self._offset = 0
        self._last_line = 0.0
        self._last_disk = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> BuildMonitor:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        self.poll()
        self.sample_disk()

    def chapter(self, index: int) -> None:
        """Chapter `index` (0-based, into `chapters`) starts now."""
        self.index, self.chapter_started = index, time.perf_counter()

    def eta(self) -> str:
        if not self.expected:
            return "ETA unknown (no profile of a cold build yet)"
        current = self.chapters[self.index]
        left = max(0.0, self.expected.get(current, 0.0) - (time.perf_counter() - self.chapter_started))
        left += sum(self.expected.get(name, 0.0) for name in self.chapters[self.index + 1 :])
        return f"ETA ~{minutes(left)} (from the profile of a cold build)"

    def _prefix(self) -> str:
        return f"[book] {self.index + 1}/{len(self.chapters)} {self.chapters[self.index]}"

    def line(self, text: str) -> None:
        self._last_line = time.perf_counter()
        self.log(f"{self._prefix()} | {text} | {minutes(self._last_line - self.started)} elapsed | {self.eta()}")

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
                self.line(f"{event.get('desc', '')}: {event.get('steps', 0)} steps in {event['seconds']:.0f} s")
            elif kind == "epoch" and time.perf_counter() - self._last_line > 30:
                self.line(f"{event.get('desc', '')}: epoch {event['epoch']}/{event['epochs']}")
            elif kind == "result" and not event.get("reused"):
                self.line(f"{event['experiment']} on {event['model']} done in {event['seconds']:.0f} s")

    def sample_disk(self) -> None:
        self._last_disk = time.perf_counter()
        self.peak_disk = max(self.peak_disk, sum(folder_bytes(f) for f in self.disk_folders if Path(f).exists()))

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.poll()
            if time.perf_counter() - self._last_disk > 10:
                self.sample_disk()
