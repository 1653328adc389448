"""Notebook parameters are checked first, by one shared helper (`ocr_core.experiments.params.check_params`,
called in each notebook's first code cell): a single model name or seed means a list of one, and a wrong type
or value raises a ParameterError from that cell, naming the parameter, what was given and what is expected."""

from __future__ import annotations

import ast
import os
import time
from pathlib import Path

import pytest

import ocr_core
from ocr_core.errors import ParameterError
from ocr_core.experiments.params import check_param, check_params
from ocr_core.reporting.book import NOTEBOOKS
from ocr_core.reporting.notebooks import repo_root

ROOT = repo_root(Path(__file__).parent)
SRC = Path(ocr_core.__file__).resolve().parents[1]
CLOSED = "http://127.0.0.1:9"


def _parameters_and_first_cell(name: str) -> tuple[list[str], ast.Module]:
    import jupytext

    code = [c for c in jupytext.read(ROOT / "notebooks" / f"{name}.py").cells if c.cell_type == "code"]
    names = [n.targets[0].id for n in ast.parse(code[0].source).body if isinstance(n, ast.Assign)]
    return names, ast.parse(code[1].source)


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_every_notebook_checks_all_its_parameters_first(name):
    """Right after setup_notebook(): `a, b = check_params(a=a, b=b)` over every parameter, in order."""
    names, cell = _parameters_and_first_cell(name)
    body = [s for s in cell.body if not isinstance(s, ast.Import | ast.ImportFrom)]
    assert ast.unparse(body[0]) == "setup_notebook()"
    check = body[1]
    assert isinstance(check, ast.Assign) and ast.unparse(check.value.func) == "check_params", ast.unparse(check)
    targets = check.targets[0].elts if isinstance(check.targets[0], ast.Tuple) else [check.targets[0]]
    assert [t.id for t in targets] == names
    assert [(k.arg, ast.unparse(k.value)) for k in check.value.keywords] == [(n, n) for n in names]


def test_single_values_become_lists_and_valid_values_pass():
    assert check_params(models="tiny-llama", seeds=0, lrs=1e-4, lr=None, epochs=3) == (
        ["tiny-llama"],
        [0],
        [1e-4],
        None,
        3,
    )
    assert check_params(seeds=(0, 1), ablation_models=[], split=0.75, results=Path("out")) == ([0, 1], [], 0.75, "out")
    assert check_param("paper_models", "allenai/OLMo-7B-0424-hf") == ["allenai/OLMo-7B-0424-hf"]


@pytest.mark.parametrize(
    "params, message",
    [
        (dict(seeds="abc"), "parameter seeds: got 'abc'; expected seeds: integers >= 0"),
        (dict(seeds=[0, -1]), "parameter seeds: got [0, -1]; expected seeds"),
        (dict(seeds=[]), "parameter seeds: got []"),
        (dict(seed=True), "parameter seed: got True; expected a seed"),
        (dict(lr=-1), "parameter lr: got -1; expected a learning rate: a number > 0"),
        (dict(lr="1e-4"), "parameter lr: got '1e-4'"),
        (dict(lr=float("nan")), "parameter lr: got nan"),
        (dict(epochs=0), "parameter epochs: got 0; expected epochs: an integer >= 1"),
        (dict(epochs=1.5), "parameter epochs: got 1.5"),
        (dict(batch_size=0), "parameter batch_size: got 0"),
        (dict(split=1.0), "parameter split: got 1.0; expected a fraction"),
        (dict(n_counterfactuals=0), "parameter n_counterfactuals: got 0"),
        (dict(models=["tiny-llama", 3]), "parameter models: got ['tiny-llama', 3]; expected a model name"),
        (dict(paper="no/such/paper.json"), "parameter paper: no file 'no/such/paper.json'"),
    ],
)
def test_wrong_values_name_the_parameter_the_value_and_what_is_expected(params, message):
    with pytest.raises(ParameterError) as err:
        check_params(**params)
    assert str(err.value).startswith(message), str(err.value)


