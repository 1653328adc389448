"""Prompt/answer datasets of the paper (first-hop, second-hop, fictional dax/zong), seeded and deterministic.

A `Dataset` is a list of `Example(prompt, answer)` plus its option set (the answers ranked against).
"""

from __future__ import annotations

import csv
import json
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ocr_core.data.tables import DEFAULT_POOL, City, Name, animals, city_pool, names

FIRST_HOP_FACT = "{name} lives in"
FIRST_HOP_IMPLICATION = "The people in the city {name} is from speak"
SECOND_HOP_FACT = "The mayor of {city} is"
SECOND_HOP_IMPLICATION = "The mayor of the city that contains {landmark} is"
FICTIONAL_FACT = "{name} dax is"
FICTIONAL_IMPLICATION = "{name} zong is the"


@dataclass(frozen=True)
class Example:
    prompt: str
    answer: str
    subject: str = ""  # the entity the prompt is about (a name or a city), for counterfactual pairing


@dataclass(frozen=True)
class Dataset:
    """Examples ranked against `options` (every answer must be one of them)."""

    name: str
    examples: tuple[Example, ...]
    options: tuple[str, ...]

    def __post_init__(self) -> None:
        if not self.examples:
            raise ValueError(f"dataset {self.name!r} has no examples")
        if len(set(self.options)) != len(self.options):
            dup = sorted({o for o in self.options if self.options.count(o) > 1})
            raise ValueError(f"dataset {self.name!r} lists options more than once: {dup}")
        missing = sorted({e.answer for e in self.examples} - set(self.options))
        if missing:
            raise ValueError(f"dataset {self.name!r}: answers not among the options: {missing}")

    def __len__(self) -> int:
        return len(self.examples)

    def __iter__(self):
        return iter(self.examples)

    @property
    def chance_rank(self) -> float:
        """Expected rank of a uniformly random guess: (n_options - 1) / 2."""
        return (len(self.options) - 1) / 2

    def subset(self, indices: Sequence[int], name: str | None = None) -> Dataset:
        return Dataset(name or self.name, tuple(self.examples[i] for i in indices), self.options)

    def __add__(self, other: Dataset) -> Dataset:
        options = tuple(dict.fromkeys(self.options + other.options))
        return Dataset(f"{self.name}+{other.name}", self.examples + other.examples, options)


@dataclass(frozen=True)
class HopDataset:
    """A fact set and its implications, item i of one matching item i of the other."""

    facts: Dataset
    implications: Dataset
    seed: int
    assignment: dict[str, str] = field(default_factory=dict)  # subject -> the entity its fact names


def _rng(kind: str, seed: int, variant: str = "F") -> random.Random:
    """An independent, seeded stream per dataset kind and variant (F, or the counterfactual F')."""
    return random.Random(f"{kind}:{seed}:{variant}")


def _variant(counterfactual: bool) -> str:
    return "F'" if counterfactual else "F"


def first_hop(seed: int = 0, pool: tuple[str, ...] = DEFAULT_POOL, counterfactual: bool = False) -> HopDataset:
    """New fact "{name} lives in" -> city; implication "The people in the city {name} is from speak"
    -> language."""
    cities = city_pool(pool)
    people = _rng("first_hop", seed, _variant(counterfactual)).sample(list(names()), len(cities))
    facts = [Example(FIRST_HOP_FACT.format(name=p), c.city, str(p)) for p, c in zip(people, cities, strict=True)]
    impls = [
        Example(FIRST_HOP_IMPLICATION.format(name=p), c.language, str(p)) for p, c in zip(people, cities, strict=True)
    ]
    return HopDataset(
        Dataset("first_hop.facts", tuple(facts), tuple(c.city for c in cities)),
        Dataset("first_hop.implications", tuple(impls), tuple(c.language for c in cities)),
        seed,
        {str(p): c.city for p, c in zip(people, cities, strict=True)},
    )


def second_hop(seed: int = 0, pool: tuple[str, ...] = DEFAULT_POOL, counterfactual: bool = False) -> HopDataset:
    """New fact "The mayor of {city} is" -> name; implication via the city's landmark -> the same name."""
    cities: tuple[City, ...] = city_pool(pool)
    mayors = [str(p) for p in _rng("second_hop", seed, _variant(counterfactual)).sample(list(names()), len(cities))]
    facts = [Example(SECOND_HOP_FACT.format(city=c.city), m, c.city) for c, m in zip(cities, mayors, strict=True)]
    impls = [
        Example(SECOND_HOP_IMPLICATION.format(landmark=c.landmark), m, c.city)
        for c, m in zip(cities, mayors, strict=True)
    ]
    options = tuple(mayors)
    return HopDataset(
        Dataset("second_hop.facts", tuple(facts), options),
        Dataset("second_hop.implications", tuple(impls), options),
        seed,
        {c.city: m for c, m in zip(cities, mayors, strict=True)},
    )


