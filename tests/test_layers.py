"""The direction of imports between the apps (docs/architecture.md): config < alignment < leads
< kpis, with the pure `core` below every app and `demo` above them all. This project's own
check, so that a clone without the team's tools keeps it too."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Lower rank sits below: it may not import a higher one. `core` is pure and below every app.
RANK = {"core": 0, "config": 1, "alignment": 2, "leads": 3, "kpis": 4, "demo": 5}
COMPOSITION_ROOT = {"config/urls.py", "config/wsgi.py", "config/asgi.py", "config/celery.py"}
SKIP = {"migrations", "tests", ".venv", "static", "templates", "staticfiles"}


def _type_checking(node: ast.If) -> bool:
    test = node.test
    return getattr(test, "id", None) == "TYPE_CHECKING" or getattr(test, "attr", None) == (
        "TYPE_CHECKING"
    )


def _imports(tree: ast.AST) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _type_checking(child):
                for sub in child.orelse:
                    visit(sub)
                continue
            if isinstance(child, ast.Import):
                found.extend((child.lineno, alias.name) for alias in child.names)
            elif isinstance(child, ast.ImportFrom) and child.module and child.level == 0:
                found.append((child.lineno, child.module))
            visit(child)

    visit(tree)
    return found


def wrong_way_imports() -> list[str]:
    problems = []
    for package in RANK:
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT)
            if SKIP & set(relative.parts[:-1]) or relative.as_posix() in COMPOSITION_ROOT:
                continue
            for line, module in _imports(ast.parse(path.read_text(encoding="utf-8"))):
                top = module.split(".")[0]
                if top in RANK and top != package and RANK[top] > RANK[package]:
                    problems.append(f"{relative}:{line}: {package} imports {module}")
    return problems


def test_every_project_package_is_ranked() -> None:
    packages = {p.name for p in ROOT.iterdir() if (p / "__init__.py").exists()} - SKIP
    assert packages <= set(RANK) | {"bench"}, packages - set(RANK)


def test_no_import_runs_against_the_direction_of_the_apps() -> None:
    assert wrong_way_imports() == []


def test_the_check_sees_an_import_that_runs_the_wrong_way() -> None:
    tree = ast.parse("from kpis.models import KpiSnapshot\n\ndef f():\n    import leads.models\n")
    assert [m for _, m in _imports(tree)] == ["kpis.models", "leads.models"]
    typed = ast.parse("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import kpis\n")
    assert [m for _, m in _imports(typed)] == ["typing"]
