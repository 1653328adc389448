"""Finetunes on the fictional dax/zong relations that data ordering, weight grafting and grafting localization
share. Each goes through the delta cache, so an experiment that needs W_F after another computed it only
loads it.

  W_F     facts F of the train names, from base          W_{F,I}  implications of F, on top of W_F
  W_I     implications of F, from base                   W_{I,F}  facts F, on top of W_I
  W_J     facts and implications shuffled together       W_{F'}   counterfactual facts F', from base

Only the deltas another experiment reuses go through the delta cache (`SHARED`: ordering computes them, weight
grafting and grafting localization read them back); the others (W_J, W_{I,F}, the OCR stage after any order
but facts first) are used by one experiment only, whose finished result is what a rerun reuses, so caching
them would only fill the disk (a Gemma-3-270M delta is 0.4 GB, 1 GB with the embeddings trained).
"""

from __future__ import annotations

from ocr_core.data import Dataset, FictionalDataset
from ocr_core.experiments.base import Settings, train_on
from ocr_core.training.deltas import Delta
from ocr_core.training.finetune import FinetuneResult


def structure_eval_sets(data: FictionalDataset) -> dict[str, Dataset]:
    """What every structure-training phase logs: retention of train facts and train implications."""
    return {"train_facts": data.train_facts, "train_implications": data.train_implications}


def ocr_eval_sets(data: FictionalDataset) -> dict[str, Dataset]:
    """What the test-name OCR phase logs."""
    return {"test_facts": data.test_facts, "test_implications": data.test_implications, **structure_eval_sets(data)}


# The deltas that more than one experiment uses: data ordering (W_F, W_FI, W_I, OCR after facts first), weight
# grafting (W_F, W_FI, W_I, W_F'), grafting localization (W_F, W_FI, OCR after facts first).
SHARED = frozenset({"W_F", "W_FI", "W_I", "W_F'", "OCR after facts_first"})


class FictionalRuns:
    """Lazily computed (and cached) deltas for one model, data seed and settings."""

    def __init__(
        self,
        model,
        tokenizer,
        data: FictionalDataset,
        *,
        model_name: str,
        settings: Settings,
        progress: bool = True,
        cache: bool = True,
        tag: str | None = None,
    ):
        self.model, self.tokenizer, self.data = model, tokenizer, data
        self.model_name, self.settings, self.progress, self.cache = model_name, settings, progress, cache
        self.tag = tag or f"{model_name} seed {data.seed}"  # progress bars' label
        self._done: dict[str, FinetuneResult] = {}

    def settings_for(self, key: str) -> Settings:
        """The finetuning settings of delta `key` (one setting for all here)."""
        return self.settings

    def end_eval_sets(self, key: str) -> tuple[str, ...]:
        """The eval sets of delta `key` ranked only at its first and last epoch: those no chart follows epoch
        by epoch and no stopping rule reads. The data-ordering chart follows retention through the structure
        phases, not through the test names' OCR stage."""
        return tuple(structure_eval_sets(self.data)) if key.startswith("OCR") else ()

    def until_sets(self, key: str) -> tuple[str, ...]:
        """What a structure phase trains on, for the two-phase rule (`Settings.until`): it trains until these
        are learned. The OCR stage trains its fixed epochs."""
        return {
            "W_F": ("train_facts",),
            "W_IF": ("train_facts",),
            "W_I": ("train_implications",),
            "W_FI": ("train_implications",),
            "W_J": ("train_facts", "train_implications"),
            "W_F'": ("train_facts_cf",),
        }.get(key, ())

    def _train(self, key: str, train, base: Delta | None, eval_sets) -> FinetuneResult:
        """Train delta `key`. With the delta cache on (`cache`), a delta in SHARED is cached on disk and a
        repeat reads it back instead of keeping every delta of the run in memory. Otherwise a SHARED delta is
        kept here while this object lives (W_F and W_I are the bases of W_FI and W_IF); the others are asked
        for once and not kept."""
        cache = self.cache and key in SHARED
        if key not in self._done:
            result = train_on(
                self.model,
                self.tokenizer,
                train,
                model_name=self.model_name,
                settings=self.settings_for(key),
                seed=self.data.seed,
                base=base,
                eval_sets=eval_sets,
                end_eval_sets=self.end_eval_sets(key),
                until_sets=self.until_sets(key),
                progress=self.progress,
                desc=f"{self.tag} {key}",
                cache=cache,
            )
            if not cache and key in SHARED:
                self._done[key] = result
            return result
        return self._done[key]

    def forget(self) -> None:
        """Drop the finetunes kept in memory (about 0.4 GB each): a later request trains again, or reads the
        disk cache. For a caller whose next requests share nothing with the earlier ones."""
        from ocr_core.models.memory import release

        self._done.clear()
        release()

    def w_f(self) -> FinetuneResult:
        return self._train("W_F", self.data.train_facts, None, structure_eval_sets(self.data))

    def w_fi(self) -> FinetuneResult:
        return self._train("W_FI", self.data.train_implications, self.w_f().delta, structure_eval_sets(self.data))

    def w_i(self) -> FinetuneResult:
        return self._train("W_I", self.data.train_implications, None, structure_eval_sets(self.data))

    def w_if(self) -> FinetuneResult:
        return self._train("W_IF", self.data.train_facts, self.w_i().delta, structure_eval_sets(self.data))

    def w_j(self) -> FinetuneResult:
        joint = self.data.train_facts + self.data.train_implications
        return self._train("W_J", joint, None, structure_eval_sets(self.data))

    def w_fcf(self) -> FinetuneResult:
        sets = {"train_facts_cf": self.data.train_facts_cf}
        return self._train("W_F'", self.data.train_facts_cf, None, sets)

    def ocr(self, order: str, structure: Delta) -> FinetuneResult:
        """Finetune the test names' facts on top of a structure delta."""
        return self._train(f"OCR after {order}", self.data.test_facts, structure, ocr_eval_sets(self.data))
