"""The package boundaries of docs/architecture.md ("Parts and their boundaries"), enforced on the AST.

- ``shared_billing`` is pure: the standard library only (pydantic only in the wire modules: ``protocol``,
  ``api_models``, ``api_types`` and ``report_models``; geopy only in ``checks``); never flet, httpx, fastapi,
  sqlmodel, sqlalchemy, mobile_app or sync_server.
- ``mobile_app`` never imports sync_server or fastapi.
- ``mobile_app.api``, ``.store``, ``.sync``, ``.capture``, ``.reading_states`` and ``.field_service`` never import
  flet (nor a Flet extension), not even through another first-party module they import at module level (parent
  packages' ``__init__`` included), so they run in tests and threads without a UI.
- ``sync_server`` never imports mobile_app, except lazily (inside a function) in ``sync_server/cli.py`` (the
  ``app`` command) and ``sync_server/web.py`` (the browser-mode mount); it imports Flet only there too, in
  ``sync_server/web.py`` (the console mount), lazily, so the API runs without Flet.
- ``mobile_app.store`` never imports ``mobile_app.sync`` (not even through other modules): the store is the phone's
  durable state, the sync engine is built on it, not the other way round.
- Only ``mobile_app.console`` imports ``mobile_app.console`` (the browser console is left out of the phone package).
- The root ``main.py`` (what ``flet build`` runs on the phone) imports the field app only: never sync_server,
  fastapi or the console, not even through other modules.
- A migration (``sync_server/migrations/versions``) imports no application code (sync_server, shared_billing,
  mobile_app) nor sqlmodel: it is frozen history and must create the same schema whatever the models become.
- No import circles among ``sync_server`` and ``mobile_app`` modules: function-level imports count as much as
  module-level ones (a lazy import hides a circle, it does not remove it).

Every import statement counts, wherever it is (``if TYPE_CHECKING:`` blocks too), as do
``importlib.import_module`` and ``__import__`` calls with a constant name. The checker reads source text, so
it works on half-written packages, and it is itself tested on synthetic sources below.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("shared_billing", "mobile_app", "sync_server")
ENTRY_SCRIPTS = ("main.py",)  # root scripts: main.py is the phone's entry point (`flet build`)
CYCLE_FREE = ("sync_server", "mobile_app")

STDLIB = frozenset(sys.stdlib_module_names) | {"__future__"}
# The wire's models and bounds: the sync protocol, the HTTP API's models and its bounded field types.
WIRE_MODULES = (
    "shared_billing.protocol",
    "shared_billing.api_models",
    "shared_billing.api_types",
    "shared_billing.report_models",
)
WIRE_EXTRA = ("pydantic", "pydantic_core")
GEO_MODULE = "shared_billing.checks"  # the GPS verdict: geopy is pure maths, no I/O
GEO_EXTRA = ("geopy",)
FLET = ("flet", "flet_*")  # flet and its extensions (flet_geolocator, flet_camera, flet_web, ...)


@dataclass(frozen=True)
class Rule:
    """Modules under any of ``applies_to`` must not import anything under ``forbidden``."""

    text: str
    applies_to: tuple[str, ...]
    forbidden: tuple[str, ...]
    lazy_allowed_in: tuple[str, ...] = ()  # modules where an import inside a function body is fine
    transitive: bool = False  # also through first-party modules imported at module level
    exempt: tuple[str, ...] = ()  # modules under applies_to that the rule does not cover


def applies(rule: Rule, module: str) -> bool:
    return any(under(module, p) for p in rule.applies_to) and not any(under(module, p) for p in rule.exempt)


RULES = (
    Rule(
        "shared_billing is pure domain code",
        ("shared_billing",),
        ("flet", "flet_*", "httpx", "fastapi", "sqlmodel", "sqlalchemy", "mobile_app", "sync_server"),
    ),
    Rule("mobile_app never imports the server", ("mobile_app",), ("sync_server", "fastapi")),
    Rule(
        "the phone's logic below the views (client core, store, sync, capture rules, reading states, field service) "
        "must work without a UI",
        (
            "mobile_app.api",
            "mobile_app.store",
            "mobile_app.sync",
            "mobile_app.capture",
            "mobile_app.reading_states",
            "mobile_app.field_service",
        ),
        FLET,
        transitive=True,
    ),
    Rule(
        "sync_server imports mobile_app only lazily, for the CLI's app command and the web mount",
        ("sync_server",),
        ("mobile_app",),
        lazy_allowed_in=("sync_server.cli", "sync_server.web"),
    ),
    Rule(
        "sync_server imports Flet only lazily, in the console mount",
        ("sync_server",),
        FLET,
        lazy_allowed_in=("sync_server.web",),
    ),
    Rule(
        "mobile_app.store never imports mobile_app.sync (the sync engine builds on the store)",
        ("mobile_app.store",),
        ("mobile_app.sync",),
        transitive=True,
    ),
    Rule(
        "only the browser console imports mobile_app.console (it is not in the phone package)",
        ("mobile_app",),
        ("mobile_app.console",),
        exempt=("mobile_app.console",),
    ),
    Rule(
        "a migration is frozen history: plain SQLAlchemy and Alembic, no application code or model types",
        ("sync_server.migrations.versions",),
        ("sync_server", "shared_billing", "mobile_app", "sqlmodel"),
    ),
    Rule(
        "main.py (the phone's entry point) imports the field app only",
        ("main",),
        ("sync_server", "fastapi", "mobile_app.console"),
        transitive=True,
    ),
)


@dataclass(frozen=True)
class Import:
    name: str  # absolute dotted module name (for ``from a import b``: both ``a`` and ``a.b`` are recorded)
    lineno: int
    lazy: bool  # inside a function body: runs only when called
    from_base: bool = False  # the ``a`` of ``from a import b`` (``b`` may be a submodule or a name in ``a``)


@dataclass(frozen=True)
class Module:
    name: str
    path: str
    imports: tuple[Import, ...]
    error: str | None = None


@dataclass(frozen=True)
class Violation:
    path: str
    lineno: int
    module: str
    imported: str
    rule: str

    def __str__(self) -> str:
        return f"{self.path}:{self.lineno}: {self.module} imports {self.imported} -- {self.rule}"


def under(name: str, prefix: str) -> bool:
    """``name`` is ``prefix`` or inside it; a prefix ending in ``*`` matches top-level names by prefix."""
    if prefix.endswith("*"):
        return name.split(".", 1)[0].startswith(prefix[:-1])
    return name == prefix or name.startswith(prefix + ".")


def module_name(relpath: str) -> tuple[str, bool]:
    """``mobile_app/store/__init__.py`` -> (``mobile_app.store``, is_package=True)."""
    parts = list(Path(relpath).with_suffix("").parts)
    is_package = parts[-1] == "__init__"
    if is_package:
        parts.pop()
    return ".".join(parts), is_package


def _resolve(level: int, target: str | None, module: str, is_package: bool) -> str:
    package = module.split(".") if is_package else module.split(".")[:-1]
    if level > 1:
        package = package[: len(package) - (level - 1)]
    return ".".join([*package, *([target] if target else [])])


class _Collector(ast.NodeVisitor):
    def __init__(self, module: str, is_package: bool) -> None:
        self.module = module
        self.is_package = is_package
        self.depth = 0  # function nesting
        self.found: list[Import] = []

    def _add(self, name: str, node: ast.AST, *, from_base: bool = False) -> None:
        if name:
            self.found.append(Import(name, getattr(node, "lineno", 0), self.depth > 0, from_base))

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> None:
        # Decorators and defaults run at definition time: they are not lazy.
        if not isinstance(node, ast.Lambda):
            for decorator in node.decorator_list:
                self.visit(decorator)
            if node.returns is not None:
                self.visit(node.returns)
        self.visit(node.args)
        self.depth += 1
        for child in node.body if isinstance(node.body, list) else [node.body]:
            self.visit(child)
        self.depth -= 1

    visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = _function

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._add(alias.name, node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        base = node.module or ""
        if node.level:
            base = _resolve(node.level, node.module, self.module, self.is_package)
        self._add(base, node, from_base=True)
        for alias in node.names:
            if alias.name != "*":
                self._add(f"{base}.{alias.name}" if base else alias.name, node)

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        is_dynamic = (isinstance(func, ast.Name) and func.id in {"__import__", "import_module"}) or (
            isinstance(func, ast.Attribute) and func.attr == "import_module"
        )
        if is_dynamic and node.args:
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                name = first.value
                if name.startswith("."):
                    level = len(name) - len(name.lstrip("."))
                    name = _resolve(level, name.lstrip(".") or None, self.module, self.is_package)
                self._add(name, node)
        self.generic_visit(node)


def parse_module(relpath: str, source: str) -> Module:
    name, is_package = module_name(relpath)
    try:
        tree = ast.parse(source, filename=relpath)
    except SyntaxError as exc:
        return Module(name, relpath, (), error=f"{relpath}:{exc.lineno}: cannot parse: {exc.msg}")
    collector = _Collector(name, is_package)
    collector.visit(tree)
    return Module(name, relpath, tuple(collector.found))


def _ancestors(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def _loaded_modules(name: str, modules: Mapping[str, Module]) -> Iterable[tuple[str, Module]]:
    """First-party modules that importing ``name`` runs: parent packages, then what they import eagerly."""
    seen: set[str] = set()
    stack = [*_ancestors(name), name]
    while stack:
        current = stack.pop()
        if current in seen or current not in modules:
            continue
        seen.add(current)
        module = modules[current]
        yield current, module
        for imp in module.imports:
            if not imp.lazy:
                stack.extend(n for n in [*_ancestors(imp.name), imp.name] if n in modules)


def check_modules(modules: Mapping[str, Module]) -> list[Violation]:
    violations: list[Violation] = []
    for module in modules.values():
        if module.error:
            violations.append(Violation(module.path, 0, module.name, "?", module.error))
            continue
        violations.extend(_direct_violations(module))
        for rule in RULES:
            if rule.transitive and applies(rule, module.name):
                violations.extend(_transitive_violations(module, rule, modules))
    return sorted(set(violations), key=lambda v: (v.path, v.lineno, v.imported))


def _direct_violations(module: Module) -> Iterable[Violation]:
    for imp in module.imports:
        for rule in RULES:
            if not applies(rule, module.name):
                continue
            if not any(under(imp.name, f) for f in rule.forbidden):
                continue
            if imp.lazy and module.name in rule.lazy_allowed_in:
                continue
            extra = f" (allowed lazily only in {', '.join(rule.lazy_allowed_in)})" if rule.lazy_allowed_in else ""
            yield Violation(module.path, imp.lineno, module.name, imp.name, rule.text + extra)
        if under(module.name, "shared_billing"):
            top = imp.name.split(".", 1)[0]
            allowed = top in STDLIB or top == "shared_billing"
            if any(under(module.name, m) for m in WIRE_MODULES) and top in WIRE_EXTRA:
                allowed = True
            if under(module.name, GEO_MODULE) and top in GEO_EXTRA:
                allowed = True
            if not allowed:
                yield Violation(
                    module.path,
                    imp.lineno,
                    module.name,
                    imp.name,
                    f"shared_billing uses the standard library only ({', '.join(WIRE_EXTRA)} "
                    f"only in {', '.join(WIRE_MODULES)}, {', '.join(GEO_EXTRA)} only in {GEO_MODULE})",
                )


def _transitive_violations(module: Module, rule: Rule, modules: Mapping[str, Module]) -> Iterable[Violation]:
    for via_name, via in _loaded_modules(module.name, modules):
        if via_name == module.name:
            continue  # its own imports are direct violations
        for imp in via.imports:
            if not imp.lazy and any(under(imp.name, f) for f in rule.forbidden):
                yield Violation(
                    module.path,
                    0,
                    module.name,
                    imp.name,
                    f"{rule.text}: importing it runs {via.path}:{imp.lineno}, which imports {imp.name}",
                )


def check_sources(sources: Mapping[str, str]) -> list[Violation]:
    """Check ``{relative path: source text}`` (e.g. ``{"mobile_app/store/db.py": "import flet"}``)."""
    modules = {m.name: m for m in (parse_module(path, text) for path, text in sources.items())}
    return check_modules(modules)


def first_party_sources(root: Path = ROOT) -> dict[str, str]:
    sources: dict[str, str] = {}
    for script in ENTRY_SCRIPTS:
        sources[script] = (root / script).read_text(encoding="utf-8", errors="replace")
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            if "__pycache__" in path.parts:
                continue
            relpath = path.relative_to(root).as_posix()
            sources[relpath] = path.read_text(encoding="utf-8", errors="replace")
    return sources


def import_edges(module: Module, modules: Mapping[str, Module]) -> set[str]:
    """First-party modules ``module`` imports, lazily or not: ``from a import b`` is an edge to ``a.b`` when that is a
    module, else to ``a``; parent packages that Python runs on the way are not edges (a package's ``__init__``
    importing its own submodules would otherwise make every submodule that imports a sibling a circle)."""
    edges: set[str] = set()
    for imp in module.imports:
        if imp.name not in modules or imp.name == module.name:
            continue
        if imp.from_base and any(
            other.lineno == imp.lineno and other.name.startswith(imp.name + ".") and other.name in modules
            for other in module.imports
        ):
            continue  # ``from a import b`` with ``b`` a submodule: the edge is ``a.b``
        edges.add(imp.name)
    return edges


def import_cycles(modules: Mapping[str, Module], scope: tuple[str, ...] = CYCLE_FREE) -> list[list[str]]:
    """Circles (strongly connected components of two or more modules) among the modules under ``scope``."""
    graph = {
        name: sorted(e for e in import_edges(m, modules) if any(under(e, p) for p in scope))
        for name, m in modules.items()
        if any(under(name, p) for p in scope)
    }
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(node: str) -> None:  # Tarjan; the package trees are shallow enough for recursion
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(cycles)


def cycles_in(sources: Mapping[str, str]) -> list[list[str]]:
    modules = {m.name: m for m in (parse_module(path, text) for path, text in sources.items())}
    return import_cycles(modules)


# --- the project ------------------------------------------------------------


def test_packages_exist() -> None:
    missing = [p for p in PACKAGES if not (ROOT / p).is_dir()]
    assert not missing, f"first-party packages not found under {ROOT}: {missing}"


def test_first_party_imports_respect_the_package_boundaries() -> None:
    violations = check_sources(first_party_sources())
    assert not violations, "import boundary violations (docs/architecture.md, 'Parts and their boundaries'):\n" + (
        "\n".join(f"  {v}" for v in violations)
    )


def test_no_import_circles_in_the_server_or_the_app() -> None:
    cycles = cycles_in(first_party_sources())
    assert not cycles, "import circles (function-level imports count too):\n" + "\n".join(
        "  " + " <-> ".join(c) for c in cycles
    )


# --- the checker itself ------------------------------------------------------------


def _imported(sources: Mapping[str, str]) -> list[tuple[str, str]]:
    return [(v.module, v.imported) for v in check_sources(sources)]


@pytest.mark.parametrize(
    ("path", "source", "imported"),
    [
        ("shared_billing/billing.py", "import httpx\n", "httpx"),
        ("shared_billing/billing.py", "from sqlmodel import SQLModel\n", "sqlmodel"),
        ("shared_billing/billing.py", "import sqlalchemy.orm\n", "sqlalchemy.orm"),
        ("shared_billing/tariffs.py", "from pydantic import BaseModel\n", "pydantic"),
        ("shared_billing/money.py", "import numpy as np\n", "numpy"),
        ("shared_billing/money.py", "def f():\n    import flet\n", "flet"),
        ("shared_billing/money.py", "from mobile_app.state import AppState\n", "mobile_app.state"),
        ("mobile_app/views/home.py", "from sync_server.models import Reading\n", "sync_server.models"),
        ("mobile_app/app.py", "import fastapi\n", "fastapi"),
        ("mobile_app/store/db.py", "import flet as ft\n", "flet"),
        (
            "mobile_app/sync/client.py",
            "def f():\n    from flet_geolocator import Geolocator\n",
            "flet_geolocator",
        ),
        ("mobile_app/store/db.py", "import importlib\nimportlib.import_module('flet')\n", "flet"),
        (
            "mobile_app/store/db.py",
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import flet\n",
            "flet",
        ),
        ("sync_server/routes/sync.py", "def f():\n    import mobile_app.app\n", "mobile_app.app"),
        ("sync_server/cli.py", "import mobile_app.app\n", "mobile_app.app"),
        ("sync_server/web.py", "from mobile_app import app\n", "mobile_app"),
        ("sync_server/api/routes/pages.py", "def f():\n    import flet as ft\n", "flet"),
        ("sync_server/web.py", "from flet_web.fastapi import app_manager\n", "flet_web.fastapi"),
        ("sync_server/cli.py", "def app():\n    import flet\n", "flet"),
        ("mobile_app/store/readings.py", "from mobile_app.sync import engine\n", "mobile_app.sync"),
        ("mobile_app/store/readings.py", "def f():\n    import mobile_app.sync.tokens\n", "mobile_app.sync.tokens"),
        ("mobile_app/field_app.py", "from mobile_app.console.app import console_main\n", "mobile_app.console.app"),
        ("mobile_app/ui/route.py", "from mobile_app import console\n", "mobile_app.console"),
        ("main.py", "import sync_server.main\n", "sync_server.main"),
        ("main.py", "from mobile_app.console import asgi\n", "mobile_app.console"),
        ("main.py", "import fastapi\n", "fastapi"),
        ("sync_server/migrations/versions/0009_x.py", "import sync_server.db_types\n", "sync_server.db_types"),
        ("sync_server/migrations/versions/0009_x.py", "from shared_billing import money\n", "shared_billing"),
        ("sync_server/migrations/versions/0009_x.py", "import sqlmodel.sql.sqltypes\n", "sqlmodel.sql.sqltypes"),
    ],
)
def test_checker_catches_a_violation(path: str, source: str, imported: str) -> None:
    module, _ = module_name(path)
    assert (module, imported) in _imported({path: source})


@pytest.mark.parametrize(
    ("path", "source"),
    [
        (
            "shared_billing/billing.py",
            "from __future__ import annotations\nimport decimal\nfrom . import money\n",
        ),
        ("shared_billing/protocol.py", "from pydantic import BaseModel\nimport hashlib\n"),
        ("shared_billing/protocol/v2.py", "from pydantic import BaseModel\n"),
        ("shared_billing/api_models.py", "from pydantic import BaseModel\nfrom shared_billing.protocol import Role\n"),
        ("shared_billing/api_types.py", "from pydantic import Field\n"),
        ("mobile_app/console/client.py", "from shared_billing.api_models import BillOut\n"),
        ("mobile_app/sync/api_client.py", "from shared_billing.api_models import TokenPair\n"),
        ("mobile_app/views/home.py", "import flet as ft\nimport httpx\nfrom shared_billing import billing\n"),
        ("mobile_app/store/db.py", "import sqlmodel\nfrom shared_billing.protocol import ReadingV1\n"),
        ("sync_server/cli.py", "import typer\ndef app():\n    from mobile_app.app import main\n"),
        ("sync_server/web.py", "async def mount(api):\n    import mobile_app.app\n"),
        ("sync_server/main.py", "import fastapi\nfrom shared_billing import billing\n"),
        ("mobile_app/__init__.py", ""),
        ("sync_server/web.py", "def mount(api):\n    from flet_web.fastapi import app_manager\n"),
        ("mobile_app/console/review.py", "from mobile_app.console.client import ConsoleClient\n"),
        ("mobile_app/sync/engine.py", "from mobile_app.store import ReadingRecord\n"),
        ("main.py", "import flet as ft\nfrom mobile_app.field_app import field_main\n"),
    ],
)
def test_checker_accepts_allowed_imports(path: str, source: str) -> None:
    assert check_sources({path: source}) == []


def test_checker_follows_first_party_imports_into_flet() -> None:
    sources = {
        "mobile_app/__init__.py": "",
        "mobile_app/store/__init__.py": "",
        "mobile_app/store/db.py": "from mobile_app import state\n",
        "mobile_app/state.py": "from .components import banner\n",
        "mobile_app/components/__init__.py": "",
        "mobile_app/components/banner.py": "import flet as ft\n",
        "mobile_app/sync/__init__.py": "",
        "mobile_app/sync/client.py": "def later():\n    from mobile_app import state\n",  # lazy: fine
    }
    assert _imported(sources) == [("mobile_app.store.db", "flet")]


def test_checker_sees_flet_in_a_parent_package_init() -> None:
    sources = {
        "mobile_app/__init__.py": "from .app import main\n",
        "mobile_app/app.py": "import flet as ft\n",
        "mobile_app/sync/__init__.py": "",
        "mobile_app/sync/client.py": "import httpx\n",
    }
    assert ("mobile_app.sync.client", "flet") in _imported(sources)
    assert ("mobile_app.sync", "flet") in _imported(sources)


def test_checker_resolves_relative_imports() -> None:
    sources = {"sync_server/api/routes/sync.py": "from ....mobile_app import state\n"}
    assert ("sync_server.api.routes.sync", "mobile_app") in _imported(sources)
    sources = {"shared_billing/money.py": "from .. import sync_server\n"}
    assert ("shared_billing.money", "sync_server") in _imported(sources)


def test_checker_reports_unparsable_source() -> None:
    [violation] = check_sources({"mobile_app/store/db.py": "def broken(:\n"})
    assert "cannot parse" in violation.rule


def test_checker_follows_main_and_the_store_through_other_modules() -> None:
    sources = {
        "main.py": "from mobile_app.field_app import field_main\n",
        "mobile_app/__init__.py": "",
        "mobile_app/field_app.py": "from mobile_app.helpers import banner\n",
        "mobile_app/helpers.py": "from mobile_app.console.review import ReviewView\n",
        "mobile_app/console/__init__.py": "",
        "mobile_app/console/review.py": "import flet\n",
        "mobile_app/store/__init__.py": "from mobile_app.store import readings\n",
        "mobile_app/store/readings.py": "from mobile_app import outbox\n",
        "mobile_app/outbox.py": "from mobile_app.sync.engine import SyncEngine\n",
        "mobile_app/sync/__init__.py": "",
        "mobile_app/sync/engine.py": "",
    }
    found = _imported(sources)
    assert ("main", "mobile_app.console.review") in found
    assert ("mobile_app.store.readings", "mobile_app.sync.engine") in found


def test_cycle_check_sees_a_circle_behind_a_function_level_import() -> None:
    sources = {
        "sync_server/__init__.py": "",
        "sync_server/billing/__init__.py": "",
        "sync_server/billing/compute.py": "def bill():\n    from sync_server.billing.issue import issue_bill\n",
        "sync_server/billing/estimates.py": "from sync_server.billing.compute import price\n",
        "sync_server/billing/issue.py": "from sync_server.billing import estimates\n",
    }
    assert cycles_in(sources) == [
        ["sync_server.billing.compute", "sync_server.billing.estimates", "sync_server.billing.issue"]
    ]


def test_cycle_check_sees_a_two_module_circle_in_the_app() -> None:
    sources = {
        "mobile_app/__init__.py": "",
        "mobile_app/field_app.py": "from .field_service import FieldService\n",
        "mobile_app/field_service.py": "import mobile_app.field_app\n",
    }
    assert cycles_in(sources) == [["mobile_app.field_app", "mobile_app.field_service"]]


def test_cycle_check_does_not_count_a_package_init_importing_its_submodules() -> None:
    sources = {
        "sync_server/__init__.py": "",
        "sync_server/billing/__init__.py": "from sync_server.billing.single import bill_for_reading\n",
        "sync_server/billing/compute.py": "from sync_server.models import Bill\n",
        "sync_server/billing/single.py": "from sync_server.billing.compute import draft_bill\n",
        "sync_server/models.py": "",
        "sync_server/api/bills.py": "from sync_server.billing import bill_for_reading\n",
    }
    assert cycles_in(sources) == []
    # ... but a submodule importing a name from its package's __init__, which imports it back, is a circle.
    sources["sync_server/billing/compute.py"] = "from sync_server.billing import bill_for_reading\n"
    assert cycles_in(sources) == [["sync_server.billing", "sync_server.billing.compute", "sync_server.billing.single"]]
