"""Result and delta keys come from what determines them and explicit version constants: a rewrapped docstring or
a reformatted module keeps every key, a bumped version changes them, and the key lock fails, saying what to do,
when the code behind a version changed without a bump (`python -m ocr_core.tools.lock`)."""

import ast
import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

from ocr_core.store import fingerprint as fp
from ocr_core.store import keys
from ocr_core.store.results import RunDir
from ocr_core.tools import lock

FINETUNE = fp.package_root() / "training" / "finetune.py"
FORMULA = "result.losses.append(total / len(examples))"


def test_the_key_lock_matches_the_code():
    found = lock.problems(lock.read(lock.default_lock()), lock.units())
    assert found == [], "\n".join(found)


def test_docstrings_comments_and_layout_leave_a_fingerprint_alone():
    source = FINETUNE.read_text()
    doc = ast.get_docstring(ast.parse(source), clean=False)
    rewrapped = source.replace(doc, textwrap.fill(doc, 50), 1)
    commented = rewrapped.replace("\n\n\ndef ", "\n\n\n# a new comment\ndef ")
    reformatted = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--line-length", "79", "-"],
        input=commented,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert reformatted != source and rewrapped != source
    assert fp.source_fingerprint(reformatted) == fp.source_fingerprint(source)
    assert FORMULA in source
    changed = source.replace(FORMULA, "result.losses.append(total / len(examples) / 2)")
    assert fp.source_fingerprint(changed) != fp.source_fingerprint(source)


def test_a_version_bump_changes_result_and_delta_keys(monkeypatch, tmp_path):
    from ocr_core import first_hop, load_model
    from ocr_core.training.finetune import cached_finetune

    monkeypatch.setenv("OCR_CORE_CACHE", str(tmp_path))
    before = RunDir(tmp_path, "exp", "tiny-llama", {"lr": 1e-3}, version=1).path
    assert RunDir(tmp_path, "exp", "tiny-llama", {"lr": 1e-3}, version=1).path == before
    assert RunDir(tmp_path, "exp", "tiny-llama", {"lr": 1e-3}, version=2).path != before
    model, tok = load_model("tiny-llama", progress=False)
    facts = first_hop(0).facts.subset(range(4))
    kwargs = dict(model_name="tiny-llama", lr=1e-3, epochs=1, batch_size=4, progress=False)
    cached_finetune(model, tok, facts, **kwargs)
    for name in ("TRAINING_VERSION", "SCORING_VERSION"):
        monkeypatch.setattr(keys, name, getattr(keys, name) + 1)
        assert RunDir(tmp_path, "exp", "tiny-llama", {"lr": 1e-3}, version=1).path != before
    cached_finetune(model, tok, facts, **kwargs)
    metas = sorted((tmp_path / "deltas" / "tiny-llama").glob("*.json"))
    assert len(metas) == 2  # the bumped TRAINING_VERSION trained anew under another key
    meta = json.loads(metas[0].read_text())
    assert {"key", "provenance", "sha256"} <= set(meta) and meta["key"]["model"] == "tiny-llama"
    assert {"commit", "packages", "fingerprints"} <= set(meta["provenance"])


_PROBE = """
import json
from ocr_core.store import fingerprint as fp
from ocr_core.store.results import RunDir
from ocr_core.tools import lock
print(json.dumps(dict(
    problems=lock.problems(lock.read(__import__("pathlib").Path({lock_path!r})), lock.units()),
    training=sorted(fp.training_modules()),
    path=str(RunDir("r", "exp", "tiny-llama", {{"lr": 1e-3}}, version=1).path),
)))
"""


def _probe(tmp_path: Path, edit) -> dict:
    """Copy the package, let `edit(package_folder)` change it, and report its lock problems, its training
    modules and a RunDir path, from a fresh interpreter importing the copy."""
    copy = tmp_path / "src" / "ocr_core"
    shutil.copytree(fp.package_root(), copy, ignore=shutil.ignore_patterns("__pycache__"))
    edit(copy)
    code = _PROBE.format(lock_path=str(lock.default_lock()))
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(copy.parent), "OCR_CORE_CACHE": str(tmp_path / "cache")}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_rewrap_keeps_the_lock_and_every_key(tmp_path):
    def rewrap(pkg: Path) -> None:
        path = pkg / "training" / "finetune.py"
        source = path.read_text()
        doc = ast.get_docstring(ast.parse(source), clean=False)
        path.write_text("# reworded\n" + source.replace(doc, textwrap.fill(doc, 40), 1))

    got = _probe(tmp_path, rewrap)
    assert got["problems"] == []
    assert got["path"] == str(RunDir("r", "exp", "tiny-llama", {"lr": 1e-3}, version=1).path)


def test_a_changed_formula_or_a_new_import_without_a_bump_fails_the_lock(tmp_path):
    def change(pkg: Path) -> None:
        path = pkg / "training" / "finetune.py"
        source = path.read_text()
        assert FORMULA in source
        source = source.replace(FORMULA, "result.losses.append(helper.mean(total, len(examples)))")
        path.write_text(
            source.replace(
                "    examples = _examples(train)\n",
                "    from ocr_core.training import helper\n\n    examples = _examples(train)\n",
                1,
            )
        )
        (pkg / "training" / "helper.py").write_text("def mean(total, n):\n    return total / n\n")

    got = _probe(tmp_path, change)
    assert "ocr_core.training.helper" in got["training"]  # a newly imported module is inside the fingerprint
    (problem,) = [p for p in got["problems"] if p.startswith("training:")]
    assert "ocr_core.training.finetune" in problem and "ocr_core.training.helper" in problem
    assert "bump TRAINING_VERSION in ocr_core/store/keys.py" in problem and "python -m ocr_core.tools.lock" in problem
