"""Regenerate the README's "What the book finds" section from the executed comparison chapter.

The chapter `book/chapters/paper_vs_reproduction.ipynb` computes the section from the results (its cell
tagged "findings", `reporting.claims.findings`); this copies that output between the README's markers, so
the README holds no number that the book did not print. `--check` fails when the README differs.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

START = "<!-- findings: generated from the comparison chapter by `python -m ocr_core.tools.findings`; do not edit -->"
END = "<!-- /findings -->"
CHAPTER = Path("book") / "chapters" / "paper_vs_reproduction.ipynb"


def chapter_findings(chapter: Path) -> str:
    """The markdown output of the chapter's cell tagged "findings"."""
    nb = json.loads(Path(chapter).read_text())
    for cell in nb["cells"]:
        if "findings" in cell.get("metadata", {}).get("tags", []):
            for out in cell.get("outputs", []):
                text = out.get("data", {}).get("text/markdown")
                if text:
                    return "".join(text).strip() + "\n"
    raise ValueError(f"{chapter} has no executed cell tagged 'findings' with a markdown output: execute it first")


def replace_section(readme: str, body: str) -> str:
    if START not in readme or END not in readme:
        raise ValueError("the README lacks the findings markers")
    head, rest = readme.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{body}{END}{tail}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ocr_core.tools.findings", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the README is not what the chapter printed")
    parser.add_argument("--root", type=Path, default=Path("."))
    args = parser.parse_args(argv)
    readme = args.root / "README.md"
    text = readme.read_text()
    new = replace_section(text, chapter_findings(args.root / CHAPTER))
    if args.check:
        if new != text:
            print("README 'What the book finds' differs from the comparison chapter: python -m ocr_core.tools.findings")
            return 1
        return 0
    readme.write_text(new)
    print(f"[findings] {readme} updated from {CHAPTER}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
