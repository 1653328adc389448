"""Shared fixtures. Real embedded models load once per session (de-quantized once, then from the cache)."""

from __future__ import annotations

import pytest

from ocr_core import numerics  # first: pins the numerics before anything imports torch
from ocr_core.models.loading import load_model


def pytest_configure(config):
    numerics.require()  # a test run that cannot reproduce the committed numbers says so at once


PAPER_ARCHS = ["tiny-llama", "tiny-gemma2", "tiny-qwen2", "tiny-olmo"]
ALL_TINY = [*PAPER_ARCHS, "tiny-mistral", "tiny-gemma3", "tiny-olmo2", "tiny-gpt2"]


@pytest.fixture(scope="session")
def gemma():
    return load_model("gemma-3-270m", progress=False)


@pytest.fixture(scope="session")
def smollm():
    return load_model("smollm2-135m", progress=False)


@pytest.fixture(scope="session")
def tiny_tok():
    from ocr_core.models.tiny import tiny_tokenizer

    return tiny_tokenizer()


@pytest.fixture
def tiny_llama():
    return load_model("tiny-llama")
