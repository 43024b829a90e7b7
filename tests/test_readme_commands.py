"""The README's two set-up commands are the ones that work: the demo command serves, the test command is CI's."""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path

import httpx

from tests.support.browser import ServerProcess, free_port, wait_http_ok

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def _setup_commands() -> list[str]:
    section = README.split("## Set-up", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```(?:bash|sh)\n(.+?)\n```", section, flags=re.S)


def test_readme_has_two_setup_commands_and_ci_runs_the_test_one() -> None:
    commands = _setup_commands()
    assert len(commands) == 2, commands
    demo, tests = commands
    assert "serve --demo" in (ROOT / demo.split()[0]).read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert f"exec {tests.strip()}" in ci or tests.strip() in ci


def test_readme_demo_command_serves_health_and_keeps_data(tmp_path: Path) -> None:
    demo = _setup_commands()[0]
    port = free_port()
    env = {**os.environ, "FIELDMETER_PORT": str(port), "FIELDMETER_DATA_DIR": str(tmp_path / "data")}
    env.pop("DATABASE_URL", None)
    # The README's command, as written, from the repository root.
    with ServerProcess(
        shlex.split(demo), env=env, inherit_env=False, cwd=ROOT, log_path=tmp_path / "serve.log"
    ) as server:
        health = wait_http_ok(f"http://127.0.0.1:{port}/api/health", timeout=60, process=server)
        assert health.json()["status"] == "ok"
        login = httpx.post(
            f"http://127.0.0.1:{port}/api/auth/login",
            json={"username": "admin", "password": "fieldmeter-demo", "device_id": "readme-test"},
            timeout=10,
        )
        assert login.status_code == 200
    log = (tmp_path / "serve.log").read_text()
    assert "Demo society seeded." in log
    assert f"http://127.0.0.1:{port}/" in log
    assert "engineer1" in log
    assert (tmp_path / "data" / "fieldmeter.db").exists()

    # A restart keeps the data and does not seed again.
    with ServerProcess(
        shlex.split(demo), env=env, inherit_env=False, cwd=ROOT, log_path=tmp_path / "again.log"
    ) as server:
        wait_http_ok(f"http://127.0.0.1:{port}/api/health", timeout=60, process=server)
    assert "demo seed skipped, data kept" in (tmp_path / "again.log").read_text()
