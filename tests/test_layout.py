"""The package's layers: no import circles, and no module imports from a layer above its own (imports inside
functions count too)."""

from ocr_core.store.fingerprint import imports_of, package_root

# Lowest first. A module may import its own layer and those below. The package's __init__ (the public API)
# and __main__ sit on top.
LAYERS = (
    ("ocr_core.errors", "ocr_core.numerics"),
    ("ocr_core.store",),
    ("ocr_core.data",),
    ("ocr_core.arch",),
    ("ocr_core.models",),
    ("ocr_core.training",),
    ("ocr_core.scoring",),
    ("ocr_core.experiments",),
    ("ocr_core.reporting",),
    ("ocr_core.tools",),
    ("ocr_core.cli",),
)


def _modules() -> list[str]:
    root = package_root()
    out = []
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        out.append(".".join(("ocr_core", *parts[:-1])) if parts[-1] == "__init__" else ".".join(("ocr_core", *parts)))
    return out


def _layer(module: str) -> int | None:
    for i, prefixes in enumerate(LAYERS):
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return i
    return None


def _graph() -> dict[str, set[str]]:
    return {m: {i for i in imports_of(m) if i != m and not m.startswith(i + ".")} for m in _modules()}


def test_every_module_has_a_layer():
    assert [m for m in _modules() if _layer(m) is None] == ["ocr_core", "ocr_core.__main__"]


def test_no_module_imports_from_a_layer_above_its_own():
    upward = [
        f"{m} ({LAYERS[_layer(m)][0]}) imports {i} ({LAYERS[_layer(i)][0]})"
        for m, targets in _graph().items()
        if _layer(m) is not None
        for i in sorted(targets)
        if _layer(i) is not None and _layer(i) > _layer(m)
    ]
    assert upward == []


def test_the_import_graph_has_no_cycle():
    graph = _graph()
    state: dict[str, int] = {}
    cycles = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append(" -> ".join([*path[path.index(nxt) :], nxt]))
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert cycles == []
