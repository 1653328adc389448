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
    """notebooks/<name>.py -> notebooks/<name>.ipynb (jupytext pairing; the .py is the source of truth).
    Written atomically: the book's compute workers (and a sweep's runs) convert the same source at the same
    time, and papermill must never read a file another process has just truncated."""
    import jupytext

    from ocr_core.store.io import atomic_write_bytes

    source = root / "notebooks" / f"{name}.py"
    target = source.with_suffix(".ipynb")
    notebook = jupytext.read(source)
    atomic_write_bytes(target, jupytext.writes(notebook, fmt="ipynb").encode())
    return target


# Reader view (Jupyter Book tags): what a chapter page shows of its code cells.
REMOVED = ("parameters", "injected-parameters")  # the parameters: the rerun box and the rerun page give them
SHOWN = ("show-input",)  # a cell whose code the reader should see (none yet)


def reader_tags(nb: dict) -> dict:
    """Tag the code cells of an executed notebook for the page: the parameters cells (the source's and
    papermill's injected copy) are removed; the setup cell (the first other code cell: imports, reading the
    results) keeps its output only; every other code cell's input is hidden behind a toggle. Cells tagged
    `show-input` are left as they are; a cell the source tags `remove-cell` (a check nbval reads, printed for
    a table the page shows as HTML) stays removed."""
    setup_seen = False
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        tags = cell.setdefault("metadata", {}).setdefault("tags", [])
        keep = [t for t in tags if t not in ("remove-cell", "remove-input", "hide-input")]
        if any(t in SHOWN for t in keep):
            new = []
        elif "remove-cell" in tags or any(t in REMOVED for t in keep):  # removed here or in the source
            new = ["remove-cell"]
        elif not setup_seen:
            new, setup_seen = ["remove-input"], True
        else:
            new = ["hide-input"]
        cell["metadata"]["tags"] = keep + new
    return nb


def strip_execution_metadata(path: Path) -> None:
    """Drop papermill's timing metadata and number the cells (jupytext draws random ids) so re-executed
    notebooks diff only where results changed; tag the cells for the page (`reader_tags`)."""
    nb = reader_tags(json.loads(path.read_text()))
    for key in ("start_time", "end_time", "duration"):
        nb.get("metadata", {}).get("papermill", {}).pop(key, None)
    for i, cell in enumerate(nb["cells"]):
        cell["id"] = f"cell-{i:03d}"
        cell.get("metadata", {}).pop("execution", None)
        for key in ("start_time", "end_time", "duration"):
            cell.get("metadata", {}).get("papermill", {}).pop(key, None)
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
