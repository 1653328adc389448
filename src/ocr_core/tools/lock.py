"""The key lock: fingerprints of the code behind each version constant, in `keys.lock` at the repository root.

    python -m ocr_core.tools.lock           # accept the current code: rewrite keys.lock (review it in the diff)
    python -m ocr_core.tools.lock --check   # exit 1, saying what to do, if code changed and the lock did not

Results and deltas are keyed by version constants (`ocr_core.store.keys`), not by source bytes. When the code
behind a version changes (its normalized fingerprint: no docstrings, comments or layout), either the change
alters what it computes, and its version must be bumped (every key it enters changes), or it does not (a
refactor), and the change is accepted by rewriting the lock. `tests/test_keys.py` runs the check.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ocr_core.store import fingerprint as fp
from ocr_core.store import keys

LOCK_NAME = "keys.lock"


def default_lock() -> Path:
    """keys.lock beside pyproject.toml (the package lives in <repo>/src/ocr_core)."""
    return fp.package_root().parents[1] / LOCK_NAME


def _experiment_versions() -> dict[str, int]:
    """Each registered experiment's module and its VERSION (`ocr_core.experiments.registry`)."""
    from ocr_core.experiments.registry import EXPERIMENTS

    return {e.module: e.version for e in EXPERIMENTS}


def units() -> dict[str, dict]:
    """Each version constant: its value, where it is, and the fingerprints of the modules behind it."""
    found = {
        "training": (keys.TRAINING_VERSION, "TRAINING_VERSION in ocr_core/store/keys.py", fp.training_modules()),
        "scoring": (keys.SCORING_VERSION, "SCORING_VERSION in ocr_core/store/keys.py", fp.scoring_modules()),
    }
    for module, version in _experiment_versions().items():
        where = f"VERSION in {module.replace('.', '/')}.py"
        found[module.rsplit(".", 1)[-1]] = (version, where, fp.experiment_modules(module))
    return {
        name: dict(
            version=version,
            where=where,
            fingerprint=fp.fingerprint(modules),
            modules={m: fp.module_fingerprint(m)[:16] for m in sorted(modules)},
        )
        for name, (version, where, modules) in found.items()
    }


def problems(lock: dict, current: dict) -> list[str]:
    """What differs between the lock and the current code, each with what to do."""
    accept = f"python -m ocr_core.tools.lock (then commit {LOCK_NAME})"
    out = []
    for name, now in current.items():
        old = lock.get(name)
        if old is None:
            out.append(f"{name}: not in {LOCK_NAME}; record it with {accept}")
            continue
        if old["version"] != now["version"]:
            out.append(f"{name}: version {old['version']} -> {now['version']} is not recorded; record it with {accept}")
        elif old["fingerprint"] != now["fingerprint"]:
            changed = sorted(
                m for m in {*old["modules"], *now["modules"]} if old["modules"].get(m) != now["modules"].get(m)
            )
            out.append(
                f"{name}: the code behind its version changed ({', '.join(changed)}) but the version did not. If "
                f"results would change, bump {now['where']}; if not (a refactor), accept the change with {accept}"
            )
    out += [f"{name}: in {LOCK_NAME} but no longer in the code; {accept}" for name in lock if name not in current]
    return out


def read(path: Path) -> dict:
    return json.loads(path.read_text()) if path.exists() else {}


def write(path: Path, current: dict) -> None:
    path.write_text(json.dumps(current, indent=1, sort_keys=True) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ocr_core.tools.lock", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check; exit 1 with what to do")
    parser.add_argument("--lock", type=Path, default=None, help=f"the lock file (default: <repo>/{LOCK_NAME})")
    args = parser.parse_args(argv)
    path = args.lock or default_lock()
    current = units()
    found = problems(read(path), current)
    if args.check:
        for line in found:
            print(f"ocr_core: key lock: {line}", file=sys.stderr)
        return 1 if found else 0
    write(path, current)
    accepted = sorted({line.split(":", 1)[0] for line in found})
    print(f"wrote {path}: {len(current)} units; " + (f"accepted {', '.join(accepted)}" if accepted else "unchanged"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
