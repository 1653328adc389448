"""Weight grafting: the weight change learned from implications carries over to counterfactual facts.

Deltas (fictional relations, train names): W_F, W_{F,I} (on top of W_F), W_{F'} (from base), W_I (from base).
Evaluated models: base + W_{F'}; graft = base + W_{F'} + W_{F,I}; control = base + W_{F'} + W_I; on the
implications of F', the implications of F and the facts F'. Also logged: how well base + W_F + W_{F,I} still
knows the facts F (the implication phase can erase them).
"""

from __future__ import annotations

from collections.abc import Sequence

from ocr_core.data import fictional
from ocr_core.experiments.base import Settings, mean_sd, run_cached
from ocr_core.experiments.fictional import FictionalRuns
from ocr_core.experiments.settings import resolve_seeds
from ocr_core.training.metrics import ranks

# Bump when a change alters this experiment's records (ocr_core.store.keys); the key lock test asks.
VERSION = 2  # 2: records carry the per-item ranks

EXPERIMENT = "weight_grafting"
MODELS = ("base+W_F'", "graft", "control")
EVALS = ("implications_F'", "implications_F", "facts_F'")


def run_grafting(
    model, tokenizer, *, model_name: str, settings: Settings, seeds: Sequence[int] = (0,), progress: bool = True
) -> list[dict]:
    """Records: one row per (seed, weights, eval_set) with the mean rank."""
    records = []
    for seed in seeds:
        data = fictional(seed)
        runs = FictionalRuns(model, tokenizer, data, model_name=model_name, settings=settings, progress=progress)
        w_f, w_fi, w_fcf, w_i = runs.w_f().delta, runs.w_fi().delta, runs.w_fcf().delta, runs.w_i().delta
        evals = {
            "implications_F'": data.train_implications_cf,
            "implications_F": data.train_implications,
            "facts_F'": data.train_facts_cf,
            "facts_F": data.train_facts,
        }
        weights = {
            "base+W_F'": w_fcf,
            "graft": w_fcf + w_fi,
            "control": w_fcf + w_i,
            "base+W_F+W_FI": w_f + w_fi,
            "base+W_F": w_f,
        }
        for name, delta in weights.items():
            with delta.applied(model):
                for eval_name, ds in evals.items():
                    r = ranks(model, tokenizer, ds).tolist()  # per item: the verdicts' bootstrap
                    records.append(
                        dict(
                            experiment=EXPERIMENT,
                            model=model_name,
                            seed=seed,
                            weights=name,
                            eval_set=eval_name,
                            mean_rank=sum(r) / len(r),
                            ranks=r,
                            **settings.kwargs(),
                        )
                    )
    return records


def grafting_table(records: list[dict]) -> list[dict]:
    """The paper's table (rows: weights; columns: eval sets), mean and sd over seeds; plus the retention rows
    base+W_F and base+W_F+W_FI."""
    rows = []
    for weights in dict.fromkeys(r["weights"] for r in records):
        row = dict(weights=weights)
        for eval_name in (*EVALS, "facts_F"):
            values = [r["mean_rank"] for r in records if (r["weights"], r["eval_set"]) == (weights, eval_name)]
            row[eval_name], row[eval_name + ".sd"] = mean_sd(values)
        rows.append(row)
    return rows


def grafting(
    model_name: str,
    *,
    lr=None,
    epochs=None,
    batch_size=None,
    embeddings=None,
    seeds: Sequence[int] | None = None,
    results="results",
    force=False,
    progress=True,
):
    seeds = resolve_seeds(seeds, EXPERIMENT)
    settings = Settings.for_model(model_name, lr, epochs, batch_size, embeddings, fictional=True)
    config = dict(**settings.kwargs(), seeds=list(seeds))
    return run_cached(
        EXPERIMENT,
        model_name,
        config,
        lambda m, t: run_grafting(m, t, model_name=model_name, settings=settings, seeds=seeds, progress=progress),
        module=__name__,
        results=results,
        force=force,
        progress=progress,
    )
