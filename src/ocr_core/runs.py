"""Result directories, content hashes and atomic writes.

Results live at `<results>/<experiment>/<model>/<config-hash>/` with `config.json`, tidy `records.json` and
a `DONE` marker written last. The config hash includes a hash of the source the records depend on (the
training and scoring code, plus the experiment's own module and the experiment modules it imports), so
changed code never reuses stale results, and adding or editing one experiment leaves the others' valid.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import tempfile
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any


def cache_root() -> Path:
    """Where de-quantized models and cached deltas go: $OCR_CORE_CACHE, else ~/.cache/ocr_core."""
    return Path(os.environ.get("OCR_CORE_CACHE") or Path.home() / ".cache" / "ocr_core")


# What a finetuned delta depends on: a change elsewhere (experiments, scores, CLI) keeps cached deltas valid.
TRAINING_SOURCES = (
    "arch.py",
    "data",
    "deltas.py",
    "finetune.py",
    "metrics.py",
    "models.py",
    "tiny.py",
    "tokens.py",
    "train_step.py",
)
# What every experiment's records depend on, besides its own modules (`experiment_sources`): presentation
# (charts, the book, CLI, comparisons, memory plans) is left out, so editing a chart keeps finished results.
RESULT_SOURCES = (
    *TRAINING_SOURCES,
    "components.py",
    "hooks.py",
    "runs.py",
    "scores.py",
)
_EXPERIMENT_IMPORT = re.compile(r"^\s*(?:from|import) ocr_core\.experiments\.(\w+)", re.MULTILINE)


@cache
def experiment_sources(module: str) -> tuple[str, ...]:
    """RESULT_SOURCES plus experiment `module` (`ocr_core.experiments.ordering` or `ordering`) and every
    experiment module it imports, transitively."""
    folder = Path(str(files("ocr_core"))) / "experiments"
    seen: set[str] = set()
    todo = [module.rsplit(".", 1)[-1]]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        todo += _EXPERIMENT_IMPORT.findall((folder / f"{name}.py").read_text())
    return (*RESULT_SOURCES, *sorted(f"experiments/{name}.py" for name in seen))


@cache
def source_hash(only: tuple[str, ...] | None = None) -> str:
    """sha256 (12 hex) over this package's Python sources and data files (`only`: those top-level files and
    folders, or paths like `experiments/ordering.py`)."""
    digest = hashlib.sha256()
    root = Path(str(files("ocr_core")))
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if only is not None and rel.parts[0] not in only and rel.as_posix() not in only:
            continue
        if path.suffix in {".py", ".csv", ".txt"} and "__pycache__" not in path.parts:
            digest.update(path.relative_to(root).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def config_hash(config: dict[str, Any], sources: tuple[str, ...] | None = None) -> str:
    """Hash of a config plus the package source (`sources`: only those files/folders)."""
    payload = dict(config, _source=source_hash(sources))
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:12]


class DiskSpaceError(OSError):
    """The disk cannot hold what is about to be written; nothing partial was kept."""


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write via a temporary file in the same folder and rename, so readers never see half a file. Temporary
    files left by a killed writer of the same file are removed first. A full disk raises DiskSpaceError."""
    from ocr_core import faults

    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.{os.getpid()}.")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            faults.point(f"write:{path.suffix.lstrip('.')}")
        os.replace(tmp, path)
    except OSError as err:
        Path(tmp).unlink(missing_ok=True)
        if err.errno == errno.ENOSPC:
            raise DiskSpaceError(
                errno.ENOSPC,
                f"no space left on the disk holding {path.parent} while writing {path.name} "
                f"({len(data) / 1e9:.2f} GB; nothing partial was kept). Free some space, lower "
                "OCR_CORE_CACHE_MAX_GB, or point OCR_CORE_CACHE at a larger disk",
            ) from err
        raise
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def remove_stale_temporaries(path: Path) -> None:
    """Delete `.<name>.<pid>.*` temporaries of `path` whose writing process is gone (killed mid-write)."""
    for tmp in path.parent.glob(f".{path.name}.*"):
        pid = tmp.name[len(path.name) + 2 :].split(".", 1)[0]
        if pid.isdigit() and not alive(int(pid)):
            tmp.unlink(missing_ok=True)


def alive(pid: int) -> bool:
    """Whether process `pid` exists."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def file_sha256(path: Path) -> str:
    """sha256 of a file's bytes (hex), read in 16 MB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 24):
            digest.update(chunk)
    return digest.hexdigest()


def atomic_write_json(path: Path, obj: Any) -> None:
    atomic_write_bytes(path, (json.dumps(obj, indent=1, sort_keys=True) + "\n").encode())


def safe_name(name: str) -> str:
    """A model name or path as one folder name (`allenai/OLMo-7B` -> `allenai--OLMo-7B`)."""
    return name.strip("/").replace("/", "--").replace(" ", "_")


def provenance() -> dict[str, Any]:
    """Where a result was computed (not part of its key): host CPU, platform, Python."""
    import platform
    import sys

    from ocr_core.numerics import cpu_info

    return dict(
        cpu=cpu_info("model name") or platform.processor(),
        machine=platform.machine(),
        platform=platform.platform(),
        python=sys.version.split()[0],
        cores=os.cpu_count(),
    )


class RunDir:
    """One experiment's results for one model and config."""

    def __init__(
        self,
        results: Path | str,
        experiment: str,
        model: str,
        config: dict[str, Any],
        sources: tuple[str, ...] = RESULT_SOURCES,
    ):
        from ocr_core import numerics

        # The numeric environment is part of the key: pinned and unpinned numbers are never mixed.
        self.config = dict(config, experiment=experiment, model=model, numerics=numerics.environment())
        self.path = Path(results) / experiment / safe_name(model) / config_hash(self.config, sources)

    @property
    def done(self) -> bool:
        return (self.path / "DONE").exists()

    def write(self, records: list[dict[str, Any]]) -> Path:
        from ocr_core import faults

        atomic_write_json(self.path / "config.json", self.config)
        atomic_write_json(self.path / "provenance.json", provenance())
        faults.point("results")
        atomic_write_json(self.path / "records.json", records)
        atomic_write_bytes(self.path / "DONE", b"")
        return self.path

    def records(self) -> list[dict[str, Any]]:
        return json.loads((self.path / "records.json").read_text())
