"""ocr_core: out-of-context reasoning and extractive structures (Feng, Russell, Steinhardt, ICML 2025)."""

from ocr_core.data import Dataset, Example, fictional, first_hop, second_hop
from ocr_core.deltas import Delta
from ocr_core.finetune import FinetuneResult, Trainable, finetune
from ocr_core.metrics import mean_logit_loss, mean_rank, ranks
from ocr_core.models import load_model

__version__ = "0.1.0"
__all__ = [
    "Dataset",
    "Delta",
    "Example",
    "FinetuneResult",
    "Trainable",
    "fictional",
    "finetune",
    "first_hop",
    "load_model",
    "mean_logit_loss",
    "mean_rank",
    "ranks",
    "second_hop",
]
