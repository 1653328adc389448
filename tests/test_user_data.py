"""Users' own hop files (`ocr_core.data.userdata`, README "Your own facts") in the OCR verification, the extractive
scores and layer freezing, from the command line (`--data`) and as the notebooks' `data` parameter.

The worked example (examples/my_hop.csv) runs end to end on tiny-llama; each wrong file stops the real CLI with
one line naming the file, the row and its text (exit status 2), before any training (no delta is written);
different content gives a different result folder.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

import ocr_core
from cli_output import one_error_line
from ocr_core.data.userdata import load_hop_file
from ocr_core.reporting.notebooks import repo_root

ROOT = repo_root(Path(__file__).parent)
SRC = Path(ocr_core.__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "my_hop.csv"
TINY = ("--model", "tiny-llama", "--epochs", "1", "--quiet")


def _env(cache: Path | None = None) -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(SRC), os.environ.get("PYTHONPATH")])))
    env.pop("OCR_CORE_DEBUG", None)
    if cache is not None:
        env["OCR_CORE_CACHE"] = str(cache)
    return env


def _cli(*args: str, cache: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ocr_core", *args],
        env=_env(cache),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )


def _records(results: Path, experiment: str) -> tuple[dict, list[dict]]:
    (run,) = (results / experiment / "tiny-llama").iterdir()
    return json.loads((run / "config.json").read_text()), json.loads((run / "records.json").read_text())


EXAMPLE_KEY = [dict(name="my_hop", sha256=load_hop_file(EXAMPLE).digest())]


def test_example_runs_end_to_end_from_the_command_line(tmp_path):
    results = tmp_path / "results"
    done = _cli("ocr-verification", *TINY, "--seeds", "0", "--data", str(EXAMPLE), "--results", str(results))
    assert done.returncode == 0, done.stderr[-3000:]
    assert "my_hop" in done.stdout and "first_hop" not in done.stdout, done.stdout
    config, records = _records(results, "ocr_verification")
    assert config["data"] == EXAMPLE_KEY and config["hops"] == []
    assert {(r["hop"], r["split"], r["epoch"]) for r in records} == {
        ("my_hop", split, epoch) for split in ("fact", "implication") for epoch in (0, 1)
    }
    # 12 cities (the facts' answers) and 16 countries (the implication_option rows): chance per split
    assert {(r["split"], r["chance"]) for r in records} == {("fact", 5.5), ("implication", 7.5)}
    assert all(len(r["ranks"]) == 12 for r in records)


def test_data_together_with_named_built_in_hops(tmp_path):
    """--data replaces the built-in hops unless --hops names some: then both run, built-in first."""
    results = tmp_path / "results"
    args = ("--seeds", "0", "--hops", "first_hop", "--data", str(EXAMPLE), "--results", str(results))
    done = _cli("ocr-verification", *TINY, *args)
    assert done.returncode == 0, done.stderr[-3000:]
    config, records = _records(results, "ocr_verification")
    assert config["hops"] == ["first_hop"] and config["data"] == EXAMPLE_KEY
    assert list(dict.fromkeys(r["hop"] for r in records)) == ["first_hop", "my_hop"]


def test_scores_take_data(tmp_path):
    results = tmp_path / "results"
    done = _cli("extractive-scores", *TINY, "--counterfactuals", "2", "--data", str(EXAMPLE), "--results", str(results))
    assert done.returncode == 0, done.stderr[-3000:]
    config, records = _records(results, "extractive_scores")
    assert config["data"] == EXAMPLE_KEY and config["hops"] == [] and config["n_counterfactuals"] == 2
    assert {r["hop"] for r in records} == {"my_hop"} and {r["score"] for r in records} == {
        "informative",
        "upstream",
        "downstream",
    }


def test_freezing_takes_data(tmp_path):
    results = tmp_path / "results"
    done = _cli("layer-freezing", *TINY, "--seeds", "0", "--data", str(EXAMPLE), "--results", str(results))
    assert done.returncode == 0, done.stderr[-3000:]
    assert "my_hop.implication" in done.stdout, done.stdout
    config, records = _records(results, "layer_freezing")
    assert config["data"] == EXAMPLE_KEY and config["hops"] == []
    assert {r["hop"] for r in records} == {"my_hop"} and len(records) == 6 * 2  # variants x splits


def test_a_different_file_gives_a_different_result_folder(tmp_path):
    from ocr_core.experiments.ocr_verification import verify

    text = EXAMPLE.read_text()
    same, other = tmp_path / "same" / "my_hop.csv", tmp_path / "other" / "my_hop.csv"
    for path, content in ((same, text), (other, text.replace(",Lisbon\n", ",Porto\n"))):
        path.parent.mkdir()
        path.write_text(content)
    kwargs = dict(epochs=1, seeds=(0,), results=tmp_path / "results", progress=False)
    first = verify("tiny-llama", data=EXAMPLE, **kwargs)
    assert verify("tiny-llama", data=same, **kwargs).path == first.path  # same name and content: reused
    changed = verify("tiny-llama", data=other, **kwargs)
    assert changed.path != first.path and changed.config["data"][0]["sha256"] != EXAMPLE_KEY[0]["sha256"]
    builtin = verify("tiny-llama", **kwargs)
    assert "data" not in builtin.config and builtin.config["hops"] == ["first_hop", "second_hop"]


# --- wrong files: one line naming the file and the row, exit status 2, nothing trained -----------------------


def _lines() -> list[str]:
    return EXAMPLE.read_text().splitlines()


def _edit(line: int, old: str, new: str) -> str:
    """The example with `old` replaced by `new` on `line` (1-based, the header is line 1)."""
    lines = _lines()
    assert old in lines[line - 1], (old, lines[line - 1])
    lines[line - 1] = lines[line - 1].replace(old, new, 1)
    return "\n".join(lines) + "\n"


def _drop(line: int) -> str:
    lines = _lines()
    del lines[line - 1]
    return "\n".join(lines) + "\n"


def _json_without(item: int, key: str) -> str:
    import csv

    rows = list(csv.DictReader(EXAMPLE.read_text().splitlines()))
    del rows[item - 1][key]
    return json.dumps(rows, indent=1)


MARA_FACT = "fact 'Mara Quill lives in the city of' -> 'Lisbon' (subject 'Mara Quill')"
MARA_IMPL = "implication 'Mara Quill lives in the country of'"
BAD_FILES = {
    # name: (file name, content, fragments of the one line; {dir}: the file's folder)
    "empty": ("my_hop.csv", "", ["{dir}/my_hop.csv: the file is empty"]),
    "header-only": ("my_hop.csv", "kind,subject,prompt,answer\n", ["{dir}/my_hop.csv: no rows"]),
    "missing-column": (
        "my_hop.csv",
        "\n".join(",".join(f for i, f in enumerate(line.split(",")) if i != 1) for line in _lines()),
        ["{dir}/my_hop.csv: missing column(s) 'subject'"],
    ),
    "extra-column": (
        "my_hop.csv",
        "\n".join(line + ("," + ("notes" if i == 0 else "")) for i, line in enumerate(_lines())),
        ["{dir}/my_hop.csv: unknown column(s) 'notes'"],
    ),
    "not-csv-or-json": ("my_hop.txt", EXAMPLE.read_text(), ["{dir}/my_hop.txt: a hop file must be .csv or .json"]),
    "json-invalid": ("my_hop.json", '[{"kind": "fact",', ["{dir}/my_hop.json: not valid JSON"]),
    "extra-field": ("my_hop.csv", _edit(2, "Lisbon", "Lisbon,Porto"), ["{dir}/my_hop.csv line 2: more fields than"]),
    "empty-answer": (
        "my_hop.csv",
        _edit(2, ",Lisbon", ","),
        ["{dir}/my_hop.csv line 2: fact 'Mara Quill lives in the city of' -> ''", "the answer is empty"],
    ),
    "option-with-prompt": (
        "my_hop.csv",
        _edit(26, ",,,Portugal", ",,Mara,Portugal"),
        ["{dir}/my_hop.csv line 26: implication_option 'Portugal': an option row takes only an answer, not a prompt"],
    ),
    "option-twice": (
        "my_hop.csv",
        EXAMPLE.read_text() + "implication_option,,,Spain\n",
        ["{dir}/my_hop.csv line 42: implication_option 'Spain' is listed twice (also line 33)"],
    ),
    "one-option": (
        "my_hop.csv",
        "\n".join(_lines()[:3]) + "\n",
        ["{dir}/my_hop.csv: the facts rank among 1 option(s) ['Lisbon']; give at least 2"],
    ),
    "unknown-kind": (
        "my_hop.csv",
        _edit(4, "fact,", "facts,"),
        ["{dir}/my_hop.csv line 4: kind 'facts' is not one of"],
    ),
    "implication-without-fact": (
        "my_hop.csv",
        _edit(3, ",Mara Quill,", ",Mara Quil,"),
        [f"{{dir}}/my_hop.csv line 3: {MARA_IMPL} -> 'Portugal' (subject 'Mara Quil') has no fact with its subject"],
    ),
    "fact-without-implication": (
        "my_hop.csv",
        _drop(3),
        [f"{{dir}}/my_hop.csv line 2: {MARA_FACT} has no implication with its subject"],
    ),
    "second-fact": (
        "my_hop.csv",
        EXAMPLE.read_text() + "fact,Mara Quill,Mara Quill lives in the city of,Oslo\n",
        ["{dir}/my_hop.csv line 42: fact", "a second fact for subject 'Mara Quill' (the first: line 2)"],
    ),
    "answer-not-an-option": (
        "my_hop.csv",
        _edit(3, "Portugal", "Portugul"),
        [f"{{dir}}/my_hop.csv line 3: {MARA_IMPL} -> 'Portugul'", "the answer is not among the implication options"],
    ),
    "white-space": (
        "my_hop.csv",
        _edit(2, "Lisbon", "Lisbon "),
        ["{dir}/my_hop.csv line 2: fact", "-> 'Lisbon '", "the answer starts or ends with white space"],
    ),
    "json-missing-key": (
        "my_hop.json",
        _json_without(3, "subject"),
        ["{dir}/my_hop.json item 3: missing key(s) 'subject'"],
    ),
    "built-in-name": (
        "first_hop.csv",
        EXAMPLE.read_text(),
        ["{dir}/first_hop.csv: a hop file cannot be named like the built-in hop 'first_hop'"],
    ),
    # against the model's tokenizer, after loading it and before training
    "colliding-options": (
        "my_hop.csv",
        _edit(2, "Lisbon", "New York").replace(",Oslo\n", ",New Delhi\n"),
        [
            "{dir}/my_hop.csv line 2, line 4: options whose first tokens collide",
            "['New York', 'New Delhi'] all start with",
        ],
    ),
    "word-boundary": (
        "my_hop.csv",
        _edit(2, "Lisbon", "Łódź"),
        [
            "{dir}/my_hop.csv line 2: 1 answers do not start at a word boundary",
            "'Mara Quill lives in the city of' -> 'Łódź'",
        ],
    ),
}


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> Path:
    """One delta cache for the wrong files: none of them may train (write a delta)."""
    return tmp_path_factory.mktemp("cache")


def _fails_with_one_line(done: subprocess.CompletedProcess, fragments: list[str]) -> str:
    return one_error_line(done, *fragments)


@pytest.mark.parametrize("case", BAD_FILES)
def test_wrong_file_is_one_line_naming_the_row_before_training(case, tmp_path, cache):
    name, content, fragments = BAD_FILES[case]
    bad = tmp_path / name
    bad.write_text(content, encoding="utf-8")
    results = tmp_path / "results"
    started = time.perf_counter()
    done = _cli("ocr-verification", *TINY, "--seeds", "0", "--data", str(bad), "--results", str(results), cache=cache)
    line = _fails_with_one_line(done, [f.replace("{dir}", str(tmp_path)) for f in fragments])
    print(f"{case} ({time.perf_counter() - started:.1f} s): {line}")
    assert not results.exists() and not (cache / "deltas").exists()


@pytest.mark.parametrize("command", ["extractive-scores", "layer-freezing"])
def test_scores_and_freezing_check_their_data_too(command, tmp_path, cache):
    name, content, fragments = BAD_FILES["implication-without-fact"]
    bad = tmp_path / name
    bad.write_text(content)
    done = _cli(command, *TINY, "--data", str(bad), "--results", str(tmp_path / "results"), cache=cache)
    _fails_with_one_line(done, ["argument --data: " + fragments[0].replace("{dir}", str(tmp_path))])


def test_too_few_counterfactuals_for_the_scores(tmp_path, cache):
    """Each of the 12 implications has 11 others with a different subject and answer: 12 cannot be sampled."""
    results = tmp_path / "results"
    done = _cli(
        "extractive-scores",
        *TINY,
        "--counterfactuals",
        "12",
        "--data",
        str(EXAMPLE),
        "--results",
        str(results),
        cache=cache,
    )
    line = _fails_with_one_line(done, [f"{EXAMPLE} line 3: {MARA_IMPL} -> 'Portugal'", "only 11 other implications"])
    assert "12" in line and not results.exists()


def test_missing_file_and_shared_names(tmp_path, cache):
    done = _cli("ocr-verification", *TINY, "--data", str(tmp_path / "nope.csv"), cache=cache)
    _fails_with_one_line(done, [f"argument --data: no file '{tmp_path / 'nope.csv'}'"])
    (tmp_path / "a").mkdir()
    copy = tmp_path / "a" / "my_hop.csv"
    copy.write_text(EXAMPLE.read_text())
    done = _cli("ocr-verification", *TINY, "--data", str(EXAMPLE), str(copy), cache=cache)
    _fails_with_one_line(done, ["argument --data: hop files share the name 'my_hop'"])


# --- papermill: the notebooks' `data` parameter ----------------------------------------------------------------


def _execute(name: str, folder: Path, **parameters) -> Path:
    import jupytext
    import papermill

    source = folder / f"{name}.ipynb"
    jupytext.write(jupytext.read(ROOT / "notebooks" / f"{name}.py"), source)
    out = folder / f"{name}.out.ipynb"
    papermill.execute_notebook(
        str(source), str(out), parameters=parameters, cwd=str(ROOT), kernel_name="python3", progress_bar=False
    )
    return out


@pytest.mark.parametrize(
    "name, parameters",
    [
        ("ocr_verification", dict(seeds=0)),
        ("extractive_scores", dict(n_counterfactuals=2, seeds=0)),
        ("layer_freezing", dict(seeds=0)),
    ],
)
def test_notebooks_take_data(name, parameters, tmp_path, monkeypatch):
    from ocr_core.tools.checked import checked_outputs

    monkeypatch.setenv("PYTHONPATH", _env()["PYTHONPATH"])
    results = tmp_path / "results"
    params = dict(models="tiny-llama", epochs=1, data=str(EXAMPLE), results=str(results), **parameters)
    out = _execute(name, tmp_path, **params)
    text = "\n".join(t for _, t in checked_outputs(json.loads(out.read_text())))
    assert "my_hop" in text and "first_hop" not in text and "second_hop" not in text, text
    (run,) = results.glob("*/tiny-llama/*")
    assert json.loads((run / "config.json").read_text())["data"] == EXAMPLE_KEY


@pytest.mark.parametrize(
    "case, ename, start",
    [
        ("implication-without-fact", "ParameterError", "parameter data: "),
        ("colliding-options", "DatasetTokenError", ""),
    ],
)
def test_wrong_data_fails_in_the_notebooks_first_cell(case, ename, start, tmp_path, monkeypatch, cache):
    from papermill.exceptions import PapermillExecutionError

    monkeypatch.setenv("PYTHONPATH", _env()["PYTHONPATH"])
    monkeypatch.setenv("OCR_CORE_CACHE", str(cache))
    name, content, fragments = BAD_FILES[case]
    bad = tmp_path / name
    bad.write_text(content)
    params = dict(models="tiny-llama", seeds=0, epochs=1, data=str(bad), results=str(tmp_path / "results"))
    with pytest.raises(PapermillExecutionError) as err:
        _execute("ocr_verification", tmp_path, **params)
    assert err.value.ename == ename, err.value.evalue
    fragments = [f.replace("{dir}", str(tmp_path)) for f in fragments]
    assert err.value.evalue.startswith(start + fragments[0]), err.value.evalue
    assert all(f in err.value.evalue for f in fragments[1:]), err.value.evalue
    assert "check_params(" in err.value.source and "setup_notebook()" in err.value.source
    assert not (tmp_path / "results").exists() and not (cache / "deltas").exists()
