"""The book's regression check on a host that cannot run the pinned numerics ("tolerance" mode).

On a pinned AMD x86-64 host (`numerics.mode() == "exact"`) `make test` runs nbval, which
re-executes a chapter and compares every `# NBVAL_CHECK_OUTPUT` cell's text exactly. Elsewhere (ARM, x86
without AVX2, an Intel host, or OCR_CORE_NUMERICS=native) the book's bits cannot be had, so this module
re-executes the chapter with papermill (its committed parameters) and compares those cells' text with numbers
allowed to differ by `numerics.TOLERANCE` and every word (verdicts, names, column headers) required to be equal.

    python -m ocr_core.tools.checked book/chapters/ocr_verification.ipynb [...]   # exit 1 on a difference
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
from pathlib import Path

MARK = "NBVAL_CHECK_OUTPUT"
_NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?|nan|inf", re.IGNORECASE)


def split_numbers(text: str) -> tuple[list[str], list[float]]:
    """Text -> (the words and spaces between numbers, the numbers), e.g. "a 1.5 b" -> (["a ", " b"], [1.5])."""
    return _NUMBER.split(text), [float(x) for x in _NUMBER.findall(text)]


def compare_text(expected: str, got: str, tolerance: float) -> list[str]:
    """Differences between two checked outputs: words must be equal, numbers within `tolerance` (absolute;
    nan equals nan, inf equals inf). Returns one line per difference (empty: the outputs agree)."""
    (words_e, nums_e), (words_g, nums_g) = split_numbers(expected), split_numbers(got)
    if [" ".join(w.split()) for w in words_e] != [" ".join(w.split()) for w in words_g]:
        return [f"the words differ:\n  expected: {expected!r}\n  got:      {got!r}"]
    problems = []
    for i, (a, b) in enumerate(zip(nums_e, nums_g, strict=True)):
        same = a == b or (a != a and b != b)  # equal (inf too: inf - inf is nan), or both nan
        if not same and not abs(a - b) <= tolerance:
            problems.append(f"number {i + 1}: expected {a:g}, got {b:g} (tolerance {tolerance:g})")
    return problems


def checked_outputs(notebook: dict) -> list[tuple[int, str]]:
    """(cell index, stdout + text/plain) of every code cell marked NBVAL_CHECK_OUTPUT."""
    out = []
    for i, cell in enumerate(notebook["cells"]):
        if cell["cell_type"] != "code" or MARK not in "".join(cell["source"]):
            continue
        text = []
        for o in cell.get("outputs", []):
            if o.get("output_type") == "stream" and o.get("name") == "stdout":
                text.append("".join(o["text"]))
            elif "data" in o and "text/plain" in o["data"]:
                text.append("".join(o["data"]["text/plain"]))
        out.append((i, "".join(text)))
    return out


def check_chapter(path: Path, tolerance: float, root: Path) -> list[str]:
    """Re-execute a committed chapter with its own parameters and compare its checked cells."""
    import jupytext
    import papermill

    committed = json.loads(path.read_text())
    parameters = committed.get("metadata", {}).get("papermill", {}).get("parameters", {})
    source = root / "notebooks" / f"{path.stem}.py"
    with tempfile.TemporaryDirectory() as tmp:
        notebook = Path(tmp) / f"{path.stem}.ipynb"
        jupytext.write(jupytext.read(source), notebook)
        out = Path(tmp) / "executed.ipynb"
        papermill.execute_notebook(
            str(notebook), str(out), parameters=parameters, cwd=str(root), progress_bar=False, kernel_name="python3"
        )
        executed = json.loads(out.read_text())
    expected, got = checked_outputs(committed), checked_outputs(executed)
    if len(expected) != len(got):
        return [f"{len(expected)} checked cells committed, {len(got)} executed"]
    problems = []
    for (cell, e), (_, g) in zip(expected, got, strict=True):
        problems += [f"cell {cell}: {p}" for p in compare_text(e, g, tolerance)]
    return problems


def main(argv: list[str] | None = None) -> int:
    from ocr_core import numerics
    from ocr_core.reporting.notebooks import repo_root

    parser = argparse.ArgumentParser(prog="python -m ocr_core.tools.checked", description=__doc__.splitlines()[0])
    parser.add_argument("chapters", nargs="+", type=Path)
    parser.add_argument("--tolerance", type=float, default=numerics.TOLERANCE)
    args = parser.parse_args(argv)
    root = repo_root()
    print(f"[checked] {numerics.describe()}", flush=True)
    print(f"[checked] numbers within {args.tolerance:g}, words exactly", flush=True)
    failed = 0
    for chapter in args.chapters:
        problems = check_chapter(chapter.resolve(), args.tolerance, root)
        failed += bool(problems)
        print(f"[checked] {chapter}: {'FAILED' if problems else 'passed'}", flush=True)
        for p in problems:
            print(f"  {p}")
    print(f"{len(args.chapters) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
