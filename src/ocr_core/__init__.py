"""ocr_core: out-of-context reasoning and extractive structures (Feng, Russell, Steinhardt, ICML 2025)."""

import warnings

# Before anything imports torch: pin the CPU code paths and threads (ocr_core.numerics), for this process and
# every process it starts.
from ocr_core import numerics

numerics.pin_environment()


# tqdm.auto warns in notebooks without ipywidgets; progress bars then print as text, which is fine.
warnings.filterwarnings("ignore", message="IProgress not found")

from ocr_core.arch.trainable import Trainable  # noqa: E402
from ocr_core.data import Dataset, Example, fictional, first_hop, second_hop  # noqa: E402
from ocr_core.models.loading import load_model  # noqa: E402
from ocr_core.training.deltas import Delta  # noqa: E402
from ocr_core.training.finetune import FinetuneResult, finetune  # noqa: E402
from ocr_core.training.metrics import mean_logit_loss, mean_rank, ranks  # noqa: E402

numerics.apply_threads()
if numerics.check():
    warnings.warn(
        "ocr_core: torch was imported before ocr_core, so its numerics are not pinned; results are keyed as "
        "'tolerance' mode and will not match the book bit for bit (import ocr_core first)",
        stacklevel=2,
    )

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
    "numerics",
    "ranks",
    "second_hop",
]
