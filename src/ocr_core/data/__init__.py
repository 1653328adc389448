"""Datasets of the paper, built from the shipped tables (cities.csv, names.csv, animals.txt)."""

from ocr_core.data.datasets import (
    Dataset,
    Example,
    FictionalDataset,
    HopDataset,
    check_clean_split,
    fictional,
    first_hop,
    load_dataset_file,
    second_hop,
)
from ocr_core.data.tables import DEFAULT_POOL, City, Name, animals, cities, city_pool, names

__all__ = [
    "DEFAULT_POOL",
    "City",
    "Dataset",
    "Example",
    "FictionalDataset",
    "HopDataset",
    "Name",
    "animals",
    "check_clean_split",
    "cities",
    "city_pool",
    "fictional",
    "first_hop",
    "load_dataset_file",
    "names",
    "second_hop",
]
