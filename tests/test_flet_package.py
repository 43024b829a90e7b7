"""The phone package (`flet build apk`, `[tool.flet.app]` in pyproject.toml) holds only what the phone runs.

`flet build` packs the app folder (`path = "."`, the repository root) minus `[tool.flet.app] exclude`. So:
- every top-level entry of the repository is either packed on purpose (``PACKED``) or excluded, and the local
  folders .gitignore names (virtualenv, caches, data) are excluded too;
- every excluded path exists or is local state, and nothing is both packed and excluded;
- nothing the phone runs lives in an excluded path: the imports are followed from main.py (function-level ones
  too: the phone runs those as well) over the AST, as tests/test_import_boundaries.py reads them.
`flet build` itself cannot run here (it downloads Flutter and the Android SDK); this is what keeps its input right.
"""

from __future__ import annotations

import subprocess
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path

from tests.test_import_boundaries import Module, first_party_sources, parse_module, under

ROOT = Path(__file__).resolve().parent.parent

# Packed on purpose: the entry point, the field app, the pure billing rules, icons/fonts/tariffs, and the files
# `flet build` itself reads (pyproject.toml for its settings, README.md for the description).
PACKED = frozenset({"main.py", "mobile_app", "shared_billing", "assets", "pyproject.toml", "README.md"})
FLET_EXCLUDES_ITSELF = frozenset({"build"})  # flet build always leaves out its own output folder
LOCAL_STATE = frozenset({".git", "phone-data"})  # made by git and by the README's walk-through, not tracked


def flet_excludes(root: Path = ROOT) -> list[str]:
    config = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    return list(config["tool"]["flet"]["app"].get("exclude", []))


def tracked_top_level(root: Path = ROOT) -> set[str]:
    names = subprocess.run(["git", "ls-files", "-z"], cwd=root, check=True, capture_output=True).stdout.decode()
    return {name.split("/", 1)[0] for name in names.split("\0") if name}


def ignored_top_level_folders(root: Path = ROOT) -> set[str]:
    """Folders .gitignore names by a plain name (``.venv/``, ``data/``) and globbed ones that exist (egg-info)."""
    folders: set[str] = set()
    for line in (root / ".gitignore").read_text(encoding="utf-8").splitlines():
        pattern = line.strip().strip("/")
        if not pattern or pattern.startswith("#") or not line.strip().endswith("/") or pattern == "__pycache__":
            continue  # __pycache__ sits in every package: bytecode caches, rebuilt by the packager anyway
        if "*" in pattern:
            folders.update(p.name for p in root.glob(pattern) if p.is_dir())
        else:
            folders.add(pattern)
    return folders


def is_excluded(relpath: str, excludes: Iterable[str]) -> bool:
    return any(relpath == e or relpath.startswith(e.rstrip("/") + "/") for e in excludes)


def phone_modules(modules: Mapping[str, Module], entry: str = "main") -> dict[str, list[str]]:
    """Every first-party module the phone runs from ``entry``, with the chain of imports that brings it in."""
    chains: dict[str, list[str]] = {}
    stack = [(entry, [entry])]
    while stack:
        name, chain = stack.pop()
        if name in chains or name not in modules:
            continue
        chains[name] = chain
        parts = name.split(".")
        parents = [".".join(parts[:i]) for i in range(1, len(parts))]  # importing a.b runs a/__init__ first
        stack.extend((p, [*chain, p]) for p in parents)
        stack.extend((imp.name, [*chain, imp.name]) for imp in modules[name].imports)
    return chains


def packed_violations(
    sources: Mapping[str, str], excludes: Iterable[str], entry: str = "main", repo_entries: Iterable[str] = ()
) -> list[str]:
    """Modules the phone runs that are excluded or outside ``PACKED``; also imports of a repository folder that
    ``sources`` does not hold (``repo_entries``: the top-level names, e.g. ``tests``, ``bench``)."""
    modules = {m.name: m for m in (parse_module(path, text) for path, text in sources.items())}
    excludes = list(excludes)
    outside = {Path(e).stem for e in repo_entries} - {Path(p).stem for p in PACKED}
    found = []
    for name, chain in sorted(phone_modules(modules, entry).items()):
        path = modules[name].path
        top = path.split("/", 1)[0]
        if is_excluded(path, excludes) or top not in PACKED:
            found.append(f"{path} ({' -> '.join(chain)}) is not in the phone package")
        lines: dict[int, str] = {}  # one report per import statement (``from a import b`` records ``a`` and ``a.b``)
        for imp in modules[name].imports:
            if imp.name.split(".", 1)[0] in outside and imp.name not in modules:
                lines.setdefault(imp.lineno, imp.name)
        found.extend(
            f"{path}:{line} imports {imported} ({' -> '.join(chain)}), which is not in the phone package"
            for line, imported in sorted(lines.items())
        )
    return found


