"""The import graph of the project (grimp reads the source; nothing is imported to check it).

- No module imports itself back, through any chain: every import counts, including those
  inside functions, so a function-level import cannot hide a cycle.
- The packages are layered: each imports only those after it in PACKAGES. (Tests sit on top of
  what they test and are left out of this one; they are in the first check.)
- Product code imports at module level only.
"""

import ast
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[2]
# Highest first: bench measures everything, the user admin shows ledger data, and the ledger's
# API uses the project's API plumbing (errors, pagination, schema).
PACKAGES = ("bench", "accounts", "ledger", "household_ledger")

# Not product code, so an import inside a function is allowed there:
# - tests: an import inside a test is about that test (the first check still covers them);
# - bench: command-line measurements that build Django's settings from their arguments and
#   then call django.setup(); models can only be imported after that.
EXEMPT_DIRECTORIES = ("tests", "bench")

# Temporary: files of work in progress elsewhere that still import inside a function. Each is
# listed by path and must leave this list when its work lands; the list ends empty.
TEMPORARILY_ALLOWED: frozenset[str] = frozenset()


@pytest.fixture(scope="module")
def graph():
    return grimp.build_graph(*PACKAGES, cache_dir=None)


def _is_test_module(module: str) -> bool:
    parts = module.split(".")
    return "tests" in parts or parts[-1] in ("conftest", "settings_test")


def _cycles(graph) -> set[str]:
    cycles = set()
    for importer in graph.modules:
        for imported in graph.find_modules_directly_imported_by(importer):
            back = graph.find_shortest_chain(importer=imported, imported=importer)
            if back:
                cycles.add(" -> ".join((importer, *back)))
    return cycles


def _layer_violations(graph) -> list[str]:
    illegal = graph.find_illegal_dependencies_for_layers(layers=PACKAGES)
    return sorted(
        f"{dependency.importer} -> {dependency.imported}: "
        + " -> ".join([min(route.heads), *route.middle, min(route.tails)])
        for dependency in illegal
        for route in dependency.routes
    )


def test_no_module_imports_itself_back(graph):
    cycles = _cycles(graph)
    assert not cycles, "import cycles:\n" + "\n".join(sorted(cycles))


def test_each_package_imports_only_the_ones_below_it(graph):
    graph = grimp.build_graph(*PACKAGES, cache_dir=None)  # a copy to take the tests out of
    for module in [m for m in graph.modules if _is_test_module(m)]:
        graph.remove_module(module)
    found = _layer_violations(graph)
    assert not found, f"a package imports one above it ({' > '.join(PACKAGES)}):\n" + "\n".join(
        found
    )


def _product_files():
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT)
            if relative.parts[0] in EXEMPT_DIRECTORIES or any(
                part in EXEMPT_DIRECTORIES for part in relative.parts[:-1]
            ):
                continue
            yield relative


def _function_level_imports(source: str):
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            for inner in ast.walk(node):
                if isinstance(inner, ast.Import | ast.ImportFrom):
                    if isinstance(inner, ast.ImportFrom):
                        names = "." * inner.level + (inner.module or "")
                    else:
                        names = ", ".join(alias.name for alias in inner.names)
                    yield inner.lineno, names


def test_product_code_imports_at_module_level_only():
    found = [
        f"{path}:{line} imports {names} inside a function"
        for path in _product_files()
        if str(path) not in TEMPORARILY_ALLOWED
        for line, names in _function_level_imports((ROOT / path).read_text())
    ]
    assert not found, "\n".join(found)


def test_the_checks_see_the_project_and_would_fail(graph):
    # The real graph, function-level imports included.
    assert graph.direct_import_exists(
        importer="accounts.api", imported="household_ledger.api.exceptions"
    )
    # Each check finds what it is there to find.
    made_up = grimp.ImportGraph()
    for package in PACKAGES:
        made_up.add_module(package)
    made_up.add_import(importer="accounts.a", imported="accounts.b")
    made_up.add_import(importer="accounts.b", imported="accounts.a")
    made_up.add_import(importer="household_ledger.x", imported="ledger.y")
    assert _cycles(made_up) == {
        "accounts.a -> accounts.b -> accounts.a",
        "accounts.b -> accounts.a -> accounts.b",
    }
    assert _layer_violations(made_up) == [
        "household_ledger -> ledger: household_ledger.x -> ledger.y"
    ]
    files = {str(path) for path in _product_files()}
    assert {"accounts/api.py", "ledger/admin/transactions.py", "household_ledger/urls.py"} <= files
    assert not any(path.startswith(("bench/", "accounts/tests/")) for path in files)
    assert list(_function_level_imports("def f():\n    import os\n")) == [(2, "os")]
    assert list(_function_level_imports("import os\n")) == []
