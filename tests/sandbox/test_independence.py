"""The sandbox and the product do not share code: an emulator that imported the connector would
agree with it by construction, and a product that imported the sandbox would ship it."""

from __future__ import annotations

import ast
from pathlib import Path

INCLUDE = Path(__file__).resolve().parents[2] / "include"


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """``(line, module)`` for every import in ``path``, at any depth (lazy imports in functions too)."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return found


def imports_of(package: str, modules: list[tuple[int, str]]) -> list[str]:
    return [f"line {line}: {name}" for line, name in modules if name == package or name.startswith(package + ".")]


def test_no_sandbox_module_imports_the_product() -> None:
    files = sorted((INCLUDE / "erp_sandbox").rglob("*.py"))
    assert len(files) >= 8
    offending = {str(p.relative_to(INCLUDE)): hits for p in files
                 if (hits := imports_of("backoffice_export", imported_modules(p)))}
    assert offending == {}


def test_the_product_imports_the_sandbox_only_in_the_cli_commands_that_run_it() -> None:
    """Only ``cli.py`` may import ``erp_sandbox``, and only inside the function that runs the
    demo / a local export against the sandboxes (a lazy import, never at module level)."""
    offending: dict[str, list[str]] = {}
    for path in sorted((INCLUDE / "backoffice_export").rglob("*.py")):
        hits = imports_of("erp_sandbox", imported_modules(path))
        if hits and path.name != "cli.py":
            offending[str(path.relative_to(INCLUDE))] = hits
    assert offending == {}
    cli = INCLUDE / "backoffice_export" / "cli.py"
    tree = ast.parse(cli.read_text())
    top_level = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
    assert imports_of("erp_sandbox", [(n.lineno, getattr(n, "module", None) or n.names[0].name)
                                      for n in top_level]) == []
    users = {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)
             and imports_of("erp_sandbox", [(n.lineno, n.module or "") for n in ast.walk(node)
                                            if isinstance(n, ast.ImportFrom)])}
    assert users <= {"_run_with_sandboxes"}


def test_the_check_sees_a_lazy_import(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("def f():\n"
                      "    from backoffice_export.connectors.spector import api\n"
                      "    import backoffice_export\n")
    assert imports_of("backoffice_export", imported_modules(module)) == [
        "line 2: backoffice_export.connectors.spector", "line 3: backoffice_export"]
