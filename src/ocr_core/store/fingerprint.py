"""Normalized fingerprints of this package's code: what a refactor leaves alone and a semantics change does not.

A module's fingerprint hashes its AST without docstrings (comments and formatting are not in the AST), so a
rewrapped docstring or a reformatted file keeps it; data files (CSV, TXT) of a package count by their bytes. The
import closure follows every `ocr_core` import in a module, module-level or inside functions, and the packages
that contain it (their `__init__` runs on import).
"""

from __future__ import annotations

import ast
import hashlib
from collections.abc import Iterable
from functools import cache
from importlib.resources import files
from pathlib import Path

PACKAGE = "ocr_core"


def package_root() -> Path:
    return Path(str(files(PACKAGE)))


def module_path(module: str) -> Path | None:
    """The file of `ocr_core.x.y` (a module or a package's __init__), or None if it is not a module here."""
    parts = module.split(".")
    if parts[0] != PACKAGE:
        return None
    base = package_root().joinpath(*parts[1:])
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _strip_docstrings(tree: ast.AST) -> ast.AST:
    """Docstrings removed, and `del (a, b)` read as `del a, b` (a formatter wraps a long `del` in brackets)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Delete) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Tuple):
            node.targets = list(node.targets[0].elts)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            first = body[0].value if body and isinstance(body[0], ast.Expr) else None
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                node.body = body[1:] or [ast.Pass()]
    return tree


def source_fingerprint(source: str) -> str:
    """sha256 of Python `source`'s AST without docstrings (comments and layout are not in the AST)."""
    return hashlib.sha256(ast.dump(_strip_docstrings(ast.parse(source)), include_attributes=False).encode()).hexdigest()


@cache
def module_fingerprint(module: str) -> str:
    """source_fingerprint of the module; for a package, plus its data files' bytes."""
    path = module_path(module)
    if path is None:
        raise ModuleNotFoundError(module)
    digest = hashlib.sha256(source_fingerprint(path.read_text()).encode())
    if path.name == "__init__.py":
        for data in sorted(path.parent.iterdir()):
            if data.suffix in {".csv", ".txt", ".json"}:
                digest.update(data.name.encode())
                digest.update(data.read_bytes())
    return digest.hexdigest()


@cache
def imports_of(module: str) -> tuple[str, ...]:
    """The `ocr_core` modules `module` imports anywhere in its code (module level or in functions)."""
    path = module_path(module)
    if path is None:
        return ()
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)  # `from pkg import module`
    return tuple(sorted(m for m in found if m.split(".")[0] == PACKAGE and module_path(m) is not None))


def parents(module: str) -> list[str]:
    """The packages whose __init__ runs when `module` is imported: `ocr_core`, `ocr_core.x`, ..."""
    parts = module.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def closure(roots: Iterable[str]) -> frozenset[str]:
    """Every module `roots` import, transitively, with the packages that contain them."""
    seen: set[str] = set()
    todo = list(roots)
    while todo:
        module = todo.pop()
        if module in seen or module_path(module) is None:
            continue
        seen.add(module)
        todo += [*imports_of(module), *parents(module)]
    return frozenset(seen)


def fingerprint(modules: Iterable[str]) -> str:
    """One sha256 (16 hex) over the named modules' fingerprints."""
    digest = hashlib.sha256()
    for module in sorted(modules):
        digest.update(f"{module}={module_fingerprint(module)}\n".encode())
    return digest.hexdigest()[:16]


# The code behind each version constant. A unit's own modules are its closure minus the closures of the units
# it builds on, so a change in training code asks for TRAINING_VERSION, not for every experiment's VERSION.
TRAINING_ROOTS = ("ocr_core.training.finetune", "ocr_core.training.cache", "ocr_core.models.loading")
SCORING_ROOTS = ("ocr_core.scoring.scores", "ocr_core.training.metrics")


def training_modules() -> frozenset[str]:
    return closure(TRAINING_ROOTS)


def scoring_modules() -> frozenset[str]:
    return closure(SCORING_ROOTS) - training_modules()


def experiment_modules(module: str) -> frozenset[str]:
    """The modules behind experiment `module`'s VERSION: its closure minus training's and scoring's."""
    return closure([module]) - training_modules() - scoring_modules()


def unit_fingerprints(module: str | None = None) -> dict[str, str]:
    """Fingerprints of training, scoring and (given) experiment `module`'s own code (for provenance)."""
    out = dict(training=fingerprint(training_modules()), scoring=fingerprint(scoring_modules()))
    if module is not None:
        out["experiment"] = fingerprint(experiment_modules(module))
    return out
