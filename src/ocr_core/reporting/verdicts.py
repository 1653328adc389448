"""Verdicts that compare an effect with its own control and state their uncertainty.

Every verdict here is read from a paired difference: the same item (a test name's implication, a seed's
split) measured under the effect and under its control (the untrained model, no structure stage, the control
graft). Its uncertainty is a 95% bootstrap interval over seeds and items: seeds are drawn with replacement,
then items within each drawn seed, and the interval holds the middle 95% of the resampled means. The rules are
fixed here, before any result is read:

- **OCR** (`ocr`): the implication rank falls below its control by more than the interval (the paired
  difference's interval lies below 0) *and* ends below chance (the final rank's interval lies below chance).
  A fall whose final rank is not clearly below chance is "fell, not below chance"; an interval that holds 0
  is "no clear effect"; one above 0 is "rose".
- **Contrast** (`contrast`): a is *lower* than b when the interval of a - b lies below 0, *higher* when above,
  else "no clear difference".
- **Share of seeds** (`seed_share`), for a statement checked once per seed (where a score peaks): it "holds"
  when it holds in a majority of seeds beyond chance, i.e. the exact (Clopper-Pearson) one-sided 95% lower bound
  of its share of seeds is above 1/2; "does not hold" when the one-sided 95% upper bound is below 1/2; else "no
  clear effect". With 5 seeds only 5 of 5 holds and only 0 of 5 does not.
- **Ordering** (`ordering`), the paper's prediction: after facts first the test names' implication rank is
  lower than after implications first *and* lower than with no structure stage; both contrasts must hold for
  "reproduces", otherwise "does not reproduce".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ocr_core.experiments.base import row_per_seed
from ocr_core.experiments.settings import early_cut

LEVEL = 0.95
N_BOOT = 4000

OCR, FELL, NO_EFFECT, ROSE = "OCR", "fell, not below chance", "no clear effect", "rose"
LOWER, HIGHER, NO_DIFFERENCE = "lower", "higher", "no clear difference"
REPRODUCES, DOES_NOT = "reproduces", "does not reproduce"


@dataclass(frozen=True)
class Interval:
    """A mean over seeds and items with its bootstrap interval."""

    mean: float
    low: float
    high: float
    n_seeds: int
    n_items: int

    def __str__(self) -> str:
        return f"{self.mean:.2f} [{self.low:.2f}, {self.high:.2f}]"

    @property
    def below_zero(self) -> bool:
        return self.high < 0

    @property
    def above_zero(self) -> bool:
        return self.low > 0


def bootstrap(values: Sequence[Sequence[float]], n_boot: int = N_BOOT, seed: int = 0, level: float = LEVEL) -> Interval:
    """Mean of `values[seed][item]` and its hierarchical bootstrap interval (seeds, then items in each seed).
    The mean is the mean of the seeds' means."""
    per_seed = [np.asarray(v, dtype=float) for v in values]
    if not per_seed or any(v.size == 0 for v in per_seed):
        raise ValueError("need at least one seed with at least one item")
    rng = np.random.default_rng(seed)
    # item-resampled means per seed: [n_seeds, n_boot]
    item_means = np.stack([v[rng.integers(0, v.size, (n_boot, v.size))].mean(axis=1) for v in per_seed])
    low, high = _over_seeds(item_means, rng, level)
    mean = float(np.mean([v.mean() for v in per_seed]))
    return Interval(mean, low, high, len(per_seed), sum(v.size for v in per_seed))


def _over_seeds(per_seed_draws: np.ndarray, rng: np.random.Generator, level: float) -> tuple[float, float]:
    """The second level of the hierarchical bootstrap: per draw, resample the seeds and average their
    item-resampled statistics ([n_seeds, n_boot]); the interval holding the middle `level` of those means."""
    n_seeds, n_boot = per_seed_draws.shape
    drawn = rng.integers(0, n_seeds, (n_boot, n_seeds))  # [n_boot, n_seeds]
    means = per_seed_draws[drawn, np.arange(n_boot)[:, None]].mean(axis=1)
    tail = (1 - level) / 2
    low, high = np.quantile(means, [tail, 1 - tail])
    return float(low), float(high)


