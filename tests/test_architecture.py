"""The layout holds: dependencies point one way (import-linter's layers contract in pyproject.toml), no module
imports itself through others (not even through an import inside a function), and modules and functions stay
small enough to read (a longer function says why in a ``# long:`` comment on its ``def`` line or the line above).
"""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "pipeline"
MODULES = sorted(PACKAGE.rglob("*.py"))
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60


def test_architecture_layers_contract_is_kept():
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint), "--config", str(ROOT / "pyproject.toml")], cwd=ROOT, capture_output=True,
                            text=True, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout


def test_architecture_no_import_cycles_between_modules():
    import grimp

    graph = grimp.build_graph("pipeline", include_external_packages=False)
    modules = sorted(graph.modules)
    imports = {m: {i for i in graph.find_modules_directly_imported_by(m) if i != m} for m in modules}
    # a package's __init__ re-exporting its modules is not a cycle of code: it is how the package is imported
    packages = {m for m in modules if (PACKAGE.parent / m.replace(".", "/") / "__init__.py").is_file()}
    edges = {m: {i for i in targets if i not in packages} for m, targets in imports.items() if m not in packages}
    cycles = _cycles(edges)
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, found, counter = {}, {}, [], set(), [], [0]

    def visit(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for target in edges.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_architecture_module_is_short_enough(path):
    n_lines = len(path.read_text(encoding="utf-8").splitlines())
    assert n_lines <= MAX_MODULE_LINES, f"{n_lines} lines: split it by job"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_architecture_long_functions_say_why(path):
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    long = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        body = node.body[1:] if ast.get_docstring(node) is not None and len(node.body) > 1 else node.body
        n_lines = body[-1].end_lineno - body[0].lineno + 1
        start = node.decorator_list[0].lineno if node.decorator_list else node.lineno
        reason = any("# long:" in lines[i - 1] for i in range(max(1, start - 1), node.lineno + 1))
        if n_lines > MAX_FUNCTION_LINES and not reason:
            long.append(f"{node.name} ({n_lines} lines, line {node.lineno})")
    assert not long, "functions over 60 lines without a '# long:' reason: " + ", ".join(long)


def test_architecture_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []
