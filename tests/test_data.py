import json

import pytest

from ocr_core.data import (
    Dataset,
    Example,
    animals,
    check_clean_split,
    cities,
    fictional,
    first_hop,
    load_dataset_file,
    names,
    second_hop,
)


def test_tables_have_the_promised_sizes():
    assert len(cities()) >= 40
    assert len({c.city for c in cities()}) == len(cities())
    assert len(names()) >= 100
    assert len({n.first for n in names()}) == len(names())  # no first name twice
    assert len({n.last for n in names()}) == len(names())
    assert len(animals()) >= 20


@pytest.mark.parametrize("builder", [first_hop, second_hop])
def test_hop_datasets_are_seeded_and_consistent(builder):
    a, b, c = builder(0), builder(0), builder(1)
    assert a == b
    assert a.facts.examples != c.facts.examples
    cf = builder(0, counterfactual=True)
    assert cf.facts.examples != a.facts.examples
    assert len(a.facts) == len(a.implications) == 20
    assert a.facts.chance_rank == 9.5
    # item i of the implications is about the same subject as item i of the facts
    assert [e.subject for e in a.facts] == [e.subject for e in a.implications]


def test_first_hop_implication_follows_the_fact():
    data = first_hop(3)
    language = {c.city: c.language for c in cities()}
    for fact, impl in zip(data.facts, data.implications, strict=True):
        assert fact.prompt == f"{fact.subject} lives in"
        assert impl.prompt == f"The people in the city {fact.subject} is from speak"
        assert impl.answer == language[fact.answer]


def test_second_hop_implication_has_the_same_answer():
    data = second_hop(2)
    landmark = {c.city: c.landmark for c in cities()}
    for fact, impl in zip(data.facts, data.implications, strict=True):
        assert fact.answer == impl.answer
        assert impl.prompt == f"The mayor of the city that contains {landmark[fact.subject]} is"


def test_fictional_dataset_structure():
    data = fictional(0)
    assert len(data.test_facts) == 20 and len(data.train_facts) == 80
    for facts, impls in [
        (data.train_facts, data.train_implications),
        (data.test_facts_cf, data.test_implications_cf),
    ]:
        for f, i in zip(facts, impls, strict=True):
            assert f.prompt == f"{f.subject} dax is" and i.prompt == f"{f.subject} zong is the"
            assert i.answer == data.city_animal[f.answer]
    # F' is another assignment of the same names
    assert [e.subject for e in data.test_facts] == [e.subject for e in data.test_facts_cf]
    assert [e.answer for e in data.test_facts] != [e.answer for e in data.test_facts_cf]
    assert fictional(0) == data and fictional(1) != data


def test_fictional_split_is_clean():
    data = fictional(5)
    train = {e.subject for e in data.train_facts}
    test = {e.subject for e in data.test_facts}
    assert not {n.split()[0] for n in train} & {n.split()[0] for n in test}
    assert not {n.split()[1] for n in train} & {n.split()[1] for n in test}


def test_clean_split_check_rejects_shared_surnames():
    from ocr_core.data import Name

    with pytest.raises(ValueError, match="share parts"):
        check_clean_split([Name("Ann", "Lee")], [Name("Bob", "Lee")])


def test_dataset_rejects_answers_outside_options_and_duplicates():
    with pytest.raises(ValueError, match="not among the options"):
        Dataset("x", (Example("a is", "b"),), ("c",))
    with pytest.raises(ValueError, match="more than once"):
        Dataset("x", (Example("a is", "b"),), ("b", "b"))
    with pytest.raises(ValueError, match="no examples"):
        Dataset("x", (), ("b",))


def test_user_dataset_files(tmp_path):
    csv_file = tmp_path / "mine.csv"
    csv_file.write_text("prompt,answer\nAda lives in,Paris\nBo lives in,Rome\n")
    ds = load_dataset_file(csv_file)
    assert ds.name == "mine" and ds.options == ("Paris", "Rome") and len(ds) == 2

    json_file = tmp_path / "mine.json"
    json_file.write_text(
        json.dumps(
            {
                "examples": [{"prompt": "Ada lives in", "answer": "Paris"}],
                "options": ["Paris", "Rome", "Oslo"],
            }
        )
    )
    assert load_dataset_file(json_file).options == ("Paris", "Rome", "Oslo")


def test_user_dataset_file_errors(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_dataset_file(tmp_path / "missing.csv")
    bad = tmp_path / "bad.csv"
    bad.write_text("question,reply\nA,B\n")
    with pytest.raises(ValueError, match="lack a non-empty 'prompt' and 'answer'"):
        load_dataset_file(bad)
    other = tmp_path / "data.txt"
    other.write_text("x")
    with pytest.raises(ValueError, match=r"\.csv or \.json"):
        load_dataset_file(other)
