"""Named points where a test kills this process, to prove that interrupted work resumes cleanly.

`point(name)` does nothing unless $OCR_CORE_KILL_AT names it (`name` or `name:N`, the N-th time it is
reached, default the first); then the process dies at once with SIGKILL, as from `kill -9`, leaving whatever
a real interruption there would leave. Papermill kernels inherit the variable, so a chapter's kernel can be
killed the same way. The points:

- `dequantize`: an embedded model's de-quantized weights are written, not yet marked done
- `epoch`: a finetune has finished an epoch (N: which one)
- `write:<suffix>`: a file of that suffix (`safetensors`, `json`) is half written, not yet renamed in place
- `results`: a result's config is written, its records not yet
- `chapter`: the book has executed a chapter (N: which one), the next not started
"""

from __future__ import annotations

import os
import signal
from collections import Counter

VARIABLE = "OCR_CORE_KILL_AT"
_reached: Counter[str] = Counter()


def point(name: str) -> None:
    """SIGKILL this process if $OCR_CORE_KILL_AT names this point (and this is its N-th time)."""
    spec = os.environ.get(VARIABLE)
    if not spec:
        return
    target, _, count = spec.rpartition(":") if spec.rsplit(":", 1)[-1].isdigit() else (spec, "", "1")
    if target != name:
        return
    _reached[name] += 1
    if _reached[name] >= int(count):
        os.kill(os.getpid(), signal.SIGKILL)
