"""``fieldmeter user create-admin``: the first admin of a new society, made from the server's shell."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, select
from typer.testing import CliRunner

from sync_server.auth import verify_password
from sync_server.cli import app
from sync_server.db import create_db_engine
from sync_server.models import AuditEvent, Role, User

PASSWORD = "first-admin-pass"
PINNED = datetime(2026, 10, 31, 4, 30, tzinfo=UTC)


@pytest.fixture
def env(database_url: str, tmp_path: Path) -> dict[str, str]:
    return {
        "DATABASE_URL": database_url,
        "FIELDMETER_DATA_DIR": str(tmp_path / "data"),
        "FIELDMETER_NOW": "2026-10-31T10:00:00+05:30",
    }


def _create(env: dict[str, str], *args: str, stdin: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["user", "create-admin", *args], env=env, input=stdin)
    return result.exit_code, result.output


def _users(database_url: str) -> list[User]:
    engine = create_db_engine(database_url)
    try:
        with Session(engine) as session:
            return list(session.exec(select(User)).all())
    finally:
        engine.dispose()


def test_creates_an_admin_who_signs_in_with_the_password_and_is_audited(env: dict[str, str]) -> None:
    code, output = _create(env, "root.admin", "--full-name", "Asha Admin", "--password-stdin", stdin=f"{PASSWORD}\n")
    assert (code, output.strip()) == (0, "Admin 'root.admin' created.")
    engine = create_db_engine(env["DATABASE_URL"])
    try:
        with Session(engine) as session:
            user = session.exec(select(User).where(User.username == "root.admin")).one()
            assert (user.full_name, user.role, user.active) == ("Asha Admin", Role.ADMIN, True)
            assert user.password_change_required is False
            assert verify_password(user.password_hash, PASSWORD)
            assert not verify_password(user.password_hash, PASSWORD + "\n")
            event = session.exec(select(AuditEvent).where(AuditEvent.entity_id == str(user.id))).one()
            assert (event.action, event.entity, event.actor_id) == ("user.created", "user", None)
            assert (event.detail["via"], event.detail["role"]) == ("cli", "admin")
            # The server's clock (FIELDMETER_NOW), not the machine's: it starts there and runs on.
            assert PINNED <= event.at < PINNED + timedelta(hours=1)
    finally:
        engine.dispose()


def test_the_prompt_asks_twice_and_refuses_a_mismatch(env: dict[str, str]) -> None:
    code, _ = _create(env, "second", stdin=f"{PASSWORD}\nsomething-else1\n")
    assert code != 0
    assert _users(env["DATABASE_URL"]) == []
    code, output = _create(env, "second", stdin=f"{PASSWORD}\n{PASSWORD}\n")
    assert code == 0, output
    assert [u.full_name for u in _users(env["DATABASE_URL"])] == ["second"]


def test_refuses_an_existing_username_and_keeps_its_password(env: dict[str, str]) -> None:
    assert _create(env, "admin1", "--password-stdin", stdin=PASSWORD)[0] == 0
    code, output = _create(env, "admin1", "--password-stdin", stdin="another-password")
    assert code == 1
    assert "exists already" in output
    [user] = _users(env["DATABASE_URL"])
    assert verify_password(user.password_hash, PASSWORD)


@pytest.mark.parametrize(
    ("username", "password", "field"),
    [("admin1", "short", "password"), ("no spaces", PASSWORD, "username"), ("ab", PASSWORD, "username")],
)
def test_refuses_what_the_api_refuses(env: dict[str, str], username: str, password: str, field: str) -> None:
    code, output = _create(env, username, "--password-stdin", stdin=password)
    assert code == 2
    assert f"{field}:" in output
    assert _users(env["DATABASE_URL"]) == []


def test_on_a_new_data_dir_it_creates_the_schema_first(tmp_path: Path) -> None:
    data_dir = tmp_path / "new-society"
    env = {"DATABASE_URL": "", "FIELDMETER_DATA_DIR": str(data_dir), "FIELDMETER_NOW": "2026-10-31T10:00:00+05:30"}
    code, output = _create(env, "first", "--password-stdin", stdin=PASSWORD)
    assert code == 0, output
    [user] = _users(f"sqlite:///{data_dir / 'fieldmeter.db'}")
    assert (user.username, user.role) == ("first", Role.ADMIN)
