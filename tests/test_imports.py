"""Rooms and names (issue 16, item 4): no import cycles, a light config load, one of each shared helper."""

from __future__ import annotations

import ast
import functools
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "terminal"

# Cycles left on purpose, each with who removes it. When one is gone, delete it here (the test says so).
KNOWN_CYCLES: dict[frozenset[str], str] = {}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path, known: set[str]) -> set[str]:
    """Modules of the package that ``path`` imports, at any depth (lazy imports count), except under TYPE_CHECKING."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue
            if isinstance(child, ast.Import):
                found.update(a.name for a in child.names)
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    base = package.split(".")[: len(package.split(".")) - child.level + 1]
                    mod = ".".join([*base, *([child.module] if child.module else [])])
                else:
                    mod = child.module or ""
                # "from pkg import module" depends on pkg.module (pkg/__init__ runs first anyway, as for any
                # submodule); "from module import name" depends on module
                subs = {f"{mod}.{a.name}" for a in child.names} & known
                found.update(subs)
                if len(subs) < len(child.names):
                    found.add(mod)
            visit(child)

    visit(ast.parse(path.read_text()))
    out = set()
    for mod in found:
        while mod and mod not in known:
            mod = mod.rpartition(".")[0]
        if mod and mod != name:
            out.add(mod)
    return out


@functools.cache
def import_graph() -> dict[str, set[str]]:
    files = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    known = set(files)
    return {name: imported_modules(p, known) for name, p in files.items()}


def cycles(graph: dict[str, set[str]]) -> list[frozenset[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[frozenset[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1:
                    out.append(frozenset(component))
    return out


def test_the_cycle_finder_finds_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [frozenset({"a", "b", "c"})]


def test_no_import_cycles_in_terminal() -> None:
    found = set(cycles(import_graph()))
    new = [sorted(c) for c in found - set(KNOWN_CYCLES)]
    assert new == [], f"import cycles: {new} (move the shared piece into a module both can import)"
    gone = [why for c, why in KNOWN_CYCLES.items() if c not in found]
    assert gone == [], f"a known cycle is gone, remove it from KNOWN_CYCLES: {gone}"


def test_light_does_not_import_analysis() -> None:
    graph = import_graph()
    bad = {
        m: sorted(d for d in deps if d.startswith("terminal.analysis"))
        for m, deps in graph.items()
        if m.startswith("terminal.light")
    }
    assert {m: d for m, d in bad.items() if d} == {}


def test_loading_the_config_does_not_load_opencv_or_mediapipe() -> None:
    code = (
        "import sys; from terminal.config import Config, load_config; load_config(None); "
        "print(sorted(m for m in ('cv2', 'mediapipe', 'numpy') if m in sys.modules))"
    )
    r = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "TERMINAL_CONFIG": ""},
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"


def test_one_definition_of_each_shared_helper() -> None:
    """One result id generator, one UTC stamp, one syslog priority map, one source-spec parser, one log guard."""
    wanted = {"new_result_id", "utc_iso", "priority_of", "parse_source_spec", "BiometricGuard", "under_journald"}
    where: dict[str, list[str]] = {n: [] for n in wanted}
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.ClassDef) and node.name in wanted:
                where[node.name].append(module_name(path))
    assert {n: len(w) for n, w in where.items()} == dict.fromkeys(wanted, 1), where
