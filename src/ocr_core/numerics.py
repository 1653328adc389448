"""Pinned numerics: the same seed gives the same bits on the AMD x86-64 hosts the book was computed on.

torch's own kernels (ATen), MKL (matrix products) and oneDNN each pick an instruction-set code path for the
CPU they run on, and the paths round differently: an AVX-512 host trains other weights than an AVX2 host
from the same seed. `pin_environment` fixes all three to AVX2 and the thread count to `THREADS`. The
variables are read once, when torch loads, so they are set in `os.environ` when `ocr_core` is imported
(before it imports torch) and every process started from it inherits them: papermill and nbval kernels,
sweep runs, subprocesses of the tests. `check` tells whether they are in effect in this process.

Modes (`mode()`):
- "exact": an AMD x86-64 host with AVX2 and FMA, pins in effect: the kind of host the book's numbers were
  computed and re-checked on (AMD EPYC without AVX-512; and with it: the SmolLM2 digest, and a cold build's
  first six chapters, every training chapter up to layer freezing, identical to the committed pages). The
  book's committed numbers are checked digit for digit.
- "tolerance": any other host (ARM, x86 without AVX2, an Intel host), or pins switched off with
  OCR_CORE_NUMERICS=native. On Intel Xeon hosts with AVX-512 the pins held but did not give the same bits:
  the SmolLM2 digest of tests/test_numerics.py differed (loss 6.806758 against 6.806756), and a cold build
  moved a few trained ranks by one item (Gemma-3 in every training chapter, SmolLM2 in the lr sweep; verdicts
  unchanged). On the hosts measured so far the vendor, not AVX-512, separates the two kinds (the suspect is
  MKL, which documents its reproducible branches, MKL_CBWR, for Intel processors; the kernel is not found);
  no Intel host without AVX-512 has been measured. Numbers are compared within `TOLERANCE` and words exactly.
"""

from __future__ import annotations

import contextlib
import os
import platform
import sys
from functools import cache
from pathlib import Path
from typing import Any

from ocr_core.errors import UserError

PINS = {"ATEN_CPU_CAPABILITY": "avx2", "MKL_CBWR": "AVX2,STRICT", "ONEDNN_MAX_CPU_ISA": "AVX2"}
THREADS = 2
# A worker of the book's compute phase runs with fewer threads (two 1-thread processes train faster than one
# 2-thread process on 2 cores): $OCR_CORE_THREADS ("1".."THREADS"), or the number in the file
# $OCR_CORE_THREADS_FILE, which the book raises when the other worker is done; `apply_threads` follows it.
# Results are the same bits at 1 and 2 threads (MKL's STRICT mode; tests/test_numerics.py), so the thread
# count is recorded in provenance, not in keys.
THREADS_VAR, THREADS_FILE_VAR = "OCR_CORE_THREADS", "OCR_CORE_THREADS_FILE"
THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS")
OPT_OUT = "OCR_CORE_NUMERICS"  # "native": the CPU's own code paths and thread count (not reproducible)
# In tolerance mode a checked number may differ by this much (absolute, in the units printed: ranks, r²,
# scores): the spread seen between hosts before pinning was up to 0.14 on means over 3 seeds.
TOLERANCE = 0.5
# MKL's code-path state as its internal `mkl_serv_cbwr_get(-1)` reports it (the public mkl_cbwr_get is not
# exported by torch's build): 1 = MKL_CBWR never read, 3 = COMPATIBLE, 2 = a branch set, flag 0x10000 = STRICT.
_MKL_UNSET, _MKL_COMPATIBLE, _MKL_STRICT = 1, 3, 0x10000


class NumericsError(UserError, RuntimeError):
    """The pinned code paths are not in effect in a process that should have them."""


@cache
def cpu_info(field: str) -> str:
    """The first `field` line of /proc/cpuinfo ("flags", "model name"), or "" where there is none."""
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return ""
    return next((line.split(":", 1)[1].strip() for line in lines if line.split(":", 1)[0].strip() == field), "")


@cache
def host_can_pin() -> bool:
    """x86-64 with AVX2 and FMA (what the pinned paths need)."""
    if platform.machine().lower() not in ("x86_64", "amd64"):
        return False
    flags = cpu_info("flags").split()
    return "avx2" in flags and "fma" in flags


@cache
def verified_host() -> bool:
    """A host of the kind the book's committed numbers were computed on: AMD x86-64 with AVX2 and FMA (with
    or without AVX-512). Pinned, an Intel host trained other bits (module docstring)."""
    return host_can_pin() and cpu_info("vendor_id") == "AuthenticAMD"


def wanted() -> bool:
    """Whether this process should run pinned: the host can, and the user did not opt out."""
    return os.environ.get(OPT_OUT, "").lower() != "native" and host_can_pin()


