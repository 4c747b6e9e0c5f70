"""Dependencies run one way: every import of every module (lazy and type-only ones too) points
at its own package or a lower layer, and no files import each other in a circle. A package may
not import another on its own floor (api and ui stay apart). docs/architecture.md draws it."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Floor of each top-level package, lowest first; the order is docs/architecture.md's sketch.
LAYERS: dict[str, int] = {
    "core": 0,
    "catalog": 1,
    "events": 2,
    "retrieval": 2,
    "serving": 2,
    "ranking": 3,
    "agent": 4,
    "evaluation": 5,
    "runtime": 6,
    "api": 7,
    "ui": 7,
    "app": 8,
    "longtail": 9,
    "bench": 10,
}


def modules() -> dict[str, Path]:
    """Dotted name → file, for every module of the project's packages."""
    found: dict[str, Path] = {}
    for package in LAYERS:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def imported(name: str, path: Path, known: dict[str, Path]) -> list[tuple[int, str, bool]]:
    """(line, module, at run time) for each project module that `name` imports; `from pkg
    import x` names the module pkg.x when that is one, else pkg itself. Imports under `if
    TYPE_CHECKING:` are not run: they count for the floors, not for circles."""
    out: list[tuple[int, str, bool]] = []
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    typing_only = {
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and ast.unparse(node.test).endswith("TYPE_CHECKING")
        for stmt in node.body
        for inner in ast.walk(stmt)
    }
    for node in ast.walk(tree):
        runs = id(node) not in typing_only
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name, runs) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                full = f"{base}.{alias.name}"
                out.append((node.lineno, full if full in known else base, runs))
    return [edge for edge in out if edge[1].split(".")[0] in LAYERS]


def graph() -> tuple[dict[str, Path], dict[str, list[tuple[int, str, bool]]]]:
    known = modules()
    return known, {name: imported(name, path, known) for name, path in known.items()}


def test_every_package_has_a_floor() -> None:
    packages = {p.parent.name for p in ROOT.glob("*/__init__.py")} - {"tests"}
    assert packages == set(LAYERS), "a top-level package without a floor in LAYERS"


def upward(known: dict[str, Path], edges: dict[str, list[tuple[int, str, bool]]]) -> list[str]:
    """`file:line imports module` for each import of another package on the same or a higher
    floor."""
    wrong = []
    for name, targets in edges.items():
        source = name.split(".")[0]
        for line, target, _ in targets:
            top = target.split(".")[0]
            if top != source and LAYERS[top] >= LAYERS[source]:
                wrong.append(f"{known[name].relative_to(ROOT)}:{line} imports {target}")
    return sorted(set(wrong))


def circles(edges: dict[str, list[tuple[int, str, bool]]]) -> list[list[str]]:
    """The groups of modules that import each other at run time, directly or round a loop."""
    follows = {
        n: sorted({t for _, t, runs in ts if runs and t in edges and t != n})
        for n, ts in edges.items()
    }
    return [sorted(c) for c in strongly_connected(follows) if len(c) > 1]


def test_imports_point_down_or_within_the_package() -> None:
    wrong = upward(*graph())
    assert not wrong, "imports up or sideways:\n" + "\n".join(wrong)


def test_no_files_import_each_other_in_a_circle() -> None:
    found = circles(graph()[1])
    assert not found, "circles:\n" + "\n".join(" <-> ".join(c) for c in found)


def strongly_connected(follows: dict[str, list[str]]) -> list[list[str]]:
    """Tarjan's components, iteratively (no recursion limit on long chains)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in follows:
        if start in index:
            continue
        work = [(start, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = len(index)
                stack.append(node)
                on_stack.add(node)
            if i < len(follows[node]):
                work.append((node, i + 1))
                nxt = follows[node][i]
                if nxt not in index:
                    work.append((nxt, 0))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            if low[node] == index[node]:
                component = []
                while True:
                    top = stack.pop()
                    on_stack.discard(top)
                    component.append(top)
                    if top == node:
                        break
                found.append(component)
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return found


def test_the_checks_see_a_planted_circle_and_arrows_up_and_sideways() -> None:
    """The checks above can fail: planted imports are reported, a downward one is not."""
    known = {name: ROOT / f"{name.replace('.', '/')}.py" for name in ("catalog.a", "api.b")}
    edges = {
        "catalog.a": [(3, "agent.build", True), (4, "core.errors", True)],
        "api.b": [(7, "ui.mount", False), (8, "runtime.sessions", True)],
    }
    assert upward(known, edges) == [
        "api/b.py:7 imports ui.mount",
        "catalog/a.py:3 imports agent.build",
    ]
    loop = {
        "x.a": [(1, "x.b", True)],
        "x.b": [(1, "x.c", True)],
        "x.c": [(1, "x.a", True)],
        "x.d": [(1, "x.a", True), (2, "x.e", True)],
        "x.e": [(1, "x.d", False)],  # type-only: no circle
    }
    assert circles(loop) == [["x.a", "x.b", "x.c"]]