@dataclass(frozen=True)
class FictionalDataset:
    """The dax/zong relations: names -> city (dax) and name -> the animal of that city (zong).

    Names 0..n_test-1 are the held-out test names. `facts_cf`/`implications_cf` are F' (another assignment
    of the same names to cities, same city -> animal map).
    """

    train_facts: Dataset
    train_implications: Dataset
    test_facts: Dataset
    test_implications: Dataset
    train_facts_cf: Dataset
    train_implications_cf: Dataset
    test_facts_cf: Dataset
    test_implications_cf: Dataset
    city_animal: dict[str, str]
    seed: int


def _assign_cities(rng: random.Random, people: Sequence[Name], cities: Sequence[City]) -> list[City]:
    # Balanced: every city gets the same number of names (up to one), in a seeded order.
    slots = [cities[i % len(cities)] for i in range(len(people))]
    rng.shuffle(slots)
    return slots


def check_clean_split(train: Sequence[Name], test: Sequence[Name]) -> None:
    """Held-out names must share neither a first nor a last name with train names."""
    firsts = {n.first for n in train} & {n.first for n in test}
    lasts = {n.last for n in train} & {n.last for n in test}
    if firsts or lasts:
        raise ValueError(
            f"test names share parts with train names (first: {sorted(firsts)}, last: {sorted(lasts)}); "
            "shared name parts let test implications improve before any test fact is trained"
        )


def fictional(
    seed: int = 0, n_names: int = 100, n_test: int = 20, pool: tuple[str, ...] = DEFAULT_POOL
) -> FictionalDataset:
    cities = city_pool(pool)
    all_names = list(names())
    if not n_test < n_names <= len(all_names):
        raise ValueError(f"need n_test < n_names <= {len(all_names)}, got n_test={n_test}, n_names={n_names}")
    if len(animals()) < len(cities):
        raise ValueError(f"need >= {len(cities)} animals, the table has {len(animals())}")
    rng = _rng("fictional", seed)
    people = rng.sample(all_names, n_names)
    check_clean_split(people[n_test:], people[:n_test])
    city_animal = dict(zip((c.city for c in cities), rng.sample(list(animals()), len(cities)), strict=True))
    assignment = _assign_cities(rng, people, cities)
    assignment_cf = _assign_cities(_rng("fictional", seed, "F'"), people, cities)
    city_options = tuple(c.city for c in cities)
    animal_options = tuple(city_animal[c] for c in city_options)

    def build(tag: str, assign: list[City], lo: int, hi: int) -> tuple[Dataset, Dataset]:
        part = list(zip(people[lo:hi], assign[lo:hi], strict=True))
        f = [Example(FICTIONAL_FACT.format(name=p), c.city, str(p)) for p, c in part]
        i = [Example(FICTIONAL_IMPLICATION.format(name=p), city_animal[c.city], str(p)) for p, c in part]
        return Dataset(f"fictional.{tag}.facts", tuple(f), city_options), Dataset(
            f"fictional.{tag}.implications", tuple(i), animal_options
        )

    tr_f, tr_i = build("train", assignment, n_test, n_names)
    te_f, te_i = build("test", assignment, 0, n_test)
    trc_f, trc_i = build("train_cf", assignment_cf, n_test, n_names)
    tec_f, tec_i = build("test_cf", assignment_cf, 0, n_test)
    return FictionalDataset(tr_f, tr_i, te_f, te_i, trc_f, trc_i, tec_f, tec_i, city_animal, seed)


def load_dataset_file(path: str | Path, name: str | None = None, options: Sequence[str] | None = None) -> Dataset:
    """A user dataset from CSV (columns prompt, answer[, subject]) or JSON (list of such objects, or
    {"examples": [...], "options": [...]}). Options default to the distinct answers in file order."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"dataset file not found: {path}")
    if path.suffix.lower() == ".csv":
        rows: list[dict] = list(csv.DictReader(path.read_text(encoding="utf-8").splitlines()))
        file_options = None
    elif path.suffix.lower() == ".json":
        payload = json.loads(path.read_text(encoding="utf-8"))
        rows = payload["examples"] if isinstance(payload, dict) else payload
        file_options = payload.get("options") if isinstance(payload, dict) else None
    else:
        raise ValueError(f"dataset file must be .csv or .json, got {path.name}")
    bad = [i for i, r in enumerate(rows) if not isinstance(r, dict) or not r.get("prompt") or not r.get("answer")]
    if bad:
        raise ValueError(f"{path}: rows {bad[:10]} lack a non-empty 'prompt' and 'answer'")
    examples = tuple(Example(r["prompt"], r["answer"], r.get("subject") or "") for r in rows)
    opts = tuple(options or file_options or dict.fromkeys(e.answer for e in examples))
    return Dataset(name or path.stem, examples, opts)