def pin_environment(environ: dict[str, str] | None = None) -> bool:
    """Set the pins and thread variables in `environ` (default os.environ) when `wanted()`. Must run before
    torch is imported to affect this process; children started afterwards inherit it. Returns whether set."""
    environ = os.environ if environ is None else environ
    if not wanted():
        return False
    environ.update(PINS)
    for var in THREAD_VARS:
        environ[var] = str(threads(environ))
    return True


def threads(environ: dict[str, str] | None = None) -> int:
    """The thread count to run with: THREADS, or fewer in a book worker (see THREADS_VAR)."""
    environ = os.environ if environ is None else environ
    raw = environ.get(THREADS_VAR, "").strip()
    if environ.get(THREADS_FILE_VAR):
        with contextlib.suppress(OSError):  # not written yet: the variable
            raw = Path(environ[THREADS_FILE_VAR]).read_text().strip() or raw
    if not raw:
        return THREADS
    if raw not in {str(n) for n in range(1, THREADS + 1)}:
        raise NumericsError(f"{THREADS_VAR} must be 1..{THREADS}, got {raw!r}")
    return int(raw)


def apply_threads() -> None:
    """torch's intra-op thread count to `threads()` (called at import, and before each finetune and run so a
    book worker picks up a raised count)."""
    import torch

    if wanted() and torch.get_num_threads() != (count := threads()):
        torch.set_num_threads(count)


@cache
def mkl_branch() -> str:
    """The MKL code path in effect in this process: MKL_CBWR as MKL read it ("AVX2,STRICT"), "unpinned" when
    MKL runs its own choice, "unknown" when torch's build hides MKL's state."""
    import ctypes

    import torch

    try:
        get = ctypes.CDLL(str(Path(torch.__file__).parent / "lib" / "libtorch_cpu.so")).mkl_serv_cbwr_get
    except (OSError, AttributeError):
        return "unknown"
    get.restype = ctypes.c_int
    state = get(ctypes.c_int(-1))
    if state == _MKL_UNSET:
        return "unpinned"
    if state & 0xFFFF == _MKL_COMPATIBLE:
        return "COMPATIBLE"
    requested = os.environ.get("MKL_CBWR", "?").upper()
    strict_read = bool(state & _MKL_STRICT)
    return requested if strict_read == requested.endswith(",STRICT") else f"{requested} (MKL state {state})"


def environment() -> dict[str, Any]:
    """What produced the numbers: the code paths in effect and versions (part of every key). In exact mode the
    thread count is not (see THREADS_VAR); unpinned, it is."""
    import torch
    import transformers

    env = {
        "mode": mode(),
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "mkl_cbwr": mkl_branch(),
        "onednn_isa": os.environ.get("ONEDNN_MAX_CPU_ISA", "native"),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
    }
    if not pinned():  # pinned, 1 and 2 threads give the same bits (THREADS_VAR)
        env["threads"] = torch.get_num_threads()
    return env


def check() -> list[str]:
    """What is wrong with the pins in this process (empty when they hold, or when not `wanted()`)."""
    if not wanted():
        return []
    import torch

    problems = []
    if torch.backends.cpu.get_cpu_capability() != "AVX2":
        problems.append(f"torch runs on {torch.backends.cpu.get_cpu_capability()}, not AVX2")
    branch = mkl_branch()
    if branch not in ("AVX2,STRICT", "unknown"):
        problems.append(f"MKL runs on {branch}, not AVX2,STRICT")
    if not 1 <= torch.get_num_threads() <= THREADS:
        problems.append(f"{torch.get_num_threads()} threads, not 1..{THREADS}")
    return problems


def pinned() -> bool:
    """Whether this process runs on the pinned code paths (wanted, and they hold)."""
    return wanted() and not check()


def mode() -> str:
    """ "exact" where the pins hold on a `verified_host`, else "tolerance" (see the module docstring)."""
    return "exact" if pinned() and verified_host() else "tolerance"


def require() -> None:
    """Raise NumericsError naming what is off when the pins should hold but do not (torch imported before
    ocr_core in a process started without them)."""
    problems = check()
    if problems:
        raise NumericsError(
            "pinned numerics are not in effect: " + "; ".join(problems) + ". Import ocr_core before torch, or "
            f"start Python with {' '.join(f'{k}={v}' for k, v in PINS.items())} OMP_NUM_THREADS={THREADS}; "
            f"{OPT_OUT}=native runs unpinned (numbers then differ between hosts)."
        )


def describe() -> str:
    """One line for a chapter's header."""
    import torch

    env = environment()
    paths = f"CPU paths {env['cpu_capability']} / MKL {env['mkl_cbwr']} / oneDNN {env['onednn_isa']}"
    why = "; pinned, but only an AMD host gives the book's bits" if pinned() and not verified_host() else ""
    return (
        f"Numerics: {env['mode']} mode ({paths}, {torch.get_num_threads()} threads{why}), torch {env['torch']}, "
        f"transformers {env['transformers']}, Python {sys.version.split()[0]}."
    )
