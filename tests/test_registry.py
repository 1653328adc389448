"""One name per experiment everywhere (ocr_core.experiments.registry), and reporting that reads, never trains."""

from __future__ import annotations

import argparse
import importlib
import re
import shlex
from pathlib import Path

import pytest

from ocr_core.experiments.registry import EXPERIMENTS, names
from ocr_core.reporting.book import NOTEBOOKS, REPORTS
from ocr_core.reporting.notebooks import repo_root

ROOT = repo_root(Path(__file__).parent)
NAMES = names()
OTHER_COMMANDS = {"models", "dynamics", "sweep", "plan", "numerics", "cache"}


def _subcommands() -> dict[str, argparse.ArgumentParser]:
    from ocr_core.cli import build_parser

    parser = build_parser()
    return next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices


def test_the_book_is_the_experiments_then_the_reports():
    assert len(set(NAMES)) == len(NAMES)
    assert (*NAMES, *REPORTS) == NOTEBOOKS


def test_every_notebook_source_is_a_chapter_and_back():
    assert sorted(p.stem for p in (ROOT / "notebooks").glob("*.py")) == sorted(NOTEBOOKS)


def test_toc_lists_the_chapters_in_book_order():
    toc = (ROOT / "_toc.yml").read_text()
    assert re.findall(r"file: book/chapters/(\w+)", toc) == list(NOTEBOOKS)


@pytest.mark.parametrize("experiment", EXPERIMENTS, ids=NAMES)
def test_module_results_folder_and_version(experiment):
    module = importlib.import_module(f"ocr_core.experiments.{experiment.name}")
    assert experiment.load() is module
    assert experiment.name == module.EXPERIMENT, "the results folder must be the experiment's name"
    assert isinstance(module.VERSION, int) and not isinstance(module.VERSION, bool)
    assert experiment.version == module.VERSION
    assert callable(experiment.entry()) and callable(getattr(module, experiment.table))


def test_cli_subcommands_are_the_experiments_names():
    commands = set(_subcommands())
    assert commands - OTHER_COMMANDS == {e.cli for e in EXPERIMENTS}
    assert {e.cli.replace("-", "_") for e in EXPERIMENTS} == set(NAMES)
    # the short names of before are gone: one name everywhere
    assert not commands & {"verify", "scores", "freezing", "ordering", "grafting", "localization", "installation"}


def test_derived_lists_come_from_the_registry():
    from ocr_core.reporting.summary import EXPERIMENTS as summarized
    from ocr_core.reporting.sweep import SWEEPABLE
    from ocr_core.tools.check import _experiments

    assert tuple(e.name for e in EXPERIMENTS if e.sweeps) == SWEEPABLE and set(SWEEPABLE) <= set(NAMES)
    assert list(_experiments()) == [e.name for e in EXPERIMENTS if e.check]
    assert summarized is EXPERIMENTS
    dynamics = _subcommands()["dynamics"]
    assert {a.dest for a in dynamics._actions} >= {"lr", "epochs", "batch_size", "embeddings", "seeds"}


# Reporting reads, never trains.


@pytest.fixture
def no_model(monkeypatch, tmp_path):
    """Loading a model fails the test; the results folder is empty."""
    import ocr_core.experiments.base as base

    def fail(*args, **kwargs):
        raise AssertionError("reporting loaded a model")

    monkeypatch.setattr(base, "load_model", fail)
    monkeypatch.setenv("OCR_CORE_CACHE", str(tmp_path / "cache"))
    return tmp_path / "results"


def _command(err) -> list[str]:
    return shlex.split(err.value.command)


@pytest.mark.parametrize(
    ("call", "command"),
    [
        ("headline", "prior-knowledge"),
        ("paper_comparison", "ocr-verification"),
        ("scale_rows", "ocr-verification"),
    ],
)
def test_aggregating_with_no_results_names_the_command_and_loads_nothing(no_model, call, command):
    from ocr_core.errors import UserError, describe
    from ocr_core.experiments.base import MissingResultError
    from ocr_core.reporting import scale, summary

    results = str(no_model)
    calls = {
        "headline": lambda: summary.headline("tiny-llama", seeds=[0, 1], results=results),
        "paper_comparison": lambda: summary.paper_comparison({}, ["tiny-llama"], seeds=[0, 1], results=results),
        "scale_rows": lambda: scale.scale_rows(["tiny-llama"], seeds=[0, 1], results=results),
    }
    with pytest.raises(MissingResultError) as err:
        calls[call]()
    expected = f"python -m ocr_core {command} --model tiny-llama"
    assert expected in str(err.value) and err.value.command.startswith(expected)
    argv = _command(err)
    assert argv[-2:] == ["--results", results]
    if command != "prior-knowledge":
        assert argv[argv.index("--seeds") + 1 : argv.index("--seeds") + 3] == ["0", "1"]
    assert not no_model.exists(), "reporting wrote into the results folder"
    assert isinstance(err.value, UserError) and "\n" not in describe(err.value)  # one line on the command line


@pytest.mark.parametrize(
    ("name", "kwargs", "options"),
    [
        ("prior_knowledge", {}, []),
        (
            "ocr_verification",
            dict(epochs=1, seeds=[0], hops=["first_hop"]),
            ["--epochs", "1", "--seeds", "0", "--hops", "first_hop"],
        ),
    ],
)
def test_the_named_command_computes_exactly_the_missing_result(monkeypatch, tmp_path, name, kwargs, options):
    """Run the command a MissingResultError names: afterwards the read-only call finds its result."""
    from ocr_core import cli
    from ocr_core.experiments.base import MissingResultError, read_only
    from ocr_core.experiments.registry import get

    monkeypatch.setenv("OCR_CORE_CACHE", str(tmp_path / "cache"))
    experiment, results = get(name), str(tmp_path / "results")
    with read_only(), pytest.raises(MissingResultError) as err:
        experiment.call("tiny-llama", results=results, progress=False, **kwargs)
    argv = _command(err)
    assert argv[:6] == ["python", "-m", "ocr_core", experiment.cli, "--model", "tiny-llama"]
    assert argv[6:] == [*options, "--results", results]
    assert cli.main([*argv[3:], "--quiet"]) == 0
    with read_only():
        run = experiment.call("tiny-llama", results=results, progress=False, **kwargs)
    assert run.done and run.records()


def test_compute_order_holds_every_experiment_once():
    from ocr_core.reporting.book import COMPUTE_ORDER

    assert sorted(COMPUTE_ORDER) == sorted(names()) and len(set(COMPUTE_ORDER)) == len(COMPUTE_ORDER)
    # a reader of cached deltas runs after their producer
    readers = ("implication_robustness", "extractive_scores", "layer_freezing")  # of the verification's deltas
    after = COMPUTE_ORDER.index("ocr_verification")
    assert sorted(COMPUTE_ORDER.index(n) for n in readers) == [after + 1, after + 2, after + 3]
    assert COMPUTE_ORDER.index("data_ordering") < COMPUTE_ORDER.index("weight_grafting")
    assert COMPUTE_ORDER.index("data_ordering") < COMPUTE_ORDER.index("grafting_localization")
