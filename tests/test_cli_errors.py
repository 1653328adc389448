"""User errors on the command line: one line on stderr (`ocr_core: error: ...`), exit status 2, no traceback,
decided fast with no network; `--debug` (or OCR_CORE_DEBUG=1) shows the traceback instead.

The real CLI runs in a subprocess on a machine made offline: HTTP(S)_PROXY point at a closed local port (any
attempt to reach the hub is refused), HF_HOME is an empty folder (nothing cached) and HF_HUB_OFFLINE is unset,
so the fast answer comes from the reachability check itself, not from an offline switch.

Time bound: each bad command must finish within 2 s of a `python -m ocr_core numerics` run measured in the same
environment (the slower of two runs, for the noise of a busy machine). Both import the same modules (torch and
transformers, ~3-5 s here), so the difference is the command's own work; the failure this guards against, hub
retries, takes ~30 s.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

import ocr_core
from cli_output import one_error_line

SRC = Path(ocr_core.__file__).resolve().parents[1]
CLOSED = "http://127.0.0.1:9"  # the discard port: nothing listens, connections are refused at once
OWN_WORK_S = 2.0


@pytest.fixture(scope="module")
def offline(tmp_path_factory) -> dict[str, str]:
    """Environment of a machine without network and with an empty Hugging Face cache."""
    env = {k: v for k, v in os.environ.items() if k.upper() not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
    for key in ("NO_PROXY", "no_proxy", "OCR_CORE_DEBUG", "HF_ENDPOINT", "HF_HUB_CACHE"):
        env.pop(key, None)
    for key in ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY"):
        env[key] = env[key.lower()] = CLOSED
    env["HF_HOME"] = str(tmp_path_factory.mktemp("empty_hf_home"))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SRC), env.get("PYTHONPATH")]))
    return env


def _cli(env: dict[str, str], *args: str) -> tuple[subprocess.CompletedProcess, float]:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "ocr_core", *args], env=env, capture_output=True, text=True, timeout=300
    )
    return done, time.perf_counter() - started


@pytest.fixture(scope="module")
def baseline(offline) -> float:
    """Seconds of `python -m ocr_core numerics` (import and a trivial command), the slower of two runs."""
    times = []
    for _ in range(2):
        done, seconds = _cli(offline, "numerics")
        assert done.returncode == 0, done.stderr
        times.append(seconds)
    return max(times)


def _fails_clearly(done: subprocess.CompletedProcess, seconds: float, baseline: float, *expected: str) -> str:
    """The one stderr line of a user error, after checking status 2, no traceback and the time bound."""
    line = one_error_line(done, *expected)
    assert seconds < baseline + OWN_WORK_S, f"took {seconds:.1f} s, baseline {baseline:.1f} s: {line}"
    return line


WAYS_OUT = ("gemma-3-270m", "smollm2-135m", "tiny-llama", "local folder", "HF_HOME", "cannot be reached")


def test_typo_model_fails_fast_and_names_the_alternatives(offline, baseline, tmp_path):
    done, seconds = _cli(offline, "ocr-verification", "--model", "gemma-9000", "--results", str(tmp_path))
    line = _fails_clearly(done, seconds, baseline, "argument --model: model 'gemma-9000'", *WAYS_OUT)
    assert "did you mean 'gemma-3-270m'?" in line


@pytest.mark.parametrize(
    "args, prefix",
    [
        # any hub id: refused by the argument check
        (
            ["ocr-verification", "--model", "someorg/some-model"],
            "ocr_core: error: argument --model: model 'someorg/some-model'",
        ),
        # one of the paper's models passes the argument check (its results may come from a GPU machine) and is
        # refused by the memory planner, the first step that needs its files
        (
            ["ocr-verification", "--model", "meta-llama/Meta-Llama-3-8B"],
            "ocr_core: error: model 'meta-llama/Meta-Llama-3-8B'",
        ),
        (["plan", "--model", "meta-llama/Meta-Llama-3-8B"], "ocr_core: error: model 'meta-llama/Meta-Llama-3-8B'"),
    ],
    ids=["any-hub-id", "paper-model-verify", "paper-model-plan"],
)
def test_uncached_hub_id_fails_fast_offline(offline, baseline, tmp_path, args, prefix):
    extra = ["--results", str(tmp_path), "--quiet"] if args[0] == "ocr-verification" else []
    done, seconds = _cli(offline, *args, *extra)
    line = _fails_clearly(done, seconds, baseline, "not in the Hugging Face cache", *WAYS_OUT)
    assert line.startswith(prefix), line


@pytest.mark.parametrize(
    "args, expected",
    [
        (["--epochs", "0"], "argument --epochs: got 0; expected epochs: an integer >= 1"),
        (["--lr", "-1"], "argument --lr: got -1.0; expected a learning rate: a number > 0"),
        (["--batch-size", "0"], "argument --batch-size: got 0; expected a batch size: an integer >= 1"),
        (["--seeds", "0", "-1"], "argument --seeds: got [0, -1]; expected seeds: integers >= 0"),
        (["--seeds"], "argument --seeds: expected at least one argument"),
    ],
    ids=["epochs-0", "lr-negative", "batch-size-0", "negative-seed", "no-seeds"],
)
def test_bad_settings_fail_before_loading(offline, baseline, tmp_path, args, expected):
    # Cheap valid settings first (the bad one overrides them), so that a missing check costs seconds, not minutes.
    cheap = ["--model", "tiny-llama", "--seeds", "0", "--epochs", "1", "--hops", "first_hop", "--quiet"]
    done, seconds = _cli(offline, "ocr-verification", *cheap, *args, "--results", str(tmp_path))
    _fails_clearly(done, seconds, baseline, expected)
    assert not any(tmp_path.iterdir()), "a run started"


@pytest.mark.parametrize(
    "args, env",
    [
        (["--debug", "ocr-verification"], {}),
        (["ocr-verification", "--debug"], {}),
        (["ocr-verification"], {"OCR_CORE_DEBUG": "1"}),
    ],
    ids=["global-flag", "command-flag", "environment"],
)
def test_debug_shows_the_traceback(offline, tmp_path, args, env):
    done, _ = _cli(dict(offline, **env), *args, "--model", "tiny-llama", "--epochs", "0", "--results", str(tmp_path))
    assert done.returncode != 0
    assert "Traceback (most recent call last)" in done.stderr, done.stderr[-3000:]
    assert "ocr_core.errors.ParameterError: argument --epochs: got 0" in done.stderr
    assert "ocr_core: error:" not in done.stderr


def test_model_that_does_not_fit_is_one_line(monkeypatch, capsys, tmp_path):
    """MemoryPlanError through the same handler (in-process: the free memory is made to be 1 MiB)."""
    from ocr_core import cli
    from ocr_core.models import memory

    monkeypatch.setattr(memory, "available_bytes", lambda device: 2**20)
    monkeypatch.setenv("OCR_CORE_DEVICE", "cpu")  # restored afterwards (main exports --device to the environment)
    status = cli.main(["ocr-verification", "--model", "tiny-llama", "--results", str(tmp_path), "--quiet"])
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2 and len(err) == 1, err
    assert err[0].startswith("ocr_core: error: memory plan: needs ") and "this machine's memory has 0.0 GiB" in err[0]
    assert not any(tmp_path.iterdir()), "a run started"


def test_reachability_probe_goes_through_the_proxy(monkeypatch):
    from ocr_core.models import hub

    for key in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "NO_PROXY", "no_proxy", "HF_ENDPOINT"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("HTTPS_PROXY", CLOSED)
    monkeypatch.setenv("https_proxy", CLOSED)
    assert hub._hub_address() == ("127.0.0.1", 9)
    started = time.perf_counter()
    assert not hub.hub_reachable()
    assert time.perf_counter() - started < 1.5
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert not hub.hub_reachable()


def test_tiny_model_names_are_the_tiny_models():
    """presets.TINY_MODELS (checked names, no model code imported) lists exactly what ocr_core.models.tiny builds."""
    from ocr_core.models.presets import TINY_MODELS
    from ocr_core.models.tiny import TINY_ARCHS

    assert sorted(TINY_MODELS) == sorted(TINY_ARCHS) == list(TINY_MODELS)
