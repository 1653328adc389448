"""Finetuning with Adam at a constant learning rate; the result is a weight `Delta`.

Loss is cross-entropy on the answer tokens of `prompt + " " + answer`. Examples are reshuffled every epoch by
a seeded generator. Named eval sets are ranked before epoch 0 and after every epoch, or only before epoch 0
and after the last one (`end_eval_sets`: for sets that no chart follows epoch by epoch; evaluation is a third
of a short finetune's time).
"""

from __future__ import annotations

import time
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field

import torch
from tqdm.auto import tqdm

from ocr_core import numerics
from ocr_core.arch.trainable import Trainable
from ocr_core.data import Dataset, Example
from ocr_core.data.tokens import check_word_boundaries, encode
from ocr_core.models.memory import release
from ocr_core.store import events, faults
from ocr_core.training.deltas import Delta
from ocr_core.training.metrics import evaluate
from ocr_core.training.train_step import TrainStep


@dataclass
class FinetuneResult:
    """delta: new - old for every trained parameter; history: tidy rows
    {epoch, eval_set, mean_rank, ranks}; losses: mean training loss per epoch (epoch 1..E)."""

    delta: Delta
    history: list[dict] = field(default_factory=list)
    losses: list[float] = field(default_factory=list)
    seconds: float = 0.0
    steps: int = 0


def _examples(train: Dataset | Sequence[Example]) -> tuple[Example, ...]:
    return tuple(train.examples if isinstance(train, Dataset) else train)


def _make_optimizer(params: Iterable[torch.nn.Parameter], lr: float) -> torch.optim.Optimizer:
    params = list(params)
    try:  # the fused kernel is ~10x faster on CPU for Gemma-3-270M-sized models
        return torch.optim.Adam(params, lr=lr, fused=True)
    except (RuntimeError, TypeError):
        return torch.optim.Adam(params, lr=lr)


