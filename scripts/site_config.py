"""Point the book at the GitHub repository it is published from: `python scripts/site_config.py OWNER/REPO`.

Sets, in _config.yml, the repository (for the repository, launch and download buttons), the site's base URL
(https://OWNER.github.io/REPO/) and the launch buttons (Binder, Colab). The publishing workflow runs it with
the repository it runs in; `make publish REPO=OWNER/REPO` runs it by hand. Prints the site's URL.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import yaml

CONFIG = Path(__file__).resolve().parent.parent / "_config.yml"


def site_config(config: dict, repository: str) -> tuple[dict, str]:
    if not re.fullmatch(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+", repository):
        raise SystemExit(f"expected OWNER/REPO, got {repository!r}")
    owner, name = repository.split("/")
    url = f"https://{owner.lower()}.github.io/{name}/"
    config = dict(config)
    config["repository"] = dict(url=f"https://github.com/{repository}", branch="main", path_to_book="")
    html = dict(config.get("html") or {})
    html.update(baseurl=url, use_repository_button=True, use_issues_button=False)
    config["html"] = html
    config["launch_buttons"] = dict(
        notebook_interface="classic",
        binderhub_url="https://mybinder.org",
        colab_url="https://colab.research.google.com",
    )
    return config, url


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        raise SystemExit(__doc__)
    config, url = site_config(yaml.safe_load(CONFIG.read_text()), argv[0])
    header = "".join(line for line in CONFIG.read_text().splitlines(keepends=True) if line.startswith("#"))
    CONFIG.write_text(header + yaml.safe_dump(config, sort_keys=False, width=120))
    print(url)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
