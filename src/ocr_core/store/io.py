"""Files: the cache root, atomic writes, checksums, safe folder names."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

from ocr_core.errors import UserError


def cache_root() -> Path:
    """Where de-quantized models and cached deltas go: $OCR_CORE_CACHE, else ~/.cache/ocr_core."""
    return Path(os.environ.get("OCR_CORE_CACHE") or Path.home() / ".cache" / "ocr_core")


class DiskSpaceError(UserError, OSError):
    """The disk cannot hold what is about to be written; nothing partial was kept."""


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write via a temporary file in the same folder and rename, so readers never see half a file. Temporary
    files left by a killed writer of the same file are removed first. A full disk raises DiskSpaceError."""
    atomic_write(path, lambda fh: fh.write(data), len(data))


def atomic_write(path: Path, write: Callable[[BinaryIO], object], size: int) -> None:
    """`atomic_write_bytes` for content that `write` streams into the open file (`size` bytes in all, for the
    message of a full disk): a large file is never held in memory whole."""
    from ocr_core.store import faults

    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.{os.getpid()}.")
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            faults.point(f"write:{path.suffix.lstrip('.')}")
        os.replace(tmp, path)
    except OSError as err:
        Path(tmp).unlink(missing_ok=True)
        if err.errno == errno.ENOSPC:
            raise DiskSpaceError(
                errno.ENOSPC,
                f"no space left on the disk holding {path.parent} while writing {path.name} "
                f"({size / 1e9:.2f} GB; nothing partial was kept). Free some space, lower "
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


_MATCHED: set[tuple[str, int, int]] = set()  # (file, size, mtime_ns) whose checksum matched in this process


def file_matches(path: Path, sha256: str | None) -> bool:
    """Whether the file at `path` has checksum `sha256`; hashed once per process per unchanged file (same size
    and modification time), so a large cached file is not re-read on every reuse."""
    stat = path.stat()
    seen = (str(path), stat.st_size, stat.st_mtime_ns)
    if seen in _MATCHED:
        return True
    if sha256 != file_sha256(path):
        return False
    _MATCHED.add(seen)
    return True


def mark_used(path: Path) -> None:
    """Set `path`'s modification time to now (least-recently-used pruning reads it), keeping what
    `file_matches` knows: a file whose checksum matched before the touch is not hashed again after it."""
    before = path.stat()
    path.touch()
    if (str(path), before.st_size, before.st_mtime_ns) in _MATCHED:
        after = path.stat()
        _MATCHED.add((str(path), after.st_size, after.st_mtime_ns))


def atomic_write_json(path: Path, obj: Any) -> None:
    atomic_write_bytes(path, (json.dumps(obj, indent=1, sort_keys=True) + "\n").encode())


def safe_name(name: str) -> str:
    """A model name or path as one folder name (`allenai/OLMo-7B` -> `allenai--OLMo-7B`)."""
    return name.strip("/").replace("/", "--").replace(" ", "_")