def paired(effect: Sequence[Sequence[float]], control: Sequence[Sequence[float]], **kwargs) -> Interval:
    """Interval of effect - control, item by item within each seed (the same items in the same order)."""
    diffs = []
    for e, c in zip(effect, control, strict=True):
        e, c = np.asarray(e, dtype=float), np.asarray(c, dtype=float)
        if e.shape != c.shape:
            raise ValueError(f"paired values need the same items: {e.shape} vs {c.shape}")
        diffs.append(e - c)
    return bootstrap(diffs, **kwargs)


@dataclass(frozen=True)
class OcrVerdict:
    word: str
    final: Interval  # the implication rank after training
    change: Interval  # after - control, paired
    chance: float

    def __str__(self) -> str:
        return f"{self.word}: rank {self.final}, change vs control {self.change} (chance {self.chance:g})"


def ocr(after: Sequence[Sequence[float]], control: Sequence[Sequence[float]], chance: float) -> OcrVerdict:
    """The OCR rule (module docstring): per-item implication ranks after training and under the control."""
    final, change = bootstrap(after), paired(after, control)
    return OcrVerdict(_ocr_word(final, change, chance), final, change, chance)


def _ocr_word(final: Interval, change: Interval, chance: float) -> str:
    if change.below_zero:
        return OCR if final.high < chance else FELL
    return ROSE if change.above_zero else NO_EFFECT


def contrast(a: Sequence[Sequence[float]], b: Sequence[Sequence[float]]) -> tuple[str, Interval]:
    """Whether a is lower or higher than b, paired, by more than the interval."""
    diff = paired(a, b)
    return (LOWER if diff.below_zero else HIGHER if diff.above_zero else NO_DIFFERENCE), diff


def ordering(
    facts_first: Sequence[Sequence[float]],
    implications_first: Sequence[Sequence[float]],
    none: Sequence[Sequence[float]],
) -> tuple[str, dict[str, tuple[str, Interval]]]:
    """The paper's ordering prediction on the test names' final implication ranks (module docstring)."""
    parts = {
        "facts_first - implications_first": contrast(facts_first, implications_first),
        "facts_first - none": contrast(facts_first, none),
    }
    word = REPRODUCES if all(w == LOWER for w, _ in parts.values()) else DOES_NOT
    return word, parts


def verification_verdicts(records: Sequence[dict]) -> list[dict]:
    """OCR verification records (per-item `ranks` per epoch) -> one row per (model, hop): implication rank
    before and after (means), the OCR verdict against the untrained model (epoch 0, the same items), and
    whether the facts were learned (their final rank's interval, for the reader)."""
    rows = []
    for model, hop in dict.fromkeys((r["model"], r["hop"]) for r in records):
        mine = [r for r in records if (r["model"], r["hop"]) == (model, hop)]
        last = max(r["epoch"] for r in mine)
        seeds = sorted({r["seed"] for r in mine})

        def ranks(split: str, epoch: int, mine=mine, seeds=seeds) -> list[list[int]]:
            by_seed = {r["seed"]: r["ranks"] for r in mine if r["split"] == split and r["epoch"] == epoch}
            return [by_seed[s] for s in seeds]

        chance = next(r["chance"] for r in mine if r["split"] == "implication")
        verdict = ocr(ranks("implication", last), ranks("implication", 0), chance)
        rows.append(
            dict(
                model=model,
                hop=hop,
                seeds=len(seeds),
                items=verdict.final.n_items,
                facts_after=str(bootstrap(ranks("fact", last))),
                before=round(bootstrap(ranks("implication", 0)).mean, 2),
                after=str(verdict.final),
                change=str(verdict.change),
                verdict=verdict.word,
            )
        )
    return rows


