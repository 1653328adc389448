"""Implication robustness: the templates ask about the same subjects as the facts, the verification's cached
finetunes are reused (no second training), and the table's verdict comes from the verdict module."""

from __future__ import annotations

import pytest

from ocr_core.data import first_hop, second_hop
from ocr_core.data.tables import DEFAULT_POOL, city_pool
from ocr_core.experiments import implication_robustness as rob
from ocr_core.experiments.ocr_verification import verify


def test_templates_ask_about_each_facts_subject():
    cities = {c.city: c for c in city_pool(DEFAULT_POOL)}
    data = first_hop(1)
    sets = rob.template_sets("first_hop", data)
    assert len([k for k, (kind, _) in sets.items() if kind == "paraphrase"]) >= 3
    kind, country = sets["country"]
    assert kind == "other attribute"
    for fact, ex in zip(data.facts.examples, country.examples, strict=True):
        assert fact.subject in ex.prompt and ex.answer == cities[data.assignment[fact.subject]].country
    assert sets["original"][1].examples == data.implications.examples  # the verification's template
    data2 = second_hop(0)
    for _, (_, ds) in rob.template_sets("second_hop", data2).items():
        for fact, ex in zip(data2.facts.examples, ds.examples, strict=True):
            assert cities[fact.subject].landmark in ex.prompt and ex.answer == fact.answer


def test_robustness_reuses_the_verifications_finetunes(tmp_path, monkeypatch):
    from ocr_core.store import events

    monkeypatch.setenv("OCR_CORE_CACHE", str(tmp_path / "cache"))
    results = tmp_path / "results"
    verify("tiny-llama", seeds=[0], epochs=2, results=results, progress=False)
    monkeypatch.setenv("OCR_CORE_EVENTS", str(tmp_path / "events.jsonl"))
    run = rob.robustness("tiny-llama", seeds=[0], epochs=2, results=results, progress=False)
    kinds = [e["kind"] for e in events.read(tmp_path / "events.jsonl")]
    assert "finetune" not in kinds and kinds.count("delta_reused") == 2  # one per hop
    records = run.records()
    assert {(r["hop"], r["template"]) for r in records} == {
        (hop, t[0]) for hop, templates in rob.TEMPLATES.items() for t in templates
    }
    original = next(r for r in records if (r["hop"], r["template"]) == ("first_hop", "original"))
    verified = [
        r
        for r in verify("tiny-llama", seeds=[0], epochs=2, results=results, progress=False).records()
        if r["hop"] == "first_hop" and r["split"] == "implication"
    ]
    assert original["ranks"] == max(verified, key=lambda r: r["epoch"])["ranks"]
    assert original["ranks_before"] == min(verified, key=lambda r: r["epoch"])["ranks"]
    from ocr_core.reporting.verdicts import robustness_verdicts

    assert len(rob.robustness_table(records)) == len(records)  # one seed: a row per record
    assert all(r["verdict"] for r in robustness_verdicts(records))


@pytest.mark.parametrize("hop", rob.HOPS)
def test_template_options_have_distinct_first_tokens_on_both_embedded_tokenizers(hop, gemma, smollm):
    from ocr_core.data.tokens import validate

    data = first_hop(0) if hop == "first_hop" else second_hop(0)
    for _, tok in (gemma, smollm):
        for _, (_, ds) in rob.template_sets(hop, data).items():
            validate(ds, tok)