def finetune(
    model,
    tokenizer,
    train: Dataset | Sequence[Example],
    *,
    lr: float,
    epochs: int,
    batch_size: int = 8,
    seed: int = 0,
    trainable: Trainable | None = None,
    eval_sets: dict[str, Dataset] | None = None,
    end_eval_sets: Collection[str] = (),
    until: float | None = None,
    until_sets: Collection[str] = (),
    restore: bool = True,
    progress: bool = True,
    desc: str = "finetune",
) -> FinetuneResult:
    """Finetune `model` on `train` and return the weight delta (and rank history of `eval_sets`; those named
    in `end_eval_sets` only at epoch 0 and the last epoch). With `until`, training stops after the first epoch
    at which every eval set in `until_sets` has a mean rank <= `until` ("until learned"); `epochs` is then the
    cap, and the last epoch logged is the one it stopped at.

    With `restore` (default) the model's weights are put back exactly afterwards; apply the delta with
    `result.delta.applied(model)`. Otherwise the model keeps the finetuned weights.
    """
    if lr <= 0 or epochs < 0 or batch_size < 1:
        raise ValueError(f"need lr > 0, epochs >= 0, batch_size >= 1 (got {lr}, {epochs}, {batch_size})")
    examples = _examples(train)
    if not examples:
        raise ValueError("nothing to train on: the training set is empty")
    check_word_boundaries(tokenizer, examples)
    eval_sets = eval_sets or {}
    if unknown := set(end_eval_sets) - set(eval_sets):
        raise ValueError(f"end_eval_sets names sets that are not eval sets: {sorted(unknown)}")
    if until is not None and (not until_sets or not set(until_sets) <= set(eval_sets) - set(end_eval_sets)):
        raise ValueError(f"until needs until_sets among the eval sets ranked every epoch, got {sorted(until_sets)}")
    device = next(model.parameters()).device
    numerics.apply_threads()  # a book worker may have been given the second core (same bits either way)

    params = (trainable or Trainable()).select(model)
    flags = {n: p.requires_grad for n, p in model.named_parameters()}
    for name, p in model.named_parameters():
        p.requires_grad_(name in params)
    snapshot = {n: p.detach().clone() for n, p in params.items()}
    optimizer = _make_optimizer(params.values(), lr)
    step = TrainStep(model, params)
    generator = torch.Generator().manual_seed(seed)
    result = FinetuneResult(Delta())

    def log(epoch: int, last: bool = False) -> None:
        ends = last or epoch in (0, epochs)
        sets = {k: v for k, v in eval_sets.items() if (ends or k not in end_eval_sets) and (k, epoch) not in logged}
        for name, r in evaluate(model, tokenizer, sets).items():
            logged.add((name, epoch))
            result.history.append(dict(epoch=epoch, eval_set=name, mean_rank=sum(r) / len(r), ranks=r))

    def learned() -> bool:
        latest = {h["eval_set"]: h["mean_rank"] for h in result.history}
        return until is not None and all(latest[name] <= until for name in until_sets)

    logged: set[tuple[str, int]] = set()

    steps_per_epoch = -(-len(examples) // batch_size)
    bar = tqdm(total=epochs * steps_per_epoch, desc=desc, disable=not progress, leave=False)
    started = time.perf_counter()
    try:
        log(0)
        for epoch in range(1, epochs + 1):
            order = torch.randperm(len(examples), generator=generator).tolist()
            total = 0.0
            for start in range(0, len(order), batch_size):
                chunk = [examples[i] for i in order[start : start + batch_size]]
                batch = encode(tokenizer, chunk, options=(), with_answers=True).to(device)
                step.zero_grad()
                loss = step(batch)
                optimizer.step()
                total += loss.item() * len(chunk)
                result.steps += 1
                bar.update(1)
            result.losses.append(total / len(examples))
            log(epoch)
            stop = learned()
            if stop:
                log(epoch, last=True)  # the end-only sets at the epoch it stopped at
            faults.point("epoch")
            events.emit("epoch", time.perf_counter() - started, desc=desc, epoch=epoch, epochs=epochs)
            if progress:
                ranks = {r["eval_set"]: round(r["mean_rank"], 2) for r in result.history if r["epoch"] == epoch}
                bar.set_postfix(epoch=epoch, loss=round(result.losses[-1], 3), **ranks)
            if stop:
                break
        # Adam's moments and the gradients go before the delta is made: the end of a finetune then holds no
        # more than its steps did (with them, +1x the trained parameters: +0.4 GB for a Gemma-3-270M delta)
        optimizer.state.clear()
        for p in params.values():
            p.grad = None
        result.delta = Delta.between(dict(model.named_parameters()), snapshot)
    finally:
        bar.close()
        result.seconds = time.perf_counter() - started
        with torch.no_grad():
            if restore:
                for name, p in params.items():
                    p.copy_(snapshot[name])
            for name, p in model.named_parameters():
                p.requires_grad_(flags[name])
                p.grad = None
        del snapshot, optimizer, step  # Adam's moments and the snapshot: about 3x the trained parameters
        release()
    return result


def _fingerprint(examples: Sequence[Example]) -> list[tuple[str, str]]:
    return [(e.prompt, e.answer) for e in examples]


def cached_finetune(
    model,
    tokenizer,
    train: Dataset | Sequence[Example],
    *,
    model_name: str,
    base: str = "",
    eval_sets: dict[str, Dataset] | None = None,
    **kwargs,
) -> FinetuneResult:
    """`finetune`, with the delta and history cached under `cache_root()/deltas/<model>/<key>`.

    The key hashes the model name and its base weights (`models.gguf.weights_id`), `base` (the content hash of
    any delta applied to the model before this call: pass `delta.content_hash()`), the training and eval
    examples, every finetuning setting, the numeric environment and `keys.TRAINING_VERSION` (`ocr_core.store.keys`).
    A hit returns the stored delta without training. The meta file records the key's inputs and provenance.
    """
    from ocr_core.models.gguf import weights_id
    from ocr_core.store import keys
    from ocr_core.store.io import atomic_write_json, cache_root, file_matches, file_sha256, mark_used, safe_name
    from ocr_core.store.results import provenance
    from ocr_core.training.cache import make_room

    eval_sets = eval_sets or {}
    settings = {k: v for k, v in kwargs.items() if k not in ("progress", "desc", "restore")}
    if ends := sorted(settings.pop("end_eval_sets", ())):  # keyed only when set: older keys stay valid
        settings["end_eval_sets"] = ends
    if settings.get("until") is None:
        settings.pop("until", None)
        settings.pop("until_sets", None)
    else:
        settings["until_sets"] = sorted(settings.get("until_sets", ()))
    if kwargs.get("restore", True) is False:
        raise ValueError("cached_finetune always restores the model; apply the returned delta instead")
    inputs = dict(
        model=model_name,
        weights=weights_id(model_name),
        base=base,
        train=_fingerprint(_examples(train)),
        eval={k: _fingerprint(v.examples) for k, v in eval_sets.items()},
        settings={k: (v.__dict__ if isinstance(v, Trainable) else v) for k, v in settings.items()},
        numerics=numerics.environment(),
        version=keys.TRAINING_VERSION,
    )
    key = keys.digest(inputs)
    folder = cache_root() / "deltas" / safe_name(model_name)
    tensors, meta = folder / f"{key}.safetensors", folder / f"{key}.json"
    if tensors.exists() and meta.exists():
        import json

        info = json.loads(meta.read_text())
        if file_matches(tensors, info.get("sha256")):
            for f in (tensors, meta):  # pruning removes the least recently *used* deltas (training.cache)
                mark_used(f)
            events.emit("delta_reused", model=model_name, steps=info["steps"], saved_seconds=info["seconds"])
            return FinetuneResult(Delta.load(tensors), info["history"], info["losses"], info["seconds"], info["steps"])
        print(f"[ocr_core] cached delta {tensors} is damaged or unchecked: retraining it", flush=True)
        for f in (meta, tensors):
            f.unlink(missing_ok=True)
    result = finetune(model, tokenizer, train, eval_sets=eval_sets, **kwargs)
    events.emit(
        "finetune", result.seconds, model=model_name, steps=result.steps, cached=True, desc=kwargs.get("desc", "")
    )
    make_room(4 * result.delta.numel(), folder)  # float32
    result.delta.save(tensors)
    # written last: an entry is whole only when its meta exists and its checksum matches the tensors
    atomic_write_json(
        meta,
        dict(
            history=result.history,
            losses=result.losses,
            seconds=result.seconds,
            steps=result.steps,
            numerics=numerics.environment(),
            key=inputs,
            provenance=provenance(),
            sha256=file_sha256(tensors),
        ),
    )
    return result
