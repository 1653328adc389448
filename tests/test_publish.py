"""Publishing: the Pages workflow (validated here; it cannot run on this machine), the site configuration it
applies, the citation files, and the reader view of the committed chapters (no code shown by default)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
import yaml

from ocr_core.reporting.book import NOTEBOOKS
from ocr_core.reporting.notebooks import reader_tags, repo_root

ROOT = repo_root(Path(__file__).parent)
WORKFLOW = ROOT / ".github" / "workflows" / "book.yml"


def _site_config():
    spec = importlib.util.spec_from_file_location("site_config", ROOT / "scripts" / "site_config.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_workflow_builds_the_committed_chapters_and_deploys_them_to_pages():
    flow = yaml.safe_load(WORKFLOW.read_text())
    triggers = flow[True] if True in flow else flow["on"]  # YAML 1.1 reads the key `on` as True
    assert triggers["push"]["branches"] == ["main"]
    assert flow["permissions"]["pages"] == "write" and flow["permissions"]["id-token"] == "write"
    build, deploy = flow["jobs"]["build"], flow["jobs"]["deploy"]
    runs = "\n".join(step.get("run", "") for step in build["steps"])
    uses = [step.get("uses", "") for step in build["steps"]]
    assert 'scripts/site_config.py "${{ github.repository }}"' in runs
    assert "scripts/vendor_vega.sh" in runs and "jupyter-book build ." in runs
    # no training, no tests, no model weights: the HTML of the committed executed notebooks only
    for forbidden in ("make book", "ocr_core.reporting.book", "pytest", "papermill", "torch", "[models"):
        assert forbidden not in runs
    artifact = next(step for step in build["steps"] if step.get("uses", "").startswith("actions/upload-pages-artifact"))
    assert artifact["with"]["path"] == "_build/html"
    assert any(u.startswith("actions/checkout") for u in uses)
    assert deploy["needs"] == "build" and deploy["environment"]["name"] == "github-pages"
    assert deploy["steps"][0]["uses"].startswith("actions/deploy-pages")


def test_site_config_points_the_book_at_its_repository():
    site = _site_config()
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    new, url = site.site_config(config, "Some-Owner/extractive-book")
    assert url == "https://some-owner.github.io/extractive-book/"
    assert new["repository"]["url"] == "https://github.com/Some-Owner/extractive-book"
    assert new["html"]["baseurl"] == url and new["html"]["use_repository_button"] is True
    assert new["launch_buttons"]["binderhub_url"] and new["launch_buttons"]["colab_url"]
    assert new["sphinx"] == config["sphinx"]  # everything else is kept
    with pytest.raises(SystemExit):
        site.site_config(config, "not a repository")


def test_citation_files_cite_the_paper():
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert cff["cff-version"] == "1.2.0"
    assert cff["preferred-citation"]["title"].startswith("Extractive Structures Learned in Pretraining")
    bib = (ROOT / "book" / "references.bib").read_text()
    assert "@inproceedings{feng2025extractive" in bib and "2412.04614" in bib
    assert "book/references" in (ROOT / "_toc.yml").read_text()
    assert "references.bib" in (ROOT / "_config.yml").read_text()


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_chapters_hide_their_code_and_drop_the_parameters(name):
    nb = json.loads((ROOT / "book" / "chapters" / f"{name}.ipynb").read_text())
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        tags = cell["metadata"].get("tags", [])
        shown = [t for t in tags if t in ("remove-cell", "remove-input", "hide-input")]
        assert len(shown) == 1, f"{name}: a code cell without exactly one reader tag: {tags}"
        if {"parameters", "injected-parameters"} & set(tags):
            assert shown == ["remove-cell"]
    assert sum("remove-input" in c["metadata"].get("tags", []) for c in nb["cells"]) == 1  # the setup cell


def test_reader_tags_are_idempotent_and_respect_show_input():
    nb = dict(
        cells=[
            dict(cell_type="code", metadata=dict(tags=["parameters"])),
            dict(cell_type="markdown", metadata={}),
            dict(cell_type="code", metadata={}),
            dict(cell_type="code", metadata=dict(tags=["show-input"])),
            dict(cell_type="code", metadata={}),
            dict(cell_type="code", metadata=dict(tags=["remove-cell"])),
        ]
    )
    once = reader_tags(json.loads(json.dumps(nb)))
    twice = reader_tags(json.loads(json.dumps(once)))
    assert once == twice
    tags = [c["metadata"].get("tags") for c in once["cells"]]
    expected = [["parameters", "remove-cell"], None, ["remove-input"], ["show-input"], ["hide-input"], ["remove-cell"]]
    assert tags == expected


def test_tables_render_html_with_badges_and_plain_text_for_nbval():
    import re

    import pandas as pd

    from ocr_core.reporting.tables import Table, VerdictBox, badge

    frame = pd.DataFrame(dict(model=["m", "n"], after=[1.23456, 9.0], verdict=["OCR", "no clear effect"]))
    table = Table(frame, "Table 1. x")
    assert repr(table) == frame.round(2).to_string(index=False)
    html = table._repr_html_()
    assert "<caption>Table 1. x</caption>" in html and "1.23" in html and "1.2346" not in html
    assert 'verdict-ok">OCR<' in html and 'verdict-na">no clear effect<' in html
    assert "verdict-no" in badge("does not reproduce (no clear effect)") and "verdict-ok" in badge("reproduces")
    commands = Table(pd.DataFrame(dict(model=["m"], command=["python -m ocr_core x --model a/b<c"])))._repr_html_()
    code = re.search(r'<code class="book-command">(.*?)</code>', commands).group(1)
    assert re.sub(r"<[^>]+>", "", code) == "python -m ocr_core x --model a/b&lt;c"  # escaped code, words intact
    assert '<span class="book-word">--model</span>' in code  # it breaks between words only
    box = VerdictBox([("m, first hop", "OCR"), ("n, first hop", "rose")], title="Verdict")
    assert repr(box) == "m, first hop: OCR\nn, first hop: rose"
    assert 'class="admonition' in box._repr_html_() and "verdict-no" in box._repr_html_()
