"""ocr_core: out-of-context reasoning and extractive structures (Feng, Russell, Steinhardt, ICML 2025)."""

import warnings

# tqdm.auto warns in notebooks without ipywidgets; progress bars then print as text, which is fine.
warnings.filterwarnings("ignore", message="IProgress not found")

from ocr_core.data import Dataset, Example, fictional, first_hop, second_hop  # noqa: E402
from ocr_core.deltas import Delta  # noqa: E402
from ocr_core.finetune import FinetuneResult, Trainable, finetune  # noqa: E402
from ocr_core.metrics import mean_logit_loss, mean_rank, ranks  # noqa: E402
from ocr_core.models import load_model  # noqa: E402

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
