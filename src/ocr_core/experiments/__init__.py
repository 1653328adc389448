"""The paper's experiments, one function each, returning tidy records."""

from ocr_core.experiments.ocr_verification import HOPS, run_ocr_verification, summarize_ocr, verify

__all__ = ["HOPS", "run_ocr_verification", "summarize_ocr", "verify"]
