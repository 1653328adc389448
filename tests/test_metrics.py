import pytest
import torch

from conftest import ALL_TINY
from ocr_core.data import first_hop
from ocr_core.data.tokens import encode, validate
from ocr_core.models.loading import load_model
from ocr_core.training.metrics import mean_logit_loss, option_logits, ranks, ranks_from_logits


def test_ranks_from_logits_counts_strictly_better_options():
    logits = torch.tensor([[3.0, 1.0, 2.0], [0.0, 5.0, 4.0]])
    assert ranks_from_logits(logits, torch.tensor([0, 2])).tolist() == [0, 1]
    assert ranks_from_logits(logits, torch.tensor([1, 0])).tolist() == [2, 2]


def test_mean_logit_loss_matches_definition():
    logits = torch.tensor([[3.0, 1.0, 2.0]])
    assert mean_logit_loss(logits, torch.tensor([1])).item() == pytest.approx(-1.0 + 2.0)


@pytest.mark.parametrize("name", ALL_TINY)
def test_batched_option_logits_match_full_forward_one_prompt_at_a_time(name):
    model, tok = load_model(name)
    data = first_hop(1).implications
    option_ids = torch.tensor(validate(data, tok))
    batch = encode(tok, data.examples, data.options, with_answers=False)
    with torch.no_grad():
        batched = option_logits(model, batch, option_ids)
        for i, ex in enumerate(data.examples[:5]):
            ids = torch.tensor([tok(ex.prompt).input_ids])
            single = model(input_ids=ids).logits[0, -1, option_ids]
            assert torch.allclose(batched[i], single, atol=1e-4), name
    # batch size does not change the ranks
    assert torch.equal(ranks(model, tok, data, batch_size=3), ranks(model, tok, data, batch_size=64))
