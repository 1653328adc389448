"""Pinned numerics: pins in effect in this process, in papermill kernels and in the CLI; unpinned processes
are refused or keyed apart; the project's own training path gives the committed digest on any pinned host;
the tolerance-mode comparison of checked chapter outputs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ocr_core import numerics
from ocr_core.tools.checked import checked_outputs, compare_text

ROOT = Path(__file__).resolve().parents[1]
pinned_only = pytest.mark.skipif(not numerics.wanted(), reason=f"cannot pin here: {numerics.describe()}")
# exact mode on a pinned AMD host; tolerance mode on an Intel one (the pins hold there too)
EXPECTED_MODE = "exact" if numerics.verified_host() else "tolerance"

# sha256 (16 hex) of the delta of `_digest_finetune` and its per-step losses, computed on a pinned host
# (AMD EPYC, AVX2, no AVX-512; the same on an AMD EPYC with AVX-512). Every pinned AMD host must give the
# same bits; pinned Intel hosts did not (numerics module docstring).
SMOLLM2_DELTA_DIGEST = "ab6039d4b0ba19dd"
SMOLLM2_LOSSES = ("6.806756020e+00",)


def _unpinned_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {*numerics.PINS, *numerics.THREAD_VARS}}
    return dict(env, OCR_CORE_NUMERICS="native")


@pinned_only
def test_this_process_runs_pinned():
    import torch

    env = numerics.environment()
    assert env["mode"] == EXPECTED_MODE
    assert (env["cpu_capability"], env["mkl_cbwr"], torch.get_num_threads()) == ("AVX2", "AVX2,STRICT", 2)
    assert "threads" not in env  # the same bits at 1 and 2 threads: not part of a key
    assert numerics.check() == []


@pinned_only
def test_papermill_kernel_runs_pinned_even_when_it_imports_torch_first(tmp_path):
    """The kernel inherits the pins from the process that starts it: torch is imported before ocr_core."""
    import nbformat
    import papermill

    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("import torch\nx = torch.randn(64, 64) @ torch.randn(64, 64)"),
        nbformat.v4.new_code_cell(
            "import json\nfrom ocr_core import numerics\n"
            "print(json.dumps(dict(numerics.environment(), threads=torch.get_num_threads())))"
        ),
    ]
    source, out = tmp_path / "probe.ipynb", tmp_path / "probe.out.ipynb"
    nbformat.write(nb, source)
    papermill.execute_notebook(str(source), str(out), progress_bar=False, kernel_name="python3", cwd=str(tmp_path))
    env = json.loads(json.loads(out.read_text())["cells"][1]["outputs"][0]["text"][0])
    assert env["mode"] == EXPECTED_MODE, env
    assert (env["cpu_capability"], env["mkl_cbwr"], env["threads"]) == ("AVX2", "AVX2,STRICT", numerics.THREADS)


@pinned_only
def test_process_that_computed_before_importing_ocr_core_is_refused_and_keyed_apart():
    code = (
        "import torch, warnings; warnings.simplefilter('ignore')\n"
        "torch.randn(64, 64) @ torch.randn(64, 64)\n"  # MKL reads MKL_CBWR at its first call
        "from ocr_core import numerics\n"
        "from ocr_core.store.results import RunDir\n"
        "print(numerics.mode(), RunDir('r', 'e', 'm', {}).config['numerics']['mkl_cbwr'])\n"
        "numerics.require()\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in {*numerics.PINS, *numerics.THREAD_VARS}}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert done.stdout.split() == ["tolerance", "unpinned"]
    # MKL is named whatever else the host's CPU adds (an AVX-512 host also names torch's own code path first)
    assert "pinned numerics are not in effect: " in done.stderr and "MKL runs on unpinned" in done.stderr


def test_an_intel_host_runs_pinned_in_tolerance_mode(monkeypatch):
    """The pins hold on an Intel host but its training differs from the book's: not exact mode. An AMD host
    is verified with or without AVX-512."""
    avx2 = "fpu sse2 avx fma avx2"
    monkeypatch.setattr(numerics, "host_can_pin", lambda: True)
    for vendor, flags, verified in (
        ("AuthenticAMD", avx2, True),
        ("AuthenticAMD", avx2 + " avx512f avx512bw", True),
        ("GenuineIntel", avx2, False),
        ("GenuineIntel", avx2 + " avx512f avx512bw amx_tile", False),
        ("", avx2, False),
    ):
        monkeypatch.setattr(numerics, "cpu_info", lambda field, v=vendor, f=flags: {"vendor_id": v, "flags": f}[field])
        assert numerics.verified_host.__wrapped__() == verified, (vendor, flags)
    monkeypatch.setattr(numerics, "pinned", lambda: True)
    for verified, expected in ((True, "exact"), (False, "tolerance")):
        monkeypatch.setattr(numerics, "verified_host", lambda v=verified: v)
        assert numerics.mode() == expected
        assert "threads" not in numerics.environment()  # pinned: 1 and 2 threads are the same key
    assert "pinned, but only an AMD host gives the book's bits" in numerics.describe()


def test_opting_out_runs_in_tolerance_mode():
    code = "from ocr_core import numerics; numerics.require(); print(numerics.mode())"
    done = subprocess.run([sys.executable, "-c", code], env=_unpinned_env(), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "tolerance"


def test_results_and_deltas_record_the_numeric_environment(tmp_path):
    from ocr_core.store.results import RunDir

    run = RunDir(tmp_path, "exp", "tiny-llama", {"lr": 1e-3})
    assert run.config["numerics"] == numerics.environment()
    run.write([{"x": 1}])
    assert json.loads((run.path / "config.json").read_text())["numerics"]["mode"] == numerics.mode()
    assert json.loads((run.path / "provenance.json").read_text())["machine"]
    # another numeric environment is another result folder
    other = dict(run.config["numerics"], mkl_cbwr="unpinned")
    from ocr_core.store.keys import digest

    assert digest(dict(run.config, numerics=other)) != digest(run.config)


def _digest_finetune(smollm):
    from ocr_core import finetune, first_hop
    from ocr_core.arch.trainable import Trainable

    model, tok = smollm
    facts = first_hop(0).facts.subset(range(8))
    everything = Trainable(embeddings=True)  # what the digest was first taken of: blocks, embeddings, final norm
    return finetune(model, tok, facts, lr=1e-4, epochs=1, batch_size=4, seed=0, trainable=everything, progress=False)


def _digest(result) -> tuple[str, tuple[str, ...]]:
    return result.delta.content_hash(), tuple(f"{x:.9e}" for x in result.losses)


@pytest.fixture(scope="module")
def host_digest(smollm):
    """This host's digest of `_digest_finetune`, run once for the module."""
    return _digest(_digest_finetune(smollm))


