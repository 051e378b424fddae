"""The layers of the generator: pipeline -> records <- website (and registries -> pipeline, records: Zenodo,
arXiv and Crossref clients built on the pipeline's bounded HTTP), and neither records nor the lower
modules ever import the layers above them. Checked on the source (every ``import`` statement, at any
depth, including ones inside functions), so a late import cannot hide a backwards arrow."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from conftest import REPO

PACKAGE = REPO / "generator"

# package -> packages it must never import
FORBIDDEN = {
    "pipeline": ("website", "registries"),
    "records": ("pipeline", "website", "transparency", "evaluation", "registries"),
    "registries": ("website", "transparency", "evaluation"),
    "transparency": ("website", "pipeline"),
    "evaluation": ("website",),
}
LOWER_MODULES = ("escape", "digests", "fsio", "errors", "clock", "corpus", "scifact")


def imported_modules(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def layer_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "generator" else None


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_no_module_imports_a_layer_above_it(package: str) -> None:
    backwards = [f"{path.relative_to(REPO)} imports {module}"
                 for path in sorted((PACKAGE / package).rglob("*.py"))
                 for module in sorted(imported_modules(path)) if layer_of(module) in FORBIDDEN[package]]
    assert backwards == []


@pytest.mark.parametrize("name", LOWER_MODULES)
def test_shared_modules_import_no_layer(name: str) -> None:
    layers = {layer_of(m) for m in imported_modules(PACKAGE / f"{name}.py")}
    assert layers & {"pipeline", "records", "website", "transparency", "evaluation"} == set()


def test_the_check_sees_a_backwards_import(tmp_path: Path) -> None:
    module = tmp_path / "late.py"
    module.write_text("def f():\n    from generator.website.escape import html\n    return html\n", encoding="utf-8")
    assert "generator.website.escape" in imported_modules(module)
    assert layer_of("generator.website.escape") == "website"