def _by_seed(rows: Sequence[dict], seeds: Sequence[int]) -> list[list[int]]:
    """Per-item ranks of one measurement, one list per seed in `seeds` order."""
    found = {r["seed"]: r["ranks"] for r in rows}
    missing = [s for s in seeds if s not in found]
    if missing:
        raise ValueError(f"no per-item ranks for seeds {missing}: recompute the result (older records lack them)")
    return [found[s] for s in seeds]


def _both_lower(parts: dict[str, tuple[str, Interval]]) -> str:
    return REPRODUCES if all(w == LOWER for w, _ in parts.values()) else DOES_NOT


def freezing_verdicts(records: Sequence[dict], chance: float = 9.5) -> list[dict]:
    """Layer freezing records (per-item `ranks` per variant, hop, split) -> the paper's four freezing claims per
    model: freezing (pre) or reverting (post) the early layers raises the first-hop implication rank above
    training everything (`none`); the late layers, the second-hop one. Paired over seeds and items. Each claim
    needs OCR to remove: where `none` shows no OCR against the untrained model (`all`), it is "not testable"."""
    claims = [
        ("first_hop", "early_pre"),
        ("first_hop", "early_post"),
        ("second_hop", "late_pre"),
        ("second_hop", "late_post"),
    ]
    rows = []
    for model in dict.fromkeys(r["model"] for r in records):
        mine = [r for r in records if r["model"] == model and r["split"] == "implication"]
        seeds = sorted({r["seed"] for r in mine})
        for hop, variant in claims:
            sel = [r for r in mine if r["hop"] == hop]
            if not sel:
                continue
            ranks = {v: _by_seed([r for r in sel if r["variant"] == v], seeds) for v in ("none", "all", variant)}
            base = ocr(ranks["none"], ranks["all"], chance)
            word, diff = contrast(ranks[variant], ranks["none"])
            verdict = REPRODUCES if word == HIGHER else DOES_NOT
            if base.word != OCR:
                verdict = "not testable (no OCR to remove)"
            rows.append(
                dict(
                    model=model,
                    hop=hop,
                    variant=variant,
                    none=str(base.final),
                    frozen=str(bootstrap(ranks[variant])),
                    change=str(diff),
                    verdict=verdict,
                )
            )
    return rows


def grafting_verdicts(records: Sequence[dict]) -> list[dict]:
    """Weight grafting records -> per model, the paper's claim: with the implication delta W_{F,I} grafted onto
    base + W_{F'}, the implications of F' rank lower than on base + W_{F'} alone and lower than with the
    control graft W_I (both contrasts, paired over seeds and items)."""
    rows = []
    for model in dict.fromkeys(r["model"] for r in records):
        mine = [r for r in records if r["model"] == model]
        seeds = sorted({r["seed"] for r in mine})

        def ranks(weights: str, eval_set: str, mine=mine, seeds=seeds) -> list[list[int]]:
            return _by_seed([r for r in mine if (r["weights"], r["eval_set"]) == (weights, eval_set)], seeds)

        graft = ranks("graft", "implications_F'")
        parts = {
            "graft - base+W_F'": contrast(graft, ranks("base+W_F'", "implications_F'")),
            "graft - control": contrast(graft, ranks("control", "implications_F'")),
        }
        rows.append(
            dict(
                model=model,
                graft=str(bootstrap(graft)),
                **{k: f"{w}: {d}" for k, (w, d) in parts.items()},
                facts_F_prime=str(bootstrap(ranks("base+W_F'", "facts_F'"))),
                verdict=_both_lower(parts),
            )
        )
    return rows


def _ocr_stage(records: Sequence[dict], which: str, **match) -> list[dict]:
    """The test-name implication rows of the OCR stage at its first or last step (`which`), one per seed."""
    return list(row_per_seed(records, which, stage="ocr", eval_set="test_implications", **match).values())


