"""Benchmarks that print ratios measured in one process: `python -m ocr_core.tools.bench scores|train [...]`;
and the book's profile: `python -m ocr_core.tools.bench book` (work and seconds per chapter and model).

train: one finetuning step (forward, backward, fused Adam) on the fictional facts, with plain autograd
against our `train_step.TrainStep` (persistent vocabulary-sized gradient buffers), with the embeddings
trained and frozen; next to this machine's fp32 matmul throughput, measured in the same run, and the
step's compute floor (6 x params x tokens FLOPs for the body, 6 x vocab x d_model per answer position).

scores: the per-sample reference loop (`scores.reference_scores`: every pass recomputed for every test item
and every counterfactual) against the batched `scores.extractive_scores`, on the same model, delta, data and
counterfactuals. Prints the largest absolute difference of all scores, both wall times and the speedup.
"""

from __future__ import annotations

import argparse
import sys
import time

import torch

from ocr_core.data.counterfactuals import sample_counterfactuals
from ocr_core.experiments.base import Settings
from ocr_core.experiments.ocr_verification import HOPS, finetune_facts
from ocr_core.models.loading import DEFAULT_MODEL, load_model
from ocr_core.scoring.scores import SCORES, extractive_scores, reference_scores


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


def _matmul_gflops(n: int = 2048, repeats: int = 5) -> float:
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    started = time.perf_counter()
    for _ in range(repeats):
        a @ b
    return 2 * n**3 * repeats / (time.perf_counter() - started) / 1e9


