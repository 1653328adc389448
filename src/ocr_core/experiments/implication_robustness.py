"""Implication robustness: is OCR a property of one implication template, or of the new fact?

The OCR verification tests each hop with one implication template. Here the same finetunes (the verification's
own deltas, read back from the delta cache) are tested on paraphrased implication templates, and, for the first
hop, on another attribute of the latent city (its country). Per template: the implication rank of the untrained
model and after the facts are trained, on the same items, with the OCR verdict of `reporting.verdicts`.

  first hop (fact "NAME lives in" -> city): language, three paraphrases, and the city's country
  second hop (fact "The mayor of CITY is" -> NAME): three paraphrases of the landmark -> city -> mayor question
"""

from __future__ import annotations

from collections.abc import Sequence

from ocr_core.data import Dataset, Example, first_hop, second_hop
from ocr_core.data.datasets import FIRST_HOP_IMPLICATION, SECOND_HOP_IMPLICATION, HopDataset
from ocr_core.data.tables import DEFAULT_POOL, city_pool
from ocr_core.experiments.base import Settings, run_cached
from ocr_core.experiments.ocr_verification import finetune_facts
from ocr_core.experiments.settings import resolve_seeds
from ocr_core.training.metrics import ranks

# Bump when a change alters this experiment's records (ocr_core.store.keys); the key lock test asks.
VERSION = 1

EXPERIMENT = "implication_robustness"
HOPS = ("first_hop", "second_hop")

# (template name, kind, prompt with {name} / {landmark}, the city attribute answered). Our wording; the
# "original" rows are the verification's templates.
TEMPLATES: dict[str, tuple[tuple[str, str, str, str], ...]] = {
    "first_hop": (
        ("original", "original", FIRST_HOP_IMPLICATION, "language"),
        ("where they live", "paraphrase", "In the city where {name} lives, people speak", "language"),
        ("whose language", "paraphrase", "{name} lives in a city whose main language is", "language"),
        ("spoken in", "paraphrase", "The language spoken in the city {name} lives in is", "language"),
        ("country", "other attribute", "The city {name} lives in is in the country of", "country"),
    ),
    "second_hop": (
        ("original", "original", SECOND_HOP_IMPLICATION, "mayor"),
        ("whose mayor", "paraphrase", "{landmark} is in a city whose mayor is", "mayor"),
        ("where it stands", "paraphrase", "The mayor of the city where {landmark} stands is", "mayor"),
        ("home to", "paraphrase", "The city that is home to {landmark} has a mayor named", "mayor"),
    ),
}


def template_sets(hop: str, data: HopDataset) -> dict[str, tuple[str, Dataset]]:
    """{template: (kind, dataset)}: the hop's implications asked with each template, item i about the subject of
    fact i (so the untrained model and the finetuned one are compared item by item)."""
    cities = {c.city: c for c in city_pool(DEFAULT_POOL)}
    out = {}
    for name, kind, prompt, attribute in TEMPLATES[hop]:
        examples = []
        for fact in data.facts.examples:
            if hop == "first_hop":
                city = cities[data.assignment[fact.subject]]
                examples.append(Example(prompt.format(name=fact.subject), getattr(city, attribute), fact.subject))
            else:
                city = cities[fact.subject]
                examples.append(Example(prompt.format(landmark=city.landmark), fact.answer, fact.subject))
        options = (
            tuple(getattr(cities[c], attribute) for c in cities) if attribute != "mayor" else data.implications.options
        )
        out[name] = (kind, Dataset(f"{hop}.{name}", tuple(examples), options))
    return out


def run_robustness(
    model,
    tokenizer,
    *,
    model_name: str,
    settings: Settings,
    seeds: Sequence[int] = (0,),
    hops: Sequence[str] = HOPS,
    progress: bool = True,
) -> list[dict]:
    """Records: one row per (hop, seed, template) with the per-item ranks before (`ranks_before`, the untrained
    model) and after the hop's facts are trained (`ranks`), their means, the template's kind and chance."""
    records = []
    for hop in hops:
        for seed in seeds:
            data = (first_hop if hop == "first_hop" else second_hop)(seed)
            sets = template_sets(hop, data)
            before = {name: ranks(model, tokenizer, ds).tolist() for name, (_, ds) in sets.items()}
            delta = finetune_facts(
                model,
                tokenizer,
                data,
                model_name=model_name,
                settings=settings,
                seed=seed,
                progress=progress,
                desc=f"{model_name} {hop} seed {seed}",
            ).delta
            with delta.applied(model):
                after = {name: ranks(model, tokenizer, ds).tolist() for name, (_, ds) in sets.items()}
            for name, (kind, ds) in sets.items():
                records.append(
                    dict(
                        experiment=EXPERIMENT,
                        model=model_name,
                        hop=hop,
                        seed=seed,
                        template=name,
                        kind=kind,
                        prompt=ds.examples[0].prompt,
                        chance=ds.chance_rank,
                        before=sum(before[name]) / len(ds),
                        after=sum(after[name]) / len(ds),
                        ranks_before=before[name],
                        ranks=after[name],
                        **settings.kwargs(),
                    )
                )
    return records


def robustness_table(records: list[dict]) -> list[dict]:
    """Per (hop, template): the implication rank of the untrained model and after the facts are trained (means
    over seeds). The verdicts with their intervals: `reporting.verdicts.robustness_verdicts`."""
    rows = []
    for hop, template in dict.fromkeys((r["hop"], r["template"]) for r in records):
        mine = [r for r in records if (r["hop"], r["template"]) == (hop, template)]
        rows.append(
            dict(
                hop=hop,
                template=template,
                kind=mine[0]["kind"],
                seeds=len(mine),
                before=sum(r["before"] for r in mine) / len(mine),
                after=sum(r["after"] for r in mine) / len(mine),
            )
        )
    return rows


def robustness(
    model_name: str,
    *,
    lr=None,
    epochs=None,
    batch_size=None,
    embeddings=None,
    seeds: Sequence[int] | None = None,
    hops: Sequence[str] = HOPS,
    results="results",
    force=False,
    progress=True,
):
    """Run (or reuse) the robustness experiment for one model, at the OCR-verification settings (its finetunes
    are the verification's: cached deltas are reused)."""
    seeds = resolve_seeds(seeds, EXPERIMENT)
    settings = Settings.for_model(model_name, lr, epochs, batch_size, embeddings)
    config = dict(**settings.kwargs(), seeds=list(seeds), hops=list(hops))
    return run_cached(
        EXPERIMENT,
        model_name,
        config,
        lambda m, t: run_robustness(
            m, t, model_name=model_name, settings=settings, seeds=seeds, hops=hops, progress=progress
        ),
        module=__name__,
        results=results,
        force=force,
        progress=progress,
    )