def test_unknown_model_is_a_parameter_error_with_the_ways_out(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ParameterError, match=r"^parameter models: model 'gemma-9000' \(did you mean 'gemma-3-270m'"):
        check_params(models=["gemma-9000"])
    with pytest.raises(TypeError, match="no rule for parameter 'modles'"):
        check_params(modles=["tiny-llama"])


# --- papermill: the notebooks themselves, in a fresh kernel (the kernel inherits this process's environment) ---


@pytest.fixture
def offline(monkeypatch, tmp_path):
    """No network (proxies at a closed port), an empty Hugging Face cache, this checkout's package."""
    for key in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "NO_PROXY", "no_proxy", "HF_ENDPOINT", "HF_HUB_CACHE"):
        monkeypatch.delenv(key, raising=False)
    for key in ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY"):
        monkeypatch.setenv(key, CLOSED)
        monkeypatch.setenv(key.lower(), CLOSED)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "empty_hf_home"))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(SRC), os.environ.get("PYTHONPATH")])))


def _execute(name: str, folder: Path, **parameters) -> tuple[Path, float]:
    """Execute notebooks/<name>.py with papermill into `folder`; returns the executed notebook and seconds."""
    import jupytext
    import papermill

    source = folder / f"{name}.ipynb"
    jupytext.write(jupytext.read(ROOT / "notebooks" / f"{name}.py"), source)
    out = folder / f"{name}.out.ipynb"
    started = time.perf_counter()
    papermill.execute_notebook(
        str(source), str(out), parameters=parameters, cwd=str(ROOT), kernel_name="python3", progress_bar=False
    )
    return out, time.perf_counter() - started


def test_one_model_name_and_one_seed_run_as_one_model_and_one_seed(offline, tmp_path):
    import json

    from ocr_core.tools.checked import checked_outputs

    results = tmp_path / "results"
    out, seconds = _execute("ocr_verification", tmp_path, models="tiny-llama", seeds=0, epochs=1, results=str(results))
    (_, box), (_, summary), (_, ablation), (_, verdicts) = checked_outputs(json.loads(out.read_text()))
    assert box.startswith("tiny-llama, first hop: implication rank")
    assert verdicts.splitlines()[0].split()[2] == "verdict" and "tiny-llama" in verdicts
    assert ablation.strip() == "(no ablation models)"  # the ablation runs for the embedded models only
    rows = [line.split() for line in summary.splitlines()]
    header, *data = rows
    assert header[:4] == ["model", "hop", "split", "n_seeds"] and len(data) == 4, rows
    assert all(r[0] == "tiny-llama" and r[3] == "1" for r in data), rows
    assert [p.name for p in (results / "ocr_verification").iterdir()] == ["tiny-llama"]
    assert seconds < 60, f"{seconds:.0f} s"


@pytest.mark.parametrize(
    "name, parameters, message",
    [
        ("ocr_verification", dict(seeds="abc"), "parameter seeds: got 'abc'; expected seeds: integers >= 0"),
        ("ocr_verification", dict(lr=-1), "parameter lr: got -1; expected a learning rate: a number > 0"),
        ("data_ordering", dict(models=["gemma-9000"]), "parameter models: model 'gemma-9000' (did you mean"),
        ("data_ordering", dict(epochs=0), "parameter epochs: got 0; expected epochs: an integer >= 1"),
    ],
    ids=["seeds-str", "lr-negative", "unknown-model", "epochs-0"],
)
def test_bad_parameters_fail_fast_in_the_first_code_cell(offline, tmp_path, name, parameters, message):
    """A kernel start and the imports take ~10 s here; hub retries would add 30 s and training much more."""
    from papermill.exceptions import PapermillExecutionError

    # A tiny model and cheap settings unless the case sets them: a missing check must not load a real model.
    parameters = {"models": "tiny-llama", "seeds": 0, "epochs": 1, "results": str(tmp_path / "results"), **parameters}
    started = time.perf_counter()
    with pytest.raises(PapermillExecutionError) as err:
        _execute(name, tmp_path, **parameters)
    assert err.value.ename == "ParameterError", err.value.evalue
    assert err.value.evalue.startswith(message), err.value.evalue
    assert "check_params(" in err.value.source and "setup_notebook()" in err.value.source
    assert not (tmp_path / "results").exists()
    assert time.perf_counter() - started < 30
