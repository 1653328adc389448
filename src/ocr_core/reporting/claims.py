"""The paper's claims, each checked on our finished results by the verdict module (`reporting.verdicts`).

One row per (claim, model): the claim in our words, the paper's number (OLMo-7b, from the paper-numbers data
file), ours with its 95% interval over seeds and items, and the verdict: "reproduces", "does not reproduce",
or "not testable" where the claim's precondition fails at this scale (e.g. no OCR for freezing to remove).
Reads results only (`summary.read_records`): a missing one raises MissingResultError with its command.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from ocr_core.experiments.data_ordering import ordering
from ocr_core.experiments.extractive_scores import scores, summarize_scores
from ocr_core.experiments.grafting_localization import VARIANT_WORDS, localization, paper_variant
from ocr_core.experiments.layer_freezing import freezing
from ocr_core.experiments.ocr_verification import verify
from ocr_core.experiments.settings import resolve_seeds
from ocr_core.experiments.weight_grafting import grafting
from ocr_core.reporting import verdicts as v
from ocr_core.reporting.summary import read_records
from ocr_core.reporting.words import deltas_html

REPRODUCES, DOES_NOT = v.REPRODUCES, v.DOES_NOT

# Layer freezing: (hop, variant) -> the claim, as the paper's table supports it.
FREEZING_CLAIMS = {
    ("first_hop", "early_pre"): "Freezing the early layers while training facts removes first-hop OCR",
    ("first_hop", "early_post"): "Reverting the early layers' change removes first-hop OCR",
    ("second_hop", "late_pre"): "Freezing the late layers while training facts removes second-hop OCR",
    ("second_hop", "late_post"): "Reverting the late layers' change removes second-hop OCR",
}
FIG5_CLAIMS = {
    (
        "first_hop",
        "informative",
    ): "First-hop informative score peaks in an early-middle MLP on the subject's last tokens",
    ("second_hop", "upstream"): "Second-hop upstream score peaks in an early-middle MLP on the subject's last tokens",
    ("first_hop", "downstream"): "First-hop downstream score peaks in an early-middle MLP on the last token",
    ("second_hop", "informative"): "Second-hop informative score peaks in an early-middle MLP on the last token",
}


def _row(experiment: str, claim: str, paper: str, model: str, ours: str, verdict: str, basis: str) -> dict:
    return dict(experiment=experiment, claim=claim, paper=paper, model=model, ours=ours, verdict=verdict, basis=basis)


def _basis(seeds: Sequence[int] | None, experiment: str, items: str = "20 items") -> str:
    return f"95% interval, {len(resolve_seeds(seeds, experiment))} seeds x {items}"


def verification_claims(model: str, paper: dict, seeds, results) -> list[dict]:
    rows = []
    cells = paper["ocr_verification"]["rows"]
    for r in v.verification_verdicts(read_records(verify, model, seeds=seeds, results=results)):
        ours = f"{r['before']:.2f} → {r['after']} (change {r['change']})"
        hop = r["hop"].replace("_", "-")
        rows.append(
            _row(
                "OCR verification",
                f"Training only the facts lowers the {hop} implication rank below chance and below the untrained "
                "model's (OCR)",
                f"implication rank {cells[r['hop']][1]:.2f}",
                model,
                ours,
                REPRODUCES if r["verdict"] == v.OCR else f"{DOES_NOT} ({r['verdict']})",
                _basis(seeds, "ocr_verification"),
            )
        )
    return rows


def freezing_claims(model: str, paper: dict, seeds, results) -> list[dict]:
    table = paper["layer_freezing"]
    column = {"first_hop": table["columns"].index("first_hop.implication")}
    column["second_hop"] = table["columns"].index("second_hop.implication")
    rows = []
    for r in v.freezing_verdicts(read_records(freezing, model, seeds=seeds, results=results)):
        key = (r["hop"], r["variant"])
        none, frozen = table["rows"]["none"][column[r["hop"]]], table["rows"][r["variant"]][column[r["hop"]]]
        rows.append(
            _row(
                "Layer freezing",
                FREEZING_CLAIMS[key],
                f"implication rank {none:.2f} → {frozen:.2f}",
                model,
                f"{r['none']} → {r['frozen']} (change {r['change']})",
                r["verdict"],
                _basis(seeds, "layer_freezing"),
            )
        )
    return rows


def grafting_claims(model: str, paper: dict, seeds, results) -> list[dict]:
    cells = paper["weight_grafting"]["rows"]
    rows = []
    graft, alone, control = (cells[k][0] for k in ("graft", "base+W_F'", "control"))
    for r in v.grafting_verdicts(read_records(grafting, model, seeds=seeds, results=results)):
        without = r["graft - base+W_F'"]
        rows.append(
            _row(
                "Weight grafting",
                "Grafting the implication delta W_{F,I} onto a model trained on other facts F' makes it draw the "
                "implications of F' (lower than without the graft and lower than with the control graft W_I)",
                f"F' implications: graft {graft:.2f}, without {alone:.2f}, control {control:.2f}",
                model,
                f"graft {r['graft']}; vs without: {without}; vs control: {r['graft - control']}",
                r["verdict"],
                _basis(seeds, "weight_grafting", "80 items"),
            )
        )
    return rows


def ordering_claims(model: str, paper: dict, seeds, results) -> list[dict]:
    found = v.ordering_verdicts(read_records(ordering, model, seeds=seeds, results=results))
    after = {r["order"]: r["after"] for r in found["orders"]}
    verdict = found["ordering"]
    return [
        _row(
            "Data ordering",
            "Test names' implications are drawn after facts-first structure training, lower than after "
            "implications first and lower than with no structure stage",
            "qualitative: falls after facts first, stays at chance after implications first",
            model,
            f"facts first {after['facts_first']}, implications first {after['implications_first']}, "
            f"none {after['none']}",
            verdict["verdict"],
            _basis(seeds, "data_ordering"),
        )
    ]


def localization_claims(model: str, paper: dict, seeds, results) -> list[dict]:
    records = read_records(localization, model, seeds=seeds, results=results)
    rows = []
    found = v.localization_verdicts(records)
    variant = paper_variant(found)  # as the paper computes it; older records have only ours
    per = VARIANT_WORDS[variant] + (", as the paper" if variant == "points" else "")
    for r in (r for r in found if r["variant"] == variant):
        label = {"mlp": "MLPs", "head": "attention heads"}.get(r["kind"], r["kind"])
        rows.append(
            _row(
                "Grafting localization",
                f"Informative scores of W_{{F,I}} correlate positively with the downstream scores of test-name OCR "
                f"({label}, {per})",
                "positive correlation (no r reported)",
                model,
                f"r = {r['r']}",
                REPRODUCES if r["verdict"] == "positive" else f"{DOES_NOT} ({r['verdict']})",
                f"95% interval, {len(resolve_seeds(seeds, 'grafting_localization'))} seeds x {r['points']} points",
            )
        )
    return rows


def fig5_statements(model: str, tables: Mapping[int, pd.DataFrame]) -> list[dict]:
    """Each Fig. 5 statement (FIG5_CLAIMS) checked on each seed's score table of `model` ({seed: the records of
    `extractive_scores.scores` as a frame}): per seed, whether the MLP score's peak cell sits where the statement
    puts it (`verdicts.peak_verdict`), then `verdicts.seed_share` over the seeds. Rows: model, hop, score,
    statement, depth, peaks ("L<layer> <token>", per seed), verdict, k, n, low, high."""
    rows = []
    summaries = {seed: summarize_scores(table) for seed, table in tables.items()}
    for (hop, score), statement in FIG5_CLAIMS.items():
        where = "subject" if "subject" in statement else "last"
        holds, peaks, depth = [], [], 0
        for seed, table in tables.items():
            sub = table[table.hop == hop]
            depth = int(sub.layer.max()) + 1
            last_token = sub.loc[sub.slot.idxmax(), "token"]
            summary = summaries[seed]
            p = summary[(summary.hop == hop) & (summary.score == score) & (summary.kind == "mlp")].iloc[0]
            holds.append(v.peak_verdict(p["layer"], p["token"], depth, where, last_token) == "holds")
            peaks.append(f"L{p['layer']} {p['token'].split(':', 1)[-1]}")
        rows.append(
            dict(model=model, hop=hop, score=score, statement=statement, depth=depth, peaks=peaks) | v.seed_share(holds)
        )
    return rows


def fig5_claims(model: str, results, seeds: Sequence[int] | None = None) -> list[dict]:
    seeds = resolve_seeds(seeds, "extractive_scores")
    tables = {s: pd.DataFrame(read_records(scores, model, seed=s, results=results)) for s in seeds}
    rows = []
    for r in fig5_statements(model, tables):
        verdict = {"holds": REPRODUCES, "does not hold": DOES_NOT}.get(r["verdict"], f"{DOES_NOT} ({r['verdict']})")
        rows.append(
            _row(
                "Extractive scores (Fig. 5)",
                r["statement"],
                "early-middle layers of 32",
                model,
                f"where the paper puts it in {r['k']} of {r['n']} seeds (MLP peaks of {r['depth']} layers: "
                f"{', '.join(r['peaks'])})",
                verdict,
                f"{r['n']} seeds, peak cell per seed; one-sided 95% bounds of the share [{r['low']}, {r['high']}]",
            )
        )
    return rows


def paper_claims(paper: dict, models: Sequence[str], *, seeds=None, results="results") -> pd.DataFrame:
    """Every claim for every model (module docstring); `seeds` None: each experiment's own default seeds."""
    rows = []
    for model in models:
        rows += verification_claims(model, paper, seeds, results)
        rows += freezing_claims(model, paper, seeds, results)
        rows += grafting_claims(model, paper, seeds, results)
        rows += ordering_claims(model, paper, seeds, results)
        rows += localization_claims(model, paper, seeds, results)
        rows += fig5_claims(model, results, seeds)
    return pd.DataFrame(rows)


