"""Result folders: `<results>/<experiment>/<model>/<key>/` with config.json (the key's inputs), provenance.json
(where and from what code it was computed), records.json (tidy rows) and a DONE marker written last."""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path
from typing import Any

from ocr_core.store import keys
from ocr_core.store.io import atomic_write_bytes, atomic_write_json, safe_name


@cache
def git_commit() -> str:
    """The repository commit the package runs from (`+dirty` with uncommitted changes), or "" outside git."""
    import subprocess

    from ocr_core.store.fingerprint import package_root

    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=package_root(), capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=package_root(),
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""
    return head + ("+dirty" if dirty else "")


@cache
def package_versions() -> dict[str, str]:
    from importlib import metadata

    out = {}
    for dist in ("ocr-core", "torch", "transformers", "tokenizers", "numpy", "safetensors", "gguf"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = ""
    return out


def provenance(module: str | None = None) -> dict[str, Any]:
    """Where and from what a result was computed (not part of its key): host CPU, platform, Python, git
    commit, package versions and the code fingerprints of training, scoring and experiment `module`."""
    import platform
    import sys

    from ocr_core.numerics import cpu_info
    from ocr_core.store.fingerprint import unit_fingerprints

    return dict(
        cpu=cpu_info("model name") or platform.processor(),
        machine=platform.machine(),
        platform=platform.platform(),
        python=sys.version.split()[0],
        cores=os.cpu_count(),
        threads=_threads(),
        commit=git_commit(),
        packages=package_versions(),
        fingerprints=unit_fingerprints(module),
    )


def _threads() -> int | None:
    import sys

    torch = sys.modules.get("torch")
    return torch.get_num_threads() if torch is not None else None


class RunDir:
    """One experiment's results for one model and config. `module`: the experiment's module; its VERSION
    (with TRAINING_VERSION and SCORING_VERSION) is part of the key."""

    def __init__(
        self,
        results: Path | str,
        experiment: str,
        model: str,
        config: dict[str, Any],
        module: str | None = None,
        version: int | None = None,
    ):
        from ocr_core import numerics

        self.module = module
        # The numeric environment is part of the key: pinned and unpinned numbers are never mixed.
        self.config = dict(
            config,
            experiment=experiment,
            model=model,
            numerics=numerics.environment(),
            versions=keys.versions(version),
        )
        self.path = Path(results) / experiment / safe_name(model) / keys.digest(self.config)

    @property
    def done(self) -> bool:
        return (self.path / "DONE").exists()

    def write(self, records: list[dict[str, Any]]) -> Path:
        from ocr_core.store import faults

        atomic_write_json(self.path / "config.json", self.config)
        atomic_write_json(self.path / "provenance.json", provenance(self.module))
        faults.point("results")
        atomic_write_json(self.path / "records.json", records)
        atomic_write_bytes(self.path / "DONE", b"")
        return self.path

    def records(self) -> list[dict[str, Any]]:
        return json.loads((self.path / "records.json").read_text())
