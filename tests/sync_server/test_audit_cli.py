"""``fieldmeter audit verify`` on an intact and a tampered database (same settings and environment as serve)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import Session
from typer.testing import CliRunner

from sync_server.cli import app
from sync_server.db import create_db_engine
from sync_server.models import AuditEvent

SECRET = "c" * 40


@pytest.fixture
def env(database_url: str, tmp_path: Path) -> dict[str, str]:
    """A migrated database holding five unsealed events, as a server would have left them."""
    engine = create_db_engine(database_url)
    with Session(engine) as session:
        for number in range(5):
            at = datetime(2025, 11, 20, 4, number, tzinfo=UTC)
            session.add(AuditEvent(at=at, action="t.cli", entity="t", entity_id=str(number), detail={"n": number}))
        session.commit()
    engine.dispose()
    return {"DATABASE_URL": database_url, "FIELDMETER_SECRET_KEY": SECRET, "FIELDMETER_DATA_DIR": str(tmp_path)}


def _run(env: dict[str, str], *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["audit", "verify", *args], env=env)
    return result.exit_code, result.output


def test_verify_seals_then_reports_an_intact_log(env: dict[str, str]) -> None:
    code, output = _run(env, "--read-only", "--json")
    assert code == 0
    assert json.loads(output) | {"message": ""} == {
        "intact": True,
        "checked": 0,
        "sealed": 0,
        "unsealed": 5,
        "head_seq": 0,
        "first_broken_seq": None,
        "first_broken_id": None,
        "problem": None,
        "message": "",
    }
    code, output = _run(env)
    assert (code, output.strip()) == (0, "Audit log intact: 5 events sealed, 0 not sealed yet.")


def test_verify_exits_non_zero_and_says_where_a_tampered_log_broke(env: dict[str, str]) -> None:
    assert _run(env)[0] == 0
    engine = create_db_engine(env["DATABASE_URL"])
    with Session(engine) as session:
        target = session.execute(text("SELECT id FROM audit_event WHERE seq = 3")).scalar_one()
        session.execute(text("UPDATE audit_event SET detail = :d WHERE id = :id"), {"d": '{"n": 99}', "id": target})
        session.commit()
    engine.dispose()
    code, output = _run(env)
    assert code == 1
    assert f"broken at position 3 (event id {target})" in output
    code, output = _run(env, "--json")
    report = json.loads(output)
    assert code == 1
    assert (report["intact"], report["problem"], report["first_broken_id"]) == (False, "event.altered", target)


def test_verify_with_another_secret_finds_every_digest_wrong(env: dict[str, str]) -> None:
    assert _run(env)[0] == 0
    code, output = _run(env | {"FIELDMETER_SECRET_KEY": "d" * 40}, "--json")
    assert code == 1
    assert json.loads(output)["first_broken_seq"] == 1


def test_verify_without_the_server_secret_refuses_to_guess(env: dict[str, str], tmp_path: Path) -> None:
    code, output = _run(env | {"FIELDMETER_SECRET_KEY": "", "FIELDMETER_DATA_DIR": str(tmp_path / "empty")})
    assert code == 2
    assert "no server secret" in output
    assert not (tmp_path / "empty" / "secret.key").exists()


def test_verify_of_an_unmigrated_database_fails_cleanly(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'blank.db'}", "FIELDMETER_SECRET_KEY": SECRET}
    code, output = _run(env)
    assert code == 2
    assert "cannot read the audit log" in output
    assert "SELECT" not in output.upper()
