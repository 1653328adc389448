"""The finetuning settings an experiment uses: explicit values, else the model's recommended ones."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace

from ocr_core.arch.trainable import Trainable
from ocr_core.models.presets import model_spec

# Two-phase rule (the fictional relations: data ordering, grafting, localization, installation's structure
# stage, the lr sweep), fixed before any of their OCR results were read: each structure phase trains until
# its own items are learned (mean rank of the set it trains on <= UNTIL after an epoch), at most MAX_EPOCHS
# epochs; the test names' OCR stage trains a fixed number of epochs (`epochs`), so every order's trajectory
# has the same length.
UNTIL = 0.5
MAX_EPOCHS = 15

# Seeds, fixed before the results they decide: five where a seed costs one finetune per hop (OCR verification,
# layer freezing, extractive scores, and implication robustness, which tests the verification's own finetunes),
# three where each seed is a chain of two-phase stages (the rest). Every verdict's interval is over these seeds
# and the items.
SEEDS = (0, 1, 2)
CHEAP_SEEDS = (0, 1, 2, 3, 4)
CHEAP = ("ocr_verification", "implication_robustness", "layer_freezing", "extractive_scores")


def early_cut(depth: int, split: float = 0.75) -> int:
    """The first block that is not early: round(split * depth), 3/4 by default, the paper's early/late split
    (layer freezing's parts, the early-middle layers of the Fig. 5 statements). Python rounds a half to even:
    14 of 18 blocks, 22 of 30."""
    return round(split * depth)


def default_seeds(experiment: str) -> tuple[int, ...]:
    """The seeds an experiment runs when none are given (CHEAP_SEEDS for the CHEAP ones, else SEEDS)."""
    return CHEAP_SEEDS if experiment in CHEAP else SEEDS


def seeds_for_ablation(seeds: Sequence[int] | None, given: Sequence[int] | None = None) -> list[int]:
    """The seeds of a named ablation beside an experiment run on `seeds`: `given`, else the first three of
    `seeds` (an ablation is not a cheap run: it gets as many seeds as SEEDS; None: SEEDS)."""
    if given is not None:
        return list(given)
    return list(SEEDS if seeds is None else seeds)[: len(SEEDS)]


def resolve_seeds(seeds: Sequence[int] | None, experiment: str) -> tuple[int, ...]:
    """`seeds` as given, or the experiment's default seeds when None."""
    return default_seeds(experiment) if seeds is None else tuple(seeds)


@dataclass(frozen=True)
class Settings:
    """Finetuning settings shared by every finetune of an experiment."""

    lr: float
    epochs: int
    batch_size: int = 8
    embeddings: bool = False  # also train the input embedding, output layer and final norm (default: blocks only)
    until: float | None = None  # two-phase rule: a structure phase stops when its own items reach this rank
    max_epochs: int | None = None  # ... or after this many epochs

    @classmethod
    def for_model(
        cls, model_name: str, lr=None, epochs=None, batch_size=None, embeddings=None, *, fictional: bool = False
    ) -> Settings:
        """Explicit values win; otherwise the model's recommended settings (ocr_core.models.presets.model_spec), for
        the fictional relations if `fictional`."""
        spec = model_spec(model_name)
        default_lr, default_epochs = spec.lr, spec.epochs
        if fictional:
            default_lr = spec.fictional_lr or spec.lr
            default_epochs = spec.fictional_epochs or spec.epochs
        return cls(
            lr if lr is not None else default_lr,
            epochs if epochs is not None else default_epochs,
            batch_size or spec.batch_size,
            embeddings if embeddings is not None else spec.embeddings,
            until=UNTIL if fictional else None,
            max_epochs=MAX_EPOCHS if fictional else None,
        )

    def kwargs(self) -> dict:
        """The settings as a dict; the two-phase fields only when set (other experiments' keys are unchanged)."""
        return {k: v for k, v in asdict(self).items() if v is not None or k not in ("until", "max_epochs")}

    def trainable(self, trainable: Trainable | None = None) -> Trainable:
        """`trainable` (default: every block) with the parameters outside the blocks trained or not, as these
        settings say."""
        return replace(trainable or Trainable(), embeddings=self.embeddings)
