"""Benchmarks that print ratios measured in one process: `python -m ocr_core.bench scores [...]`.

scores: the per-sample reference loop (`scores.reference_scores`: every pass recomputed for every test item
and every counterfactual) against the batched `scores.extractive_scores`, on the same model, delta, data and
counterfactuals. Prints the largest absolute difference of all scores, both wall times and the speedup.
"""

from __future__ import annotations

import argparse
import sys
import time

import torch

from ocr_core.experiments.common import Settings
from ocr_core.experiments.ocr_verification import HOPS, finetune_facts
from ocr_core.models import DEFAULT_MODEL, load_model
from ocr_core.scores import SCORES, extractive_scores, reference_scores, sample_counterfactuals


def bench_scores(model_name: str, hop: str, items: int, n_counterfactuals: int, seed: int) -> dict:
    model, tok = load_model(model_name)
    data = HOPS[hop](seed)
    # the same delta as the OCR verification's at default settings (shared through the cache)
    settings = Settings.for_model(model_name)
    delta = finetune_facts(
        model, tok, data, model_name=model_name, settings=settings, seed=seed, desc="delta for the benchmark"
    ).delta
    test = data.implications.subset(range(min(items, len(data.implications))))
    cfs = sample_counterfactuals(test, n_counterfactuals, seed)
    print(
        f"[bench] {model_name}, {hop}: {len(test)} items x {n_counterfactuals} counterfactuals, "
        f"{torch.get_num_threads()} threads",
        flush=True,
    )
    extractive_scores(model, tok, test.subset(range(2)), delta, counterfactuals=[[1], [0]])  # warm-up

    timed = {}
    for label, size in (("batched", None), ("per-item", 1)):
        started = time.perf_counter()
        out = extractive_scores(model, tok, test, delta, counterfactuals=cfs, batch_size=size)
        timed[label] = (time.perf_counter() - started, out)
        print(f"[bench] ours, {label:<9} {timed[label][0]:8.2f} s", flush=True)
    started = time.perf_counter()
    ref = reference_scores(model, tok, test, delta, counterfactuals=cfs)
    t_ref = time.perf_counter() - started
    print(f"[bench] reference:      {t_ref:8.2f} s", flush=True)

    report = {}
    for label, (seconds, ours) in timed.items():
        per_score = {}
        for name in SCORES:
            diffs, scale = [], 0.0
            for mine, theirs in ((ours.mlp[name], ref.mlp[name]), (ours.head[name], ref.head[name])):
                for b, n in enumerate(ours.lengths):
                    diffs.append((mine[b, :n] - theirs[b, :n]).abs().max().item())
                    scale = max(scale, theirs[b, :n].abs().max().item())
            per_score[name] = (max(diffs), scale)
        report[label] = dict(seconds=seconds, max_abs_diff=ours.max_abs_diff(ref), per_score=per_score)
    return dict(t_ref=t_ref, variants=report)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ocr_core.bench", description=__doc__)
    sub = parser.add_subparsers(dest="what", required=True)
    p = sub.add_parser("scores", help="batched extractive scores vs the per-sample reference loop")
    p.add_argument("--model", default=DEFAULT_MODEL)
    p.add_argument("--hop", default="first_hop", choices=sorted(HOPS))
    p.add_argument("--items", type=int, default=20, help="test items (the dataset has 20)")
    p.add_argument("--counterfactuals", type=int, default=10)
    p.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    out = bench_scores(args.model, args.hop, args.items, args.counterfactuals, args.seed)
    print(f"reference (per item and counterfactual): {out['t_ref']:.2f} s")
    for label, v in out["variants"].items():
        print(f"--- ours, {label} passes: {v['seconds']:.2f} s, speedup {out['t_ref'] / v['seconds']:.1f}x")
        for name, (diff, scale) in v["per_score"].items():
            print(f"  {name:<12} max |ours - reference| = {diff:.3e}   (largest |score| {scale:.3e})")
        print(f"  max abs difference of all scores: {v['max_abs_diff']:.3e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
