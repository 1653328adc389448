"""Headline numbers per model and the paper-vs-reproduction tables, read from the experiments' finished results.

Reporting reads, it never trains: every result is read under `ocr_core.experiments.base.read_only()`, so a
missing one raises MissingResultError with the command that computes it (the experiment chapters, or
`python -m ocr_core <experiment>`, compute them).
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from ocr_core.experiments.base import Settings, read_only
from ocr_core.experiments.data_ordering import ordering, ordering_table
from ocr_core.experiments.grafting_localization import VARIANT_WORDS, localization, localization_table, paper_variant
from ocr_core.experiments.layer_freezing import freezing, freezing_table
from ocr_core.experiments.ocr_verification import summarize_ocr, verify
from ocr_core.experiments.prior_knowledge import knowledge_table, prior_knowledge
from ocr_core.experiments.registry import EXPERIMENTS
from ocr_core.experiments.weight_grafting import grafting, grafting_table
from ocr_core.reporting.compare import table_rows

# The paper's experiments whose numbers the paper gives as a table (the others are qualitative claims).
TABLES = ("ocr_verification", "layer_freezing", "weight_grafting")


def read_records(fn, model: str, **kwargs) -> list[dict]:
    """The records of experiment entry `fn` for `model`, read only (MissingResultError if not computed)."""
    with read_only():
        return fn(model, progress=False, **kwargs).records()


def _verification(model, seeds, results) -> dict[tuple[str, str], float]:
    rows = summarize_ocr(read_records(verify, model, seeds=seeds, results=results))
    return {(r["hop"], r["split"]): r["after"] for r in rows}


def _seeds_text(seeds: Sequence[int] | None) -> str:
    """The seeds as a reader reads them: the list given, or each kind of experiment's default."""
    from ocr_core.experiments.settings import CHEAP_SEEDS, SEEDS

    if seeds is not None:
        return str(list(seeds))
    return f"{list(CHEAP_SEEDS)} (verification, freezing, scores), {list(SEEDS)} (the rest)"


def headline(model: str, *, seeds: Sequence[int] | None = None, results="results") -> dict:
    """One row of headline numbers for `model` at its default settings."""
    s, f = Settings.for_model(model), Settings.for_model(model, fictional=True)
    knows = {
        r["relation"]: r["mean_rank"] for r in knowledge_table(read_records(prior_knowledge, model, results=results))
    }
    ver = _verification(model, seeds, results)
    order = {r["order"]: r for r in ordering_table(read_records(ordering, model, seeds=seeds, results=results))}
    graft = {r["weights"]: r for r in grafting_table(read_records(grafting, model, seeds=seeds, results=results))}
    loc = paper_variant_r2(localization_table(read_records(localization, model, seeds=seeds, results=results)))
    return {
        "model": model,
        "parameters": f"hop datasets lr {s.lr:g} x {s.epochs} epochs; fictional lr {f.lr:g} x {f.epochs} epochs; "
        f"batch {s.batch_size}; seeds {_seeds_text(seeds)}",
        "base: city->language": knows["city_language"],
        "base: landmark->city": knows["landmark_city"],
        "first-hop impl. after facts": ver[("first_hop", "implication")],
        "second-hop impl. after facts": ver[("second_hop", "implication")],
        **{
            f"test impl. after OCR, {o}": order[o]["test_implications.after"]
            for o in ("none", "joint", "facts_first", "implications_first")
        },
        "train facts after facts-first": order["facts_first"]["train_facts.after_structure"],
        "graft: impl. F'": graft["graft"]["implications_F'"],
        "control: impl. F'": graft["control"]["implications_F'"],
        f"localization r² (MLPs, {VARIANT_WORDS[loc['variant']]})": loc["mlp"],
        f"localization r² (heads, {VARIANT_WORDS[loc['variant']]})": loc["head"],
    }


def paper_variant_r2(rows: Sequence[dict]) -> dict:
    """{"variant", "mlp", "head"}: localization r² (mean over seeds) of `paper_variant` of the rows."""
    variant = paper_variant(rows)
    return dict(variant=variant, **{r["kind"]: r["r2"] for r in rows if r["variant"] == variant})


def paper_comparison(paper: dict, models: Sequence[str], *, seeds=None, results="results") -> dict:
    """{experiment: DataFrame} with the paper's cells and ours per row and model, for the paper's tables (OCR
    verification as its *none* freezing row, layer freezing, weight grafting). Verdicts: `reporting.claims`."""
    out: dict[str, list[dict]] = {e.name: [] for e in EXPERIMENTS if e.paper and e.name in TABLES}
    for model in models:
        ver = _verification(model, seeds, results)
        ours = {
            hop: {split: ver[(hop, split)] for split in ("fact", "implication")} for hop in ("first_hop", "second_hop")
        }
        out["ocr_verification"] += [dict(model=model, **r) for r in table_rows(paper["ocr_verification"], ours, "hop")]

        rows = freezing_table(read_records(freezing, model, seeds=seeds, results=results))
        ours = {r["variant"]: r for r in rows}
        out["layer_freezing"] += [dict(model=model, **r) for r in table_rows(paper["layer_freezing"], ours, "variant")]

        rows = grafting_table(read_records(grafting, model, seeds=seeds, results=results))
        ours = {r["weights"]: r for r in rows}
        out["weight_grafting"] += [
            dict(model=model, **r) for r in table_rows(paper["weight_grafting"], ours, "weights")
        ]

    return {k: pd.DataFrame(v) for k, v in out.items()}


def per_hop(table: pd.DataFrame) -> pd.DataFrame:
    """A `paper_comparison` table whose columns are "<who> <hop>.<split>" (layer freezing) with one row per hop
    instead: columns "<who> <split>" and a "hop" column after the other key columns; narrow enough to read."""
    cells = [c for c in table.columns if " " in c and "." in c.split(" ", 1)[1]]
    keys = [c for c in table.columns if c not in cells and c != "verdict" and not c.endswith("band")]
    rows = []
    for _, r in table.iterrows():
        hops: dict[str, dict] = {}
        for c in cells:
            who, rest = c.split(" ", 1)
            hop, split = rest.split(".", 1)
            hops.setdefault(hop, {})[f"{who} {split}"] = r[c]
        rows += [{**{k: r[k] for k in keys}, "hop": hop, **values} for hop, values in hops.items()]
    return pd.DataFrame(rows)
