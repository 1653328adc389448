"""The shipped fact tables: real cities (city, country, language, landmark), fictional names, animals."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib.resources import files


@dataclass(frozen=True)
class City:
    city: str
    country: str
    language: str
    landmark: str


@dataclass(frozen=True)
class Name:
    first: str
    last: str

    def __str__(self) -> str:
        return f"{self.first} {self.last}"


# The 20 cities of the paper's shared pool: one per language, so that the 20 language options are distinct.
DEFAULT_POOL: tuple[str, ...] = (
    "Tokyo",
    "Paris",
    "Berlin",
    "Rome",
    "Madrid",
    "Lisbon",
    "Moscow",
    "Beijing",
    "Seoul",
    "Athens",
    "Cairo",
    "Istanbul",
    "Amsterdam",
    "Stockholm",
    "Warsaw",
    "Bangkok",
    "Hanoi",
    "Jakarta",
    "Tehran",
    "Budapest",
)


def _read_csv(filename: str) -> list[dict[str, str]]:
    text = files("ocr_core.data").joinpath(filename).read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


@cache
def cities() -> tuple[City, ...]:
    """Every city of the shipped table (>= 40 rows), in file order."""
    return tuple(City(**row) for row in _read_csv("cities.csv"))


@cache
def names() -> tuple[Name, ...]:
    """The fictional "First Last" names; no first or last name occurs twice."""
    return tuple(Name(**row) for row in _read_csv("names.csv"))


@cache
def animals() -> tuple[str, ...]:
    text = files("ocr_core.data").joinpath("animals.txt").read_text(encoding="utf-8")
    return tuple(line.strip() for line in text.splitlines() if line.strip())


def city_pool(pool: tuple[str, ...] = DEFAULT_POOL) -> tuple[City, ...]:
    """The cities named by `pool`, in that order; unknown names raise a KeyError naming them."""
    by_name = {c.city: c for c in cities()}
    unknown = [p for p in pool if p not in by_name]
    if unknown:
        raise KeyError(f"cities not in the shipped table: {unknown}; known: {sorted(by_name)}")
    return tuple(by_name[p] for p in pool)