@pytest.mark.slow
@pinned_only
@pytest.mark.skipif(not numerics.verified_host(), reason="the committed digest is an AMD host's (tolerance mode)")
def test_training_path_gives_the_committed_digest(host_digest):
    """A short real SmolLM2-135M finetune through ocr_core (2 Adam steps): a verified host whose pinned
    training differs in a single bit is named here, not by nbval 20 minutes later."""
    from ocr_core.store.results import provenance

    assert host_digest == (SMOLLM2_DELTA_DIGEST, SMOLLM2_LOSSES), (
        f"this host's pinned training differs from the committed digest: {host_digest}; host "
        f"{provenance()['cpu']}; {numerics.describe()}"
    )


@pytest.mark.slow
@pinned_only
def test_training_path_is_near_the_committed_losses_and_repeats_its_bits(smollm, host_digest):
    """On any pinned host (an Intel one too) the same finetune's loss is the committed one to 1e-5 relative,
    and a second run gives this host's bits again."""
    losses = [float(x) for x in host_digest[1]]
    committed = [float(x) for x in SMOLLM2_LOSSES]
    assert losses == pytest.approx(committed, rel=1e-5), (host_digest, numerics.describe())
    assert _digest(_digest_finetune(smollm)) == host_digest


_ONE_THREAD_DIGEST = """
import json, sys
sys.path.insert(0, {tests!r})
import torch
from ocr_core import numerics
from ocr_core.models.loading import load_model
from test_numerics import _digest, _digest_finetune
digest, losses = _digest(_digest_finetune(load_model("smollm2-135m", progress=False)))
print(json.dumps([torch.get_num_threads(), numerics.environment(), digest, losses]))
"""


@pytest.mark.slow
@pinned_only
def test_one_thread_gives_the_same_bits_and_the_same_keys(host_digest):
    """A book worker runs with 1 thread (OCR_CORE_THREADS=1): same delta, same losses, same numeric key as 2
    threads on this host (on a verified host these are the committed digest, tested above)."""
    code = _ONE_THREAD_DIGEST.format(tests=str(Path(__file__).parent))
    env = dict(os.environ, OCR_CORE_THREADS="1")
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    threads, env_key, digest, losses = json.loads(done.stdout.strip().splitlines()[-1])
    assert threads == 1
    assert env_key == numerics.environment()
    assert (digest, tuple(losses)) == host_digest


def test_threads_follow_the_workers_file(tmp_path):
    path = tmp_path / "threads"
    env = {numerics.THREADS_VAR: "1", numerics.THREADS_FILE_VAR: str(path)}
    assert numerics.threads(env) == 1  # no file yet: the variable
    path.write_text("2\n")
    assert numerics.threads(env) == 2
    path.write_text("3")
    with pytest.raises(numerics.NumericsError, match=r"1\.\.2"):
        numerics.threads(env)
    assert numerics.threads({}) == numerics.THREADS


def test_tolerance_compare_accepts_small_number_changes_and_rejects_others():
    table = "model  hop  before  after\ngemma  first  9.72  0.87\n"
    assert compare_text(table, table.replace("0.87", "0.95"), 0.5) == []
    too_far = compare_text(table, table.replace("0.87", "1.50"), 0.5)
    assert too_far == ["number 2: expected 0.87, got 1.5 (tolerance 0.5)"]
    assert compare_text("x: strong OCR 0.5", "x: partial OCR 0.5", 0.5)[0].startswith("the words differ")
    assert compare_text("a 1 b", "a 1 b 2", 0.5)  # a number more
    assert compare_text("gap inf nan", "gap inf nan", 0.5) == []  # inf - inf is nan: equal values agree
    assert compare_text("gap inf", "gap 3.0", 0.5)
    assert compare_text("nan", "nan", 0.5) == []


def test_checked_outputs_reads_the_marked_cells_of_a_committed_chapter():
    chapter = json.loads((ROOT / "book" / "chapters" / "ocr_verification.ipynb").read_text())
    outputs = checked_outputs(chapter)
    assert len(outputs) == 4 and all("implication" in text for _, text in outputs[:3])  # verdict box, 2 tables
    assert "change" in outputs[3][1] and "verdict" in outputs[3][1]
