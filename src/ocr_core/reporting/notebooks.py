"""What every notebook and every notebook runner shares: the repository root, the first cell's setup, the
jupytext source -> .ipynb step and stripping execution metadata."""

from __future__ import annotations

import json
import os
from pathlib import Path


def repo_root(start: Path | None = None) -> Path:
    """The folder holding _config.yml and pyproject.toml (searched upwards from `start` or the cwd)."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "_config.yml").exists() and (folder / "pyproject.toml").exists():
            return folder
    raise FileNotFoundError(f"no book root (_config.yml + pyproject.toml) above {here}")


def setup_notebook() -> Path:
    """First call of every notebook: refuse to run unpinned where the numerics can be pinned
    (`numerics.require`), work from the repository root (papermill, nbval and Jupyter start kernels in
    different folders), render charts offline, and print the numeric environment. Returns the root."""
    from transformers.utils import logging as hf_logging

    from ocr_core import numerics
    from ocr_core.reporting.charts import enable_offline

    numerics.require()
    root = repo_root()
    os.chdir(root)
    enable_offline()
    hf_logging.disable_progress_bar()  # no "Loading weights" bars in the book's cells
    print(numerics.describe())
    return root


def source_to_ipynb(name: str, root: Path) -> Path:
    """notebooks/<name>.py -> notebooks/<name>.ipynb (jupytext pairing; the .py is the source of truth)."""
    import jupytext

    source = root / "notebooks" / f"{name}.py"
    target = source.with_suffix(".ipynb")
    notebook = jupytext.read(source)
    jupytext.write(notebook, target)
    return target


def strip_execution_metadata(path: Path) -> None:
    """Drop papermill's timing metadata and number the cells (jupytext draws random ids) so re-executed
    notebooks diff only where results changed."""
    nb = json.loads(path.read_text())
    for key in ("start_time", "end_time", "duration"):
        nb.get("metadata", {}).get("papermill", {}).pop(key, None)
    for i, cell in enumerate(nb["cells"]):
        cell["id"] = f"cell-{i:03d}"
        cell.get("metadata", {}).pop("execution", None)
        for key in ("start_time", "end_time", "duration"):
            cell.get("metadata", {}).get("papermill", {}).pop(key, None)
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
