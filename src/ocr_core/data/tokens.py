"""Tokenising prompts and answers, option first tokens, and the checks that keep ranks meaningful.

An answer is scored by the first token of `" " + answer`; training text is `prompt + " " + answer`, tokenised
as prompt tokens followed by answer tokens. Both need the answer to start at a word boundary.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from ocr_core.data import Dataset, Example
from ocr_core.errors import UserError


class DatasetTokenError(UserError, ValueError):
    """The dataset cannot be ranked or trained faithfully with this tokenizer."""


def prompt_ids(tokenizer, prompt: str) -> list[int]:
    """Prompt tokens, with the tokenizer's special prefix (e.g. BOS) if it adds one."""
    return tokenizer(prompt).input_ids


def answer_ids(tokenizer, answer: str) -> list[int]:
    """Tokens of `" " + answer` without special tokens."""
    return tokenizer(" " + answer, add_special_tokens=False).input_ids


def option_token_ids(tokenizer, options: Sequence[str]) -> list[int]:
    """First token of `" " + option` for each option; raises if two options share a first token."""
    first = [answer_ids(tokenizer, o)[0] for o in options]
    by_token: dict[int, list[str]] = defaultdict(list)
    for option, token in zip(options, first, strict=True):
        by_token[token].append(option)
    collisions = {tokenizer.decode([t]): opts for t, opts in by_token.items() if len(opts) > 1}
    if collisions:
        raise DatasetTokenError(
            "options whose first tokens collide cannot be ranked apart (never merged silently): "
            + "; ".join(f"{opts} all start with {tok!r}" for tok, opts in collisions.items())
        )
    return first


def check_word_boundaries(tokenizer, examples: Sequence[Example]) -> None:
    """Raise unless each answer starts a new word: the first token of `" " + answer` must carry the answer's
    first characters (not bare white space or a stray byte), and `prompt + " " + answer` must tokenise as
    the prompt's tokens followed by the answer's."""
    bad = []
    for ex in examples:
        answer = answer_ids(tokenizer, ex.answer)
        head = tokenizer.decode(answer[:1]).strip()
        joint = tokenizer(ex.prompt + " " + ex.answer).input_ids
        if not head or not ex.answer.startswith(head):
            bad.append(f"{ex.prompt!r} -> {ex.answer!r} (first answer token {tokenizer.decode(answer[:1])!r})")
        elif joint != prompt_ids(tokenizer, ex.prompt) + answer:
            bad.append(f"{ex.prompt!r} -> {ex.answer!r} (the prompt's last token merges with the answer)")
    if bad:
        raise DatasetTokenError(
            f"{len(bad)} answers do not start at a word boundary, so their first-token rank would not be the "
            "answer's: " + "; ".join(bad[:10])
        )


def validate(dataset: Dataset, tokenizer) -> list[int]:
    """Check `dataset` against `tokenizer`; returns the option first-token ids."""
    if any(ex.prompt != ex.prompt.rstrip() for ex in dataset):
        bad = [ex.prompt for ex in dataset if ex.prompt != ex.prompt.rstrip()]
        raise DatasetTokenError(f"prompts must not end in white space (the answer adds one): {bad[:10]}")
    ids = option_token_ids(tokenizer, dataset.options)
    check_word_boundaries(tokenizer, dataset.examples)
    return ids


@dataclass
class Batch:
    """Right-padded token batch.

    input_ids, attention_mask: [batch, pos]; last: [batch] index of the last prompt token;
    answer_rows, answer_cols, answer_targets: [n_answer_tokens] positions that predict answer tokens and
    the tokens they predict; answer: [batch] index of the correct option.
    """

    input_ids: torch.Tensor
    attention_mask: torch.Tensor
    last: torch.Tensor
    answer_rows: torch.Tensor
    answer_cols: torch.Tensor
    answer_targets: torch.Tensor
    answer: torch.Tensor

    def to(self, device: torch.device | str) -> Batch:
        return Batch(**{k: v.to(device) for k, v in self.__dict__.items()})


def encode(tokenizer, examples: Sequence[Example], options: Sequence[str], with_answers: bool = True) -> Batch:
    """Tokenise examples (prompts, plus answers when `with_answers`) into one right-padded batch."""
    option_index = {o: i for i, o in enumerate(options)}
    seqs, last, rows, cols, targets = [], [], [], [], []
    for b, ex in enumerate(examples):
        p = prompt_ids(tokenizer, ex.prompt)
        a = answer_ids(tokenizer, ex.answer) if with_answers else []
        seqs.append(p + a)
        last.append(len(p) - 1)
        for j, tok in enumerate(a):
            rows.append(b)
            cols.append(len(p) - 1 + j)
            targets.append(tok)
    width = max(len(s) for s in seqs)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    input_ids = torch.full((len(seqs), width), pad, dtype=torch.long)
    mask = torch.zeros((len(seqs), width), dtype=torch.long)
    for b, s in enumerate(seqs):
        input_ids[b, : len(s)] = torch.tensor(s)
        mask[b, : len(s)] = 1
    return Batch(
        input_ids,
        mask,
        torch.tensor(last),
        torch.tensor(rows, dtype=torch.long),
        torch.tensor(cols, dtype=torch.long),
        torch.tensor(targets, dtype=torch.long),
        torch.tensor([option_index.get(ex.answer, -1) for ex in examples]),
    )
