"""Paper vs reproduction, side by side: the paper's numbers (a data file labelled as the paper's) beside ours.
No verdict here: every verdict comes from `reporting.verdicts` (the claims of `reporting.claims`)."""

from __future__ import annotations

import json
from pathlib import Path


def load_paper(path: str | Path) -> dict:
    return json.loads(Path(path).read_text())


def table_rows(paper_table: dict, ours: dict[str, dict[str, float]], label: str) -> list[dict]:
    """One output row per paper row: the paper's cells and ours (mean over seeds; NaN where not run).
    `ours`: {row name: {column: mean rank}}."""
    columns = paper_table["columns"]
    rows = []
    for name, paper_cells in paper_table["rows"].items():
        mine = [ours.get(name, {}).get(c, float("nan")) for c in columns]
        row = {label: name}
        for c, p, o in zip(columns, paper_cells, mine, strict=True):
            row[f"paper {c}"] = p
            row[f"ours {c}"] = round(o, 2)
        rows.append(row)
    return rows