# --- the project ------------------------------------------------------------


def test_every_top_level_entry_is_packed_on_purpose_or_excluded() -> None:
    excludes = flet_excludes()
    assert excludes, "[tool.flet.app] exclude is missing: the phone package would carry the whole repository"
    top_level_excludes = {e.rstrip("/") for e in excludes if "/" not in e.rstrip("/")}
    entries = tracked_top_level() | ignored_top_level_folders()
    undecided = sorted(entries - PACKED - top_level_excludes - FLET_EXCLUDES_ITSELF)
    assert not undecided, f"neither packed on purpose nor in [tool.flet.app] exclude: {undecided}"
    both = sorted(PACKED & top_level_excludes)
    assert not both, f"packed and excluded at once: {both}"
    assert {"sync_server", "tests", "bench", "docs", "scripts", "mobile_app/console"} <= set(excludes)


def test_every_excluded_path_names_something() -> None:
    known = tracked_top_level() | ignored_top_level_folders() | LOCAL_STATE
    stale = [e for e in flet_excludes() if e.rstrip("/") not in known and not (ROOT / e).exists()]
    assert not stale, f"[tool.flet.app] exclude names paths that are not there (renamed?): {stale}"


def test_nothing_the_phone_runs_is_excluded() -> None:
    sources = first_party_sources()
    modules = {m.name: m for m in (parse_module(path, text) for path, text in sources.items())}
    reached = phone_modules(modules)
    # The walk really starts at main.py and reaches the field app (a broken walk would pass vacuously).
    assert {"main", "mobile_app.field_app", "mobile_app.field_service", "mobile_app.store"} <= set(reached)
    assert any(under(name, "shared_billing") for name in reached)
    violations = packed_violations(sources, flet_excludes(), repo_entries=tracked_top_level())
    assert not violations, "\n".join(violations)


# --- the checker itself ------------------------------------------------------------


def test_checker_follows_lazy_imports_into_an_excluded_folder() -> None:
    sources = {
        "main.py": "from mobile_app.field_app import field_main\n",
        "mobile_app/__init__.py": "",
        "mobile_app/field_app.py": "def later():\n    from mobile_app.console import review\n",
        "mobile_app/console/__init__.py": "",
        "mobile_app/console/review.py": "from mobile_app.ui.common import title\n",
        "mobile_app/ui/__init__.py": "",
        "mobile_app/ui/common.py": "import flet\n",
    }
    violations = packed_violations(sources, ["mobile_app/console", "sync_server"])
    assert [v.split(" (", 1)[0] for v in violations] == [
        "mobile_app/console/__init__.py",
        "mobile_app/console/review.py",
    ]
    assert "(main -> mobile_app.field_app -> " in violations[1]


def test_checker_sees_a_package_init_and_a_module_outside_the_packed_entries() -> None:
    sources = {
        "main.py": "import mobile_app.field_app\nfrom bench import timing\n",
        "mobile_app/__init__.py": "from sync_server import main\n",
        "mobile_app/field_app.py": "",
        "sync_server/__init__.py": "",
        "sync_server/main.py": "",
        "bench/__init__.py": "",
        "bench/timing.py": "",
    }
    paths = [v.split(" ", 1)[0] for v in packed_violations(sources, ["sync_server"])]
    assert paths == ["bench/__init__.py", "bench/timing.py", "sync_server/__init__.py", "sync_server/main.py"]


def test_checker_sees_an_import_of_a_folder_it_was_not_given() -> None:
    sources = {"main.py": "def debug():\n    from tests.support import flet_driver\n"}
    [violation] = packed_violations(sources, ["tests"], repo_entries=["tests", "main.py", "mobile_app"])
    assert violation.startswith("main.py:2 imports tests.support")


def test_checker_accepts_the_field_app_alone() -> None:
    sources = {
        "main.py": "from mobile_app.field_app import field_main\n",
        "mobile_app/__init__.py": "",
        "mobile_app/field_app.py": "from shared_billing.readings import format_quantity\n",
        "shared_billing/__init__.py": "",
        "shared_billing/readings.py": "",
        "mobile_app/console/__init__.py": "import sync_server\n",  # present, but nothing reaches it
    }
    assert packed_violations(sources, ["mobile_app/console", "sync_server"]) == []
