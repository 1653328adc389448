import pytest
import torch

from ocr_core.data import Dataset, Example, fictional, first_hop, second_hop
from ocr_core.data.tokens import DatasetTokenError, answer_ids, encode, prompt_ids, validate


def _all_datasets(seed):
    fh, sh, fi = first_hop(seed), second_hop(seed), fictional(seed)
    return [
        fh.facts,
        fh.implications,
        sh.facts,
        sh.implications,
        fi.train_facts,
        fi.train_implications,
        fi.test_facts_cf,
        fi.test_implications_cf,
    ]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_shipped_datasets_validate_against_smollm2_tokenizer(tiny_tok, seed):
    for ds in _all_datasets(seed):
        assert len(validate(ds, tiny_tok)) == len(ds.options)


def test_shipped_datasets_validate_against_gemma_tokenizer(gemma):
    _, tok = gemma
    for seed in (0, 1, 2):
        for ds in _all_datasets(seed):
            assert len(set(validate(ds, tok))) == len(ds.options)


def test_colliding_first_tokens_are_rejected_with_names(tiny_tok):
    ds = Dataset(
        "cities",
        (Example("He lives in", "New York"), Example("She lives in", "New Delhi")),
        ("New York", "New Delhi"),
    )
    with pytest.raises(DatasetTokenError, match=r"New York.*New Delhi.*' New'"):
        validate(ds, tiny_tok)


def test_trailing_space_in_prompt_is_rejected(tiny_tok):
    ds = Dataset("x", (Example("He lives in ", "Paris"),), ("Paris", "Rome"))
    with pytest.raises(DatasetTokenError, match="white space"):
        validate(ds, tiny_tok)


@pytest.mark.parametrize("fixture", ["gemma", "smollm"])
@pytest.mark.parametrize("answer", [" Paris", "\nParis"])
def test_answer_not_at_word_boundary_is_rejected(request, fixture, answer):
    # The first token of "  Paris" is bare white space: ranking it would compare spaces, not cities.
    _, tok = request.getfixturevalue(fixture)
    ds = Dataset("x", (Example("He lives in", answer),), (answer, "Rome"))
    with pytest.raises(DatasetTokenError, match=r"word boundary.*He lives in"):
        validate(ds, tok)


def test_encode_right_pads_and_marks_answer_tokens(tiny_tok):
    examples = [
        Example("Ada lives in", "Paris"),
        Example("The mayor of the city that contains X is", "Bo Li"),
    ]
    batch = encode(tiny_tok, examples, ("Paris", "Bo Li"))
    assert batch.input_ids.shape[0] == 2 and batch.attention_mask.sum(1).tolist() == [
        len(prompt_ids(tiny_tok, e.prompt)) + len(answer_ids(tiny_tok, e.answer)) for e in examples
    ]
    assert batch.last.tolist() == [len(prompt_ids(tiny_tok, e.prompt)) - 1 for e in examples]
    # the targets, read back, are exactly the answers; each is predicted from the token before it
    for b, ex in enumerate(examples):
        sel = batch.answer_rows == b
        assert tiny_tok.decode(batch.answer_targets[sel]).strip() == ex.answer
        assert torch.equal(batch.input_ids[b, batch.answer_cols[sel] + 1], batch.answer_targets[sel])
    assert batch.answer.tolist() == [0, 1]
