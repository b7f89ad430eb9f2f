"""docs/architecture.md's import graph is the real one, computed from the source with ``ast``.

Nodes are the four layers, and each sub-package of ``adapters/`` and ``workflows/`` on its own;
an edge ``A -> B`` means some module of A imports some module of B. When this fails, paste the
table the assertion prints into the doc's ``import-graph`` block (and redraw the picture).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LAYERS = ("domain", "workflows", "projections", "adapters")
SPLIT = ("adapters", "workflows")  # layers whose sub-packages are nodes of their own
BLOCK = re.compile(r"<!-- import-graph -->\s*```text\n(.*?)```", re.S)


def node(parts: tuple[str, ...]) -> str:
    """The graph node of a module or package given by its dotted parts."""
    if parts[0] in SPLIT and len(parts) > 1 and (ROOT / parts[0] / parts[1]).is_dir():
        return f"{parts[0]}/{parts[1]}"
    return parts[0]


def existing(dotted: str) -> tuple[str, ...]:
    """The longest prefix of a dotted name that is a module or package of the project
    (``from adapters.http import app`` names the module ``adapters.http.app``)."""
    parts = tuple(dotted.split("."))
    while parts and not ((ROOT / Path(*parts)).with_suffix(".py").exists()
                         or (ROOT / Path(*parts)).is_dir()):
        parts = parts[:-1]
    return parts


def imported(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for n in ast.walk(tree):
        if isinstance(n, ast.Import):
            names.update(a.name for a in n.names)
        elif isinstance(n, ast.ImportFrom) and n.level == 0 and n.module:
            names.update(f"{n.module}.{a.name}" for a in n.names)
        elif isinstance(n, ast.ImportFrom):
            raise AssertionError("relative imports hide layers; the project uses absolute ones")
    return names


def real_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for layer in LAYERS:
        for path in sorted((ROOT / layer).rglob("*.py")):
            source = node(path.relative_to(ROOT).with_suffix("").parts)
            for name in imported(ast.parse(path.read_text(encoding="utf-8"))):
                if name.split(".")[0] not in LAYERS:
                    continue
                target = node(existing(name))
                if target != source:
                    graph.setdefault(source, set()).add(target)
    return graph


def table(graph: dict[str, set[str]]) -> str:
    width = max(map(len, graph)) + 2
    return "".join(f"{source:<{width}}-> {', '.join(sorted(targets))}\n"
                   for source, targets in sorted(graph.items()))


def documented() -> str:
    match = BLOCK.search((ROOT / "docs" / "architecture.md").read_text(encoding="utf-8"))
    assert match, "docs/architecture.md lacks its <!-- import-graph --> block"
    return match.group(1)


def test_the_documented_import_graph_is_the_real_one():
    real = table(real_graph())
    assert documented() == real, f"docs/architecture.md's import graph should read:\n{real}"


def test_the_graph_keeps_the_dependency_rule():
    """No layer imports one above it (import-linter checks the same in CI, with chains)."""
    rank = {layer: i for i, layer in enumerate(LAYERS)}
    for source, targets in real_graph().items():
        for target in targets:
            assert rank[target.split("/")[0]] <= rank[source.split("/")[0]], (source, target)


DRIVERS = ("sqlite3", "psycopg", "eventsourcing.sqlite", "eventsourcing.postgres")


def test_the_read_models_hold_no_storage_driver():
    """import-linter forbids sqlite3 and psycopg in projections/; it cannot name the library's
    driver modules, so this checks those too: views and subscriptions live in
    adapters/persistence/, and the read models receive them."""
    for path in sorted((ROOT / "projections").rglob("*.py")):
        names = imported(ast.parse(path.read_text(encoding="utf-8")))
        assert not [n for n in names if n.startswith(DRIVERS)], path.name


def test_the_graph_reader_sees_imports_of_submodules_and_names():
    tree = ast.parse("from adapters.http import app\nimport workflows.commands\n"
                     "from domain.values import Channel\n")
    assert {node(existing(n)) for n in imported(tree)} == {"adapters/http", "workflows",
                                                           "domain"}


if __name__ == "__main__":  # python -m tests.unit.test_architecture: the table for the doc
    print(table(real_graph()), end="")
