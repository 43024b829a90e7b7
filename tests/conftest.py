"""Suite-wide test configuration; package fixtures live next to their tests (tests/sync_server/conftest.py).

- ``tests.support`` is importable from any test (the repository root is put on ``sys.path``).
- Tests marked ``browser`` are skipped when Debian's chromium is not installed (scripts/test installs it).
- With ``CI=true`` a skipped test fails the run: in CI everything must actually run (PostgreSQL, chromium).
- Locally, the terminal summary says so when PostgreSQL tests were skipped (``FIELDMETER_TEST_PG_URL`` unset).
- The server's photo OCR job is off unless a test switches it on (``FIELDMETER_OCR_EVERY_MINUTES``, inherited by the
  servers tests start): with it on, every photo waits to be read before bulk approval takes it, and reading costs
  about a second and hundreds of MB a photo — the OCR tests run it on the few photos they are about.
- The notifications job is off likewise (``FIELDMETER_NOTIFY_EVERY_MINUTES``): the notification tests run its
  passes themselves, with the clock pinned.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

os.environ.setdefault("FIELDMETER_OCR_EVERY_MINUTES", "0")
os.environ.setdefault("FIELDMETER_NOTIFY_EVERY_MINUTES", "0")
# argon2 at its floor (sync_server.auth.PasswordHashing), here and in the servers the tests start: the suite signs
# in thousands of times, and at the production cost that was a third of its time. test_auth checks the real profile.
os.environ.setdefault("FIELDMETER_PASSWORD_HASH_MEMORY_KIB", "8")
os.environ.setdefault("FIELDMETER_PASSWORD_HASH_TIME_COST", "1")

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.support.postgres import ENV_VAR as PG_ENV_VAR  # noqa: E402
from tests.support.postgres import PG_SKIP_REASON, postgres_admin_url  # noqa: E402

# Server fixtures (``app``, ``client``, ``database_url`` on SQLite and PostgreSQL) for server and contract tests.
pytest_plugins = ["tests.support.server_app", "tests.support.live_server"]

_CHROMIUM_MISSING = "chromium is not on PATH (scripts/test installs Debian's package: apt-get install chromium)"


def _on_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() == "true"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"postgres: needs the PostgreSQL server named by {PG_ENV_VAR}")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Under pytest-xdist (scripts/test runs ``-n auto --dist loadgroup``) the browser tests share one worker, one
    # after the other: two Chromiums and their servers at once on a small machine starve each other into timeouts.
    for item in items:
        if item.get_closest_marker("browser") is not None:
            item.add_marker(pytest.mark.xdist_group("browser"))


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("browser") is not None and shutil.which("chromium") is None:
        pytest.skip(_CHROMIUM_MISSING)


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:  # (path, lineno, "Skipped: reason")
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


def _skipped(session: pytest.Session) -> list[pytest.TestReport]:
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None:
        return []
    return [r for r in reporter.stats.get("skipped", []) if isinstance(r, pytest.TestReport)]


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    # Runs inside the terminal reporter's sessionfinish, before the summary is written and before pytest reads
    # session.exitstatus for the process exit code.
    if _on_ci() and _skipped(session) and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    skipped = [r for r in terminalreporter.stats.get("skipped", []) if isinstance(r, pytest.TestReport)]
    if _on_ci() and skipped:
        terminalreporter.section("CI=true: skipped tests fail the run", sep="=", red=True, bold=True)
        for report in skipped:
            terminalreporter.write_line(f"SKIPPED {report.nodeid}: {_skip_reason(report)}", red=True)
        terminalreporter.write_line(
            f"{len(skipped)} test(s) skipped; in CI every test must run (exit status set to failure).",
            red=True,
            bold=True,
        )
    if postgres_admin_url() is None:
        count = sum(1 for r in skipped if PG_SKIP_REASON in _skip_reason(r))
        terminalreporter.write_line(
            f"NOTICE: {PG_ENV_VAR} is not set: {count} PostgreSQL test(s) skipped "
            "(scripts/test starts the local server and sets it).",
            yellow=True,
            bold=True,
        )
