"""Structure installation: the real-template splits are clean and the bookkeeping of orders, the fresh-subject
OCR stage and the scores is right (tiny model)."""

import pytest

from ocr_core.data import DEFAULT_POOL
from ocr_core.experiments.base import Settings
from ocr_core.experiments.structure_installation import (
    installation,
    installation_data,
    installation_table,
    run_installation,
    score_peaks,
)


@pytest.fixture(autouse=True)
def _private_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("OCR_CORE_CACHE", str(tmp_path / "cache"))


def _parts(dataset):
    return {part for e in dataset.examples for part in e.subject.split()}


def test_first_hop_split_uses_real_templates_and_fresh_names():
    data = installation_data("first_hop", seed=0)
    assert len(data.train_facts) == 80 and len(data.test_facts) == 20
    assert data.train_facts.examples[0].prompt.endswith(" lives in")
    assert data.test_implications.examples[0].prompt.startswith("The people in the city ")
    assert not _parts(data.train_facts) & _parts(data.test_facts)  # no first or last name shared
    assert [e.subject for e in data.train_facts] == [e.subject for e in data.train_implications]
    # a fresh subject's implication is its own city's language
    from ocr_core.data import city_pool

    language = {c.city: c.language for c in city_pool()}
    for fact, impl in zip(data.test_facts, data.test_implications, strict=True):
        assert impl.answer == language[fact.answer]
    assert installation_data("first_hop", seed=0) == data and installation_data("first_hop", seed=1) != data


def test_second_hop_structure_cities_are_outside_the_test_pool():
    data = installation_data("second_hop", seed=0)
    train_cities = {e.subject for e in data.train_facts}
    test_cities = {e.subject for e in data.test_facts}
    assert len(train_cities) == len(data.train_facts) >= 30 and test_cities <= set(DEFAULT_POOL)
    assert not train_cities & test_cities
    assert not {p for e in data.train_facts for p in e.answer.split()} & {
        p for e in data.test_facts for p in e.answer.split()
    }
    assert data.test_implications.examples[0].prompt.startswith("The mayor of the city that contains ")
    with pytest.raises(ValueError, match="unknown hop"):
        installation_data("third_hop")


def test_orders_ocr_stage_and_scores_bookkeeping(tiny_llama):
    model, tok = tiny_llama
    settings = Settings(lr=2e-3, epochs=1, batch_size=16)
    records = run_installation(
        model,
        tok,
        model_name="tiny-llama",
        settings=settings,
        ocr_settings=Settings(lr=2e-3, epochs=2, batch_size=16),
        seeds=[0],
        hops=["first_hop"],
        n_counterfactuals=3,
        progress=False,
    )
    ranks = [r for r in records if r["record"] == "rank"]
    by_order = {
        o: [r for r in ranks if r["order"] == o] for o in ("none", "joint", "facts_first", "implications_first")
    }
    assert all(by_order.values())
    # none: no structure stage; facts_first: the facts phase strictly before the implications phase
    assert {r["stage"] for r in by_order["none"]} == {"ocr"}
    ff = [r for r in by_order["facts_first"] if r["stage"] == "structure"]
    assert max(r["step"] for r in ff if r["phase"] == "facts") <= min(
        r["step"] for r in ff if r["phase"] == "implications"
    )
    ocr = [r for r in by_order["facts_first"] if r["stage"] == "ocr"]
    assert min(r["step"] for r in ocr) == settings.epochs * 2  # the OCR stage starts after both phases
    assert {r["eval_set"] for r in ocr} >= {"test_facts", "test_implications"}
    # the structure stage runs at `settings` (1 epoch per phase), the OCR stage at `ocr_settings` (2 epochs)
    assert {r["epoch"] for r in ff} == {0, 1} and {r["epoch"] for r in ocr} == {0, 1, 2}
    assert {(r["epochs"], r["ocr_epochs"]) for r in ranks} == {(1, 2)}

    scores = [r for r in records if r["record"] == "score"]
    assert {r["order"] for r in scores} == {"none", "facts_first"}
    assert {r["score"] for r in scores} == {"informative", "upstream", "downstream"}
    assert {r["kind"] for r in scores} == {"mlp", "head"} and {r["head"] for r in scores} == {-1}
    table = {(r["hop"], r["order"]): r for r in installation_table(records)}
    assert set(table) == {("first_hop", o) for o in by_order}
    before = next(r["mean_rank"] for r in ocr if r["eval_set"] == "test_implications" and r["epoch"] == 0)
    assert table[("first_hop", "facts_first")]["fresh_implications.before"] == pytest.approx(before)
    peaks = score_peaks(records)
    assert len(peaks) == 2 * 3 and set(peaks.order) == {"none", "facts_first"}


def test_installation_runs_from_the_entry_point_and_is_reused(tmp_path):
    kw = dict(lr=2e-3, epochs=1, seeds=[0], hops=["second_hop"], orders=["none"], results=tmp_path, progress=False)
    run = installation("tiny-llama", **kw)
    again = installation("tiny-llama", **kw)
    assert run.path == again.path and run.done
    assert {r["hop"] for r in run.records()} == {"second_hop"}


def test_uncached_runs_match_cached_ones_and_write_no_deltas(tiny_llama, tmp_path):
    model, tok = tiny_llama
    kw = dict(
        model_name="tiny-llama",
        settings=Settings(lr=2e-3, epochs=1, batch_size=16),
        seeds=[0],
        hops=["second_hop"],
        orders=["facts_first"],
        score_orders=(),
        progress=False,
    )
    plain = run_installation(model, tok, **kw)
    assert not (tmp_path / "cache" / "deltas").exists()
    cached = run_installation(model, tok, cache_deltas=True, **kw)
    assert len(list((tmp_path / "cache" / "deltas" / "tiny-llama").glob("*.safetensors"))) == 3  # W_F, W_FI, OCR
    assert plain == cached


def test_cli_runs_installation_and_prints_its_table(tmp_path, capsys):
    from ocr_core.cli import main

    args = ["structure-installation", "--model", "tiny-llama", "--lr", "2e-3", "--epochs", "1", "--seeds", "0"]
    assert main([*args, "--results", str(tmp_path), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "== structure_installation, tiny-llama" in out and "fresh_implications.after" in out
    assert len(list((tmp_path / "structure_installation").rglob("DONE"))) == 1
