"""Plain verdicts of structure installation: a gain counts only when every seed shows it."""


def _installation_records(finals: dict[str, list[float]], structure_facts: float = 0.0) -> list[dict]:
    rows = []
    for order, per_seed in finals.items():
        for seed, final in enumerate(per_seed):
            base = dict(record="rank", model="m", hop="first_hop", order=order, seed=seed)
            rows += [
                dict(base, stage="ocr", eval_set="test_implications", step=10, mean_rank=9.0),
                dict(base, stage="ocr", eval_set="test_implications", step=15, mean_rank=final),
                dict(base, stage="ocr", eval_set="test_facts", step=15, mean_rank=0.0),
            ]
            if order != "none":
                rows += [
                    dict(base, stage="structure", eval_set="train_facts", step=0, mean_rank=9.0),
                    dict(base, stage="structure", eval_set="train_facts", step=5, mean_rank=structure_facts),
                ]
    rows.append(dict(record="score", model="m", hop="first_hop", order="none", seed=0))
    return rows


def test_installation_verdicts_need_a_gain_every_seed_shows():
    from ocr_core.reporting.compare import installation_verdicts

    records = _installation_records(
        {"none": [8.0, 7.0], "joint": [2.0, 3.0], "facts_first": [6.5, 7.5], "implications_first": [9.0, 9.5]},
        structure_facts=4.0,
    )
    rows = {r["order"]: r for r in installation_verdicts(records)}
    assert set(rows) == {"joint", "facts_first", "implications_first"}  # none is the control, not a row
    assert rows["joint"]["verdict"] == "installs OCR"
    assert rows["joint"]["none_after"] == 7.5 and rows["joint"]["after"] == 2.5 and rows["joint"]["gain"] == 5.0
    assert rows["facts_first"]["verdict"] == "no clear effect"  # mean gain 0.5 < 1 and the seeds overlap
    assert rows["implications_first"]["verdict"] == "weakens OCR"
    assert rows["joint"]["structure_facts"] == 4.0 and rows["joint"]["seeds"] == 2
    assert rows["joint"]["fresh_facts"] == 0.0
    assert rows["joint"]["per_seed"] == [2.0, 3.0] and rows["joint"]["none_per_seed"] == [8.0, 7.0]
    # a big mean gain whose seeds overlap the control's is not enough
    overlap = _installation_records({"none": [9.0, 3.0], "joint": [1.0, 4.0]})
    assert installation_verdicts(overlap)[0]["verdict"] == "no clear effect"
