"""Paper vs reproduction: put the paper's numbers (a data file labelled as the paper's) beside ours, with a
verdict per row from a fixed, stated rule.

Rule: each mean rank is put in a band relative to chance c = (n_options - 1) / 2: *low* (< c/3), *mid*, or
*high* (> 2c/3). A row *reproduces* if every cell lands in the paper's band, is *weaker* if the worst cell
is one band off, and *does not reproduce* if a cell is two bands off (low where the paper is high, or the
reverse). Correlations (grafting localization): r^2 >= 0.5 reproduces, >= 0.2 weaker, else does not.
"""

from __future__ import annotations

import json
from pathlib import Path

from ocr_core.experiments.base import final_per_seed

BANDS = ("low", "mid", "high")
CHANCE = 9.5
REPRODUCES, WEAKER, NOT = "reproduces", "weaker", "does not reproduce at this scale"


def band(rank: float, chance: float = CHANCE) -> str:
    if rank != rank:  # nan
        return "missing"
    return "low" if rank < chance / 3 else "high" if rank > 2 * chance / 3 else "mid"


def verdict_from_bands(paper: list[str], ours: list[str]) -> str:
    if "missing" in ours:
        return "not run"
    worst = max(abs(BANDS.index(p) - BANDS.index(o)) for p, o in zip(paper, ours, strict=True))
    return (REPRODUCES, WEAKER, NOT)[worst]


def verdict(paper: list[float], ours: list[float], chance: float = CHANCE) -> str:
    return verdict_from_bands([band(p, chance) for p in paper], [band(o, chance) for o in ours])


def r2_verdict(r2: float) -> str:
    return REPRODUCES if r2 >= 0.5 else WEAKER if r2 >= 0.2 else NOT


def load_paper(path: str | Path) -> dict:
    return json.loads(Path(path).read_text())


def table_rows(paper_table: dict, ours: dict[str, dict[str, float]], label: str) -> list[dict]:
    """One output row per paper row: the paper's cells, ours (mean over seeds) and the verdict.
    `ours`: {row name: {column: mean rank}} (missing columns count as not run)."""
    columns = paper_table["columns"]
    rows = []
    for name, paper_cells in paper_table["rows"].items():
        mine = [ours.get(name, {}).get(c, float("nan")) for c in columns]
        row = {label: name}
        for c, p, o in zip(columns, paper_cells, mine, strict=True):
            row[f"paper {c}"] = p
            row[f"ours {c}"] = round(o, 2)
        row["verdict"] = verdict(paper_cells, mine)
        rows.append(row)
    return rows


def ocr_word(before: float, after: float, chance: float = CHANCE) -> str:
    """Plain words for a rank change of never-trained implications: *strong OCR* if the rank ends in the
    low band, *partial OCR* if it fell by at least one rank, else *no OCR*."""
    if band(after, chance) == "low":
        return "strong OCR"
    return "partial OCR" if before - after >= 1.0 else "no OCR"


def _final_per_seed(ranks: list[dict], stage: str, eval_set: str) -> dict[tuple, dict[int, float]]:
    """{(model, hop, order): {seed: mean rank at the last step of `stage` on `eval_set`}}."""
    groups = dict.fromkeys((r["model"], r["hop"], r["order"]) for r in ranks)
    out = {}
    for model, hop, order in groups:
        match = dict(model=model, hop=hop, order=order, stage=stage, eval_set=eval_set)
        if per_seed := final_per_seed(ranks, "last", **match):
            out[(model, hop, order)] = per_seed
    return out


def _mean(per_seed: dict[int, float]) -> float:
    """Mean over seeds; NaN when there are none."""
    return sum(per_seed.values()) / len(per_seed) if per_seed else float("nan")


def installation_verdicts(records: list[dict], min_gain: float = 1.0) -> list[dict]:
    """Plain verdicts of structure installation, per model, hop and order (other than *none*): the fresh
    subjects' final implication rank after the order's structure stage vs after none (means over seeds).
    *installs OCR* if the mean fell by at least `min_gain` ranks and every seed ended below every seed of
    none; *weakens OCR* for the mirror case; else *no clear effect*. `structure_facts` is the structure
    stage's own train-fact rank at its end, `fresh_facts` the fresh subjects' fact rank at the end of the OCR
    stage (means over seeds): above 1, that stage did not learn its facts, so the test is weak. `per_seed` and
    `none_per_seed` hold the final implication ranks in seed order."""
    ranks = [r for r in records if r.get("record", "rank") == "rank"]
    fresh = _final_per_seed(ranks, "ocr", "test_implications")
    facts = _final_per_seed(ranks, "structure", "train_facts")
    fresh_facts = _final_per_seed(ranks, "ocr", "test_facts")
    rows = []
    for (model, hop, order), seeds in fresh.items():
        control = fresh.get((model, hop, "none"))
        if order == "none" or not control:
            continue
        after, none = _mean(seeds), _mean(control)
        if none - after >= min_gain and max(seeds.values()) < min(control.values()):
            word = "installs OCR"
        elif after - none >= min_gain and min(seeds.values()) > max(control.values()):
            word = "weakens OCR"
        else:
            word = "no clear effect"
        rows.append(
            dict(
                model=model,
                hop=hop,
                order=order,
                seeds=len(seeds),
                none_after=none,
                after=after,
                gain=none - after,
                structure_facts=_mean(facts.get((model, hop, order), {})),
                fresh_facts=_mean(fresh_facts.get((model, hop, order), {})),
                per_seed=[seeds[s] for s in sorted(seeds)],
                none_per_seed=[control[s] for s in sorted(control)],
                verdict=word,
            )
        )
    return rows
