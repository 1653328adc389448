"""Prior knowledge: does the base model already know the latent facts that OCR has to chain through?

OCR on "The people in the city {name} is from speak" needs city -> language; OCR on "The mayor of the city
that contains {landmark} is" needs landmark -> city. Both are ranked on the untouched base model, over the
same option sets the experiments use (chance is (n - 1) / 2), next to the fictional relations, which no
model can know (a check that the option sets do not leak the answer).
"""

from __future__ import annotations

from pathlib import Path

from ocr_core.data import DEFAULT_POOL, Dataset, Example, city_pool, fictional
from ocr_core.experiments.base import run_cached
from ocr_core.training.metrics import ranks

# Bump when a change alters this experiment's records (ocr_core.store.keys); the key lock test asks.
VERSION = 1

EXPERIMENT = "prior_knowledge"
CITY_LANGUAGE = "The people in {city} speak"
LANDMARK_CITY = "{landmark} is in the city of"


def knowledge_sets(pool: tuple[str, ...] = DEFAULT_POOL, seed: int = 0) -> dict[str, Dataset]:
    """The latent relations of the two hops, plus the fictional relations as a no-knowledge control."""
    cities = city_pool(pool)
    languages = tuple(dict.fromkeys(c.language for c in cities))
    data = fictional(seed)
    return {
        "city_language": Dataset(
            "city_language",
            tuple(Example(CITY_LANGUAGE.format(city=c.city), c.language, c.city) for c in cities),
            languages,
        ),
        "landmark_city": Dataset(
            "landmark_city",
            tuple(Example(LANDMARK_CITY.format(landmark=c.landmark), c.city, c.city) for c in cities),
            tuple(c.city for c in cities),
        ),
        "fictional_facts": data.train_facts,
        "fictional_implications": data.train_implications,
    }


def run_prior_knowledge(model, tokenizer, *, model_name: str, pool=DEFAULT_POOL) -> list[dict]:
    """Records: one row per (relation, item) with the base model's rank; chance per relation."""
    records = []
    for relation, data in knowledge_sets(pool).items():
        chance = (len(data.options) - 1) / 2
        for example, rank in zip(data.examples, ranks(model, tokenizer, data).tolist(), strict=True):
            records.append(
                dict(
                    experiment=EXPERIMENT,
                    model=model_name,
                    relation=relation,
                    prompt=example.prompt,
                    answer=example.answer,
                    rank=int(rank),
                    chance=chance,
                )
            )
    return records


def knowledge_table(records: list[dict]) -> list[dict]:
    """Per (model, relation): mean rank, top-1 accuracy and chance."""
    rows = []
    for key in dict.fromkeys((r["model"], r["relation"]) for r in records):
        sub = [r for r in records if (r["model"], r["relation"]) == key]
        rows.append(
            dict(
                model=key[0],
                relation=key[1],
                n=len(sub),
                mean_rank=sum(r["rank"] for r in sub) / len(sub),
                top1=sum(r["rank"] == 0 for r in sub) / len(sub),
                chance=sub[0]["chance"],
            )
        )
    return rows


def prior_knowledge(model_name: str, *, results: str | Path = "results", force=False, progress=True):
    return run_cached(
        EXPERIMENT,
        model_name,
        dict(pool=list(DEFAULT_POOL)),
        lambda m, t: run_prior_knowledge(m, t, model_name=model_name),
        module=__name__,
        results=results,
        force=force,
        progress=progress,
    )