def bench_train(
    model_name: str, batch_size: int, steps: int, labels: tuple[str, ...] = ("plain autograd", "TrainStep")
) -> dict:
    from ocr_core.arch.trainable import Trainable
    from ocr_core.data import fictional
    from ocr_core.data.tokens import encode
    from ocr_core.training.finetune import _make_optimizer
    from ocr_core.training.metrics import answer_loss
    from ocr_core.training.train_step import TrainStep

    model, tok = load_model(model_name)
    batch = encode(tok, fictional(0).train_facts.examples[:batch_size], options=(), with_answers=True)
    gflops = _matmul_gflops()
    vocab = model.get_output_embeddings().weight
    body = sum(p.numel() for p in model.parameters() if p is not vocab)
    tokens = int(batch.attention_mask.sum())
    answers = int(batch.answer_targets.numel())
    floor_flop = 6 * body * tokens + 6 * vocab.numel() * answers
    print(
        f"[bench] {model_name}: batch {batch_size} ({tokens} tokens, {answers} answer positions), "
        f"{torch.get_num_threads()} threads, matmul {gflops:.0f} GFLOP/s, floor {floor_flop / gflops / 1e9:.3f} s/step",
        flush=True,
    )
    out = {}
    for embeddings in (True, False):
        params = Trainable(embeddings=embeddings).select(model)
        for n, p in model.named_parameters():
            p.requires_grad_(n in params)
        snapshot = {n: p.detach().clone() for n, p in params.items()}
        for label in labels:
            optimizer = _make_optimizer(params.values(), 1e-6)
            step = TrainStep(model, params)
            times = []
            for i in range(steps + 1):
                started = time.perf_counter()
                if label == "TrainStep":
                    step.zero_grad()
                    step(batch)
                else:
                    optimizer.zero_grad(set_to_none=True)
                    answer_loss(model, batch).backward()
                optimizer.step()
                if i:  # the first step allocates Adam's state
                    times.append(time.perf_counter() - started)
            seconds = sorted(times)[len(times) // 2]
            key = f"{label}, embeddings {'trained' if embeddings else 'frozen'}"
            out[key] = seconds
            print(f"[bench] {key:<40} {seconds:6.3f} s/step (median of {steps})", flush=True)
            with torch.no_grad():
                for n, p in params.items():
                    p.copy_(snapshot[n])
                    p.grad = None
    return dict(gflops=gflops, floor=floor_flop / gflops / 1e9, batch_size=batch_size, steps=out)


def bench_pinning(model_name: str, batch_size: int, steps: int, rounds: int = 2) -> dict:
    """The TrainStep training step with the pinned numerics and with the CPU's native paths, each measured in
    a fresh process (the pins are read when torch loads), alternating for `rounds` rounds in this run; the
    fastest round of each counts (least disturbed by other load on the machine)."""
    import json
    import os
    import subprocess

    from ocr_core import numerics

    out: dict = {}
    for _ in range(rounds):
        for label, opt_out in (("pinned", {}), ("native", {numerics.OPT_OUT: "native"})):
            env = {k: v for k, v in os.environ.items() if k not in {*numerics.PINS, *numerics.THREAD_VARS}}
            command = [
                *(sys.executable, "-m", "ocr_core.tools.bench", "train", "--model", model_name, "--json"),
                *("--batch-size", str(batch_size), "--steps", str(steps), "--only-trainstep"),
            ]
            done = subprocess.run(command, env=env | opt_out, capture_output=True, text=True, check=True)
            run = json.loads(done.stdout.strip().splitlines()[-1])
            print(f"[bench] {label}: {run['steps']} ({run['numerics']})", flush=True)
            best = out.setdefault(label, run)
            best["steps"] = {k: min(v, best["steps"][k]) for k, v in run["steps"].items()}
    return out


def bench_book(models: list[str] | None, only: list[str] | None, events_file: str | None) -> int:
    """Run the book's chapters (all, or `only`; no HTML) from whatever cache and results exist, print the
    profile (per chapter and model: finetunes trained and reused, steps, evaluation and score passes, loads,
    seconds) and commit it to book/data/book_profile.json. A cold profile needs an empty cache and results."""
    import json
    import shutil

    from ocr_core.reporting import book, profile
    from ocr_core.reporting.notebooks import repo_root
    from ocr_core.store import events

    root = repo_root()
    built = root / "_build" / "book_profile.json"
    if events_file:
        rows = profile.summarize(events.read(events_file))
        print(json.dumps(rows, indent=1))
        return 0
    argv = ["--no-html", *(["--models", *models] if models else []), *(["--only", *only] if only else [])]
    status = book.main(argv)
    data = profile.load(built)
    for row in data.get("work", []):
        print(
            "{chapter:<24} {model:<14} finetunes {finetunes:>4} ({steps:>6} steps, {finetune_s:>7.0f} s) "
            "reused {deltas_reused:>4}  evals {evals:>5} ({eval_s:>6.0f} s)  score passes {score_passes:>3} "
            "({score_s:>5.0f} s)  loads {loads:>2} ({load_s:>4.0f} s)".format(**row)
        )
    for model, chapters in data.get("compute", {}).items():
        for name, seconds in chapters.items():
            print(f"compute {model:<14} {name:<24} {seconds:8.0f} s")
    for model, seconds in data.get("compute_total", {}).items():
        print(f"compute {model:<14} {'(worker, in all)':<24} {seconds:8.0f} s")
    for name, seconds in data.get("chapters", {}).items():
        print(f"{name:<24} {seconds:8.0f} s")
    print(f"peak: {data.get('peak')}")
    target = root / book.PROFILE
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(built, target)
    print(f"profile -> {target}")
    write_profile_page(root)
    return status


def write_profile_page(root) -> None:
    """The rerun page's chart and table of the committed profile (book/_static/book_profile.html)."""
    from ocr_core.reporting import book, profile
    from ocr_core.reporting.profile_page import PAGE, profile_page

    page = root / PAGE
    page.write_text(profile_page(profile.load(root / book.PROFILE)))
    print(f"rerun page's profile -> {page}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ocr_core.tools.bench", description=__doc__)
    sub = parser.add_subparsers(dest="what", required=True)
    p = sub.add_parser("scores", help="batched extractive scores vs the per-sample reference loop")
    p.add_argument("--model", default=DEFAULT_MODEL)
    p.add_argument("--hop", default="first_hop", choices=sorted(HOPS))
    p.add_argument("--items", type=int, default=20, help="test items (the dataset has 20)")
    p.add_argument("--counterfactuals", type=int, default=10)
    p.add_argument("--seed", type=int, default=0)
    p = sub.add_parser("train", help="training step: plain autograd vs TrainStep, against the compute floor")
    p.add_argument("--model", default=DEFAULT_MODEL)
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--only-trainstep", action="store_true", help="skip the plain-autograd reference")
    p.add_argument("--json", action="store_true", help="end with the measurements as one JSON line")
    p = sub.add_parser("pinning", help="training step with pinned numerics vs the CPU's native paths")
    p.add_argument("--model", default=DEFAULT_MODEL)
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--steps", type=int, default=5)
    p = sub.add_parser("book", help="run the book (make book) and commit its profile: work and seconds per chapter")
    p.add_argument("--models", nargs="+", default=None)
    p.add_argument("--only", nargs="+", default=None, help="these chapters only (the profile then covers them)")
    p.add_argument("--events", default=None, help="only summarize this events file of a finished build")
    sub.add_parser("profile-page", help="rewrite the rerun page's chart and table from book/data/book_profile.json")
    args = parser.parse_args(argv)
    if args.what == "profile-page":
        from ocr_core.reporting.notebooks import repo_root

        write_profile_page(repo_root())
        return 0
    if args.what == "book":
        return bench_book(args.models, args.only, args.events)
    if args.what == "pinning":
        out = bench_pinning(args.model, args.batch_size, args.steps)
        for key, pinned in out["pinned"]["steps"].items():
            native = out["native"]["steps"][key]
            print(f"{key:<40} pinned {pinned:6.3f} s/step, native {native:6.3f} s/step: ratio {pinned / native:4.2f}")
        return 0
    if args.what == "train":
        labels = ("TrainStep",) if args.only_trainstep else ("plain autograd", "TrainStep")
        out = bench_train(args.model, args.batch_size, args.steps, labels)
        if args.json:
            import json

            from ocr_core import numerics

            print(json.dumps(dict(out, numerics=numerics.describe())))
            return 0
        base = out["steps"].get("plain autograd, embeddings trained")
        for key, seconds in out["steps"].items():
            versus = f"{base / seconds:4.2f}x plain autograd; " if base else ""
            print(
                f"{key:<40} {seconds:6.3f} s/step = {seconds / out['batch_size']:.3f} s/example; "
                f"{versus}{seconds / out['floor']:5.1f}x the compute floor"
            )
        return 0
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