def verdict_counts(claims: pd.DataFrame) -> pd.DataFrame:
    """Per model: how many claims reproduce, do not, or cannot be tested."""
    word = claims.verdict.str.split(" (", regex=False).str[0]
    return claims.assign(verdict=word).groupby(["model", "verdict"]).size().unstack(fill_value=0)


def installation_rows(models: Sequence[str], *, seeds=None, results="results") -> list[dict]:
    """Structure installation verdicts (beyond the paper) for `models`, read only."""
    from ocr_core.experiments.structure_installation import installation

    rows = []
    for model in models:
        rows += v.installation_verdicts(read_records(installation, model, seeds=seeds, results=results))
    return rows


MODEL_LABELS = {"gemma-3-270m": "Gemma-3-270M", "smollm2-135m": "SmolLM2-135M-Instruct"}


def _model_label(model: str) -> str:
    return MODEL_LABELS.get(model, model)


def findings(claims: pd.DataFrame, installed: Sequence[dict] = ()) -> str:
    """The README's "What the book finds" section, in markdown, generated from the claims table (and the
    installation verdicts): per model, the count and each claim's verdict with our numbers."""
    lines = []
    counts = verdict_counts(claims)
    for model, sub in claims.groupby("model", sort=False):
        n = counts.loc[model]
        parts = [f"{n.get(REPRODUCES, 0)} of {len(sub)} of the paper's claims reproduce"]
        if n.get("not testable", 0):
            parts.append(f"{n['not testable']} cannot be tested (their precondition fails)")
        lines.append(f"**{_model_label(model)}**: {'; '.join(parts)}.")
        lines.append("")
        for r in sub.itertuples():
            lines.append(f"- {r.experiment}: {deltas_html(r.claim)}: **{r.verdict}**; ours: {r.ours}")
        lines.append("")
    if installed:
        lines.append(
            "**Beyond the paper, installing a structure** (fresh subjects' implications after each structure "
            "order, against no structure stage):"
        )
        lines.append("")
        for r in installed:
            lines.append(
                f"- {_model_label(r['model'])}, {r['hop'].replace('_', ' ')}, {r['order'].replace('_', ' ')}: "
                f"**{r['verdict']}**; {r['after']} vs {r['none']}, change {r['change']}"
            )
        lines.append("")
    lines.append(
        "Intervals are 95% bootstrap intervals over seeds and items (rules: the book's *Methods* page). The "
        "paper used 7-9B full-precision models; a claim that does not reproduce here is a statement about "
        "these small models."
    )
    return "\n".join(lines) + "\n"