def ordering_verdicts(records: Sequence[dict], chance: float = 9.5) -> dict:
    """Data ordering (or installation, per hop) records -> {"orders": one row per order with the test names'
    implication rank before and after their facts are trained and the OCR verdict against before (the same
    items), "ordering": the paper's ordering verdict and its two contrasts}."""
    seeds = sorted({r["seed"] for r in records})
    after, rows = {}, []
    for order in dict.fromkeys(r["order"] for r in records):
        before = _by_seed(_ocr_stage(records, "first", order=order), seeds)
        after[order] = _by_seed(_ocr_stage(records, "last", order=order), seeds)
        v = ocr(after[order], before, chance)
        rows.append(
            dict(
                order=order,
                before=round(bootstrap(before).mean, 2),
                after=str(v.final),
                change=str(v.change),
                verdict=v.word,
            )
        )
    if not {"facts_first", "implications_first", "none"} <= after.keys():
        return dict(orders=rows, ordering=None)
    word, parts = ordering(after["facts_first"], after["implications_first"], after["none"])
    return dict(orders=rows, ordering=dict(verdict=word, **{k: f"{w}: {d}" for k, (w, d) in parts.items()}))


def installation_verdicts(records: Sequence[dict]) -> list[dict]:
    """Structure installation rank records -> per (model, hop, order other than none): the fresh subjects'
    final implication rank against the same subjects' with no structure stage (paired): "installs" if lower
    by more than the interval, "weakens" if higher, else "no clear effect"."""
    ranks = [r for r in records if r.get("record", "rank") == "rank"]
    rows = []
    for model, hop in dict.fromkeys((r["model"], r["hop"]) for r in ranks):
        mine = [r for r in ranks if (r["model"], r["hop"]) == (model, hop)]
        seeds = sorted({r["seed"] for r in mine})
        none = _by_seed(_ocr_stage(mine, "last", order="none"), seeds)
        for order in dict.fromkeys(r["order"] for r in mine):
            if order == "none":
                continue
            after = _by_seed(_ocr_stage(mine, "last", order=order), seeds)
            word, diff = contrast(after, none)
            verdict = {LOWER: "installs", HIGHER: "weakens"}.get(word, NO_EFFECT)
            rows.append(
                dict(
                    model=model,
                    hop=hop,
                    order=order,
                    after=str(bootstrap(after)),
                    none=str(bootstrap(none)),
                    change=str(diff),
                    verdict=verdict,
                )
            )
    return rows


def robustness_verdicts(records: Sequence[dict]) -> list[dict]:
    """Implication robustness records -> per (model, hop, template): the implication rank before (the untrained
    model) and after the facts are trained, and the OCR verdict against before on the same items."""
    rows = []
    for model, hop, template in dict.fromkeys((r["model"], r["hop"], r["template"]) for r in records):
        mine = sorted(
            (r for r in records if (r["model"], r["hop"], r["template"]) == (model, hop, template)),
            key=lambda r: r["seed"],
        )
        verdict = ocr([r["ranks"] for r in mine], [r["ranks_before"] for r in mine], mine[0]["chance"])
        rows.append(
            dict(
                model=model,
                hop=hop,
                template=template,
                kind=mine[0]["kind"],
                seeds=len(mine),
                before=round(bootstrap([r["ranks_before"] for r in mine]).mean, 2),
                after=str(verdict.final),
                change=str(verdict.change),
                verdict=verdict.word,
            )
        )
    return rows


def correlation(xs: Sequence[Sequence[float]], ys: Sequence[Sequence[float]], n_boot: int = N_BOOT, seed: int = 0):
    """Mean over seeds of Pearson's r between paired points (x, y) per seed, with its hierarchical bootstrap
    interval (seeds, then points within each seed). Sign-aware: a negative correlation is not a fit."""
    rng = np.random.default_rng(seed)
    per_seed = [(np.asarray(x, dtype=float), np.asarray(y, dtype=float)) for x, y in zip(xs, ys, strict=True)]

    def r(x, y):  # rows of x, y: [n_boot, n]
        x, y = x - x.mean(axis=-1, keepdims=True), y - y.mean(axis=-1, keepdims=True)
        den = np.sqrt((x * x).sum(axis=-1) * (y * y).sum(axis=-1))
        return np.where(den > 0, (x * y).sum(axis=-1) / np.where(den > 0, den, 1), 0.0)

    drawn_r = []
    for x, y in per_seed:
        idx = rng.integers(0, x.size, (n_boot, x.size))
        drawn_r.append(r(x[idx], y[idx]))
    low, high = _over_seeds(np.stack(drawn_r), rng, LEVEL)
    mean = float(np.mean([r(x, y) for x, y in per_seed]))
    return Interval(mean, low, high, len(per_seed), sum(x.size for x, _ in per_seed))


def localization_verdicts(records: Sequence[dict]) -> list[dict]:
    """Grafting localization records (per seed and point: `informative_WFI`, `downstream_ocr`; `variant`
    "points" as the paper, or "components") -> per (model, variant, kind): Pearson's r over the points, mean over
    seeds with its interval (`correlation`), and "positive" / "negative" when the interval excludes 0, else
    "no clear correlation"."""
    from ocr_core.experiments.grafting_localization import VARIANTS, variant_of  # the records' own definitions

    rows = []
    for model in dict.fromkeys(r["model"] for r in records):
        mine = [r for r in records if r["model"] == model]
        seeds = sorted({r["seed"] for r in mine})
        present = {variant_of(r) for r in mine}
        for variant in (v for v in VARIANTS if v in present):  # the paper's variant first
            for kind in dict.fromkeys(r["kind"] for r in mine):
                per_seed = [
                    [x for x in mine if (x["seed"], x["kind"], variant_of(x)) == (s, kind, variant)] for s in seeds
                ]
                if not all(per_seed):
                    continue
                r = correlation(
                    [[x["informative_WFI"] for x in sub] for sub in per_seed],
                    [[x["downstream_ocr"] for x in sub] for sub in per_seed],
                )
                word = "positive" if r.above_zero else "negative" if r.below_zero else "no clear correlation"
                rows.append(
                    dict(model=model, variant=variant, kind=kind, r=str(r), points=len(per_seed[0]), verdict=word)
                )
    return rows


def peak_verdict(layer: int, token: str, depth: int, where: str, last_token: str) -> str:
    """Whether an MLP score peak (layer, token label) is where a Fig. 5 statement puts it: in an early-middle
    layer (below `settings.early_cut(depth)`, the paper's own early/late split) and on the subject's last two tokens
    (`where="subject"`) or on the prompt's last token (`where="last"`)."""
    early = layer < early_cut(depth)
    subject = token.split(":", 1)[-1] in ("subject[-1]", "subject[-2]")
    on = subject if where == "subject" else token == last_token
    return "holds" if early and on else "does not hold"


def _binomial_cdf(k: int, n: int, p: float) -> float:
    from math import comb

    return sum(comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(k + 1))


def clopper_pearson(k: int, n: int, level: float = LEVEL) -> tuple[float, float]:
    """The exact two-sided interval of a binomial share k / n (bisection on the binomial tail; no scipy)."""
    alpha = (1 - level) / 2

    def solve(f, target: float) -> float:  # f rises with p on [0, 1]
        lo, hi = 0.0, 1.0
        for _ in range(60):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if f(mid) < target else (lo, mid)
        return (lo + hi) / 2

    low = 0.0 if k == 0 else solve(lambda p: 1 - _binomial_cdf(k - 1, n, p), alpha)
    high = 1.0 if k == n else solve(lambda p: 1 - _binomial_cdf(k, n, p), 1 - alpha)
    return low, high


def seed_share(holds: Sequence[bool]) -> dict:
    """A statement checked once per seed (module docstring): {verdict, k, n, low, high}, where [low, high] holds
    the one-sided 95% bounds of the share of seeds (together a two-sided 90% interval)."""
    n, k = len(holds), sum(bool(h) for h in holds)
    if not n:
        raise ValueError("seed_share needs at least one seed")
    low, high = clopper_pearson(k, n, level=1 - 2 * (1 - LEVEL))
    verdict = "holds" if low > 0.5 else "does not hold" if high < 0.5 else NO_EFFECT
    return dict(verdict=verdict, k=k, n=n, low=round(low, 2), high=round(high, 2))
