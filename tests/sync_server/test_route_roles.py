"""Every API route × every role: the declared rule (OpenAPI ``x-roles``) is the enforced one.

Generated from the app's routes, so a new route without a rule fails here.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient

from sync_server.config import Settings
from sync_server.demo import DEMO_PASSWORD
from sync_server.deps import PUBLIC
from sync_server.main import create_app
from sync_server.models import Role
from tests.sync_server.factories import auth

_PLACEHOLDERS = {
    "sha256": "0" * 64,
    "reading_uuid": str(uuid.UUID(int=0)),
    "plan_id": "999999",
    "meter_id": "999999",
    "bill_id": "999999",
    "run_id": "999999",
    "unit_id": "999999",
    "token": "not-a-token",
    "user_id": "999999",
    "engineer_id": "999999",
    "tariff_id": "999999",
    "block_id": "999999",
    "membership_id": "999999",
    "kind": "master",
    "job_id": "999999",
    "name": "daily-backup",
    "dataset": "bills",
    "sheet_format": "csv",
    "notification_id": "999999",
    "line_id": "999999",
}


def _operations(app: FastAPI) -> list[tuple[str, str, list[str]]]:
    """(method, path, x-roles) of every operation, from the OpenAPI the app generates from its routes."""
    schema = app.openapi()
    operations = [
        (method.upper(), path, operation.get("x-roles", []))
        for path, item in schema["paths"].items()
        for method, operation in item.items()
    ]
    # Logout ends the caller's session: called last, so every other route still sees a signed-in caller.
    return sorted(operations, key=lambda operation: operation[1] == "/api/auth/logout")


def _concrete(path: str) -> str:
    return re.sub(r"\{(\w+)(:[^}]*)?\}", lambda m: _PLACEHOLDERS[m.group(1)], path)


def test_every_route_declares_roles(tmp_path: Path) -> None:
    app = create_app(Settings(data_dir=tmp_path, secret_key="r" * 40, mount_web_app=False))
    operations = _operations(app)
    assert len(operations) >= 15
    assert all(path.startswith("/api/") for _, path, _ in operations)
    assert [f"{m} {p}" for m, p, roles in operations if not roles] == []
    known = {PUBLIC, *(role.value for role in Role)}
    assert all(set(roles) <= known for _, _, roles in operations)


def test_escalation_routes_declare_their_roles(tmp_path: Path) -> None:
    """The steps are an admin's to set; the log is read by those who chase the debts (docs/notifications.md
    "Escalation"). The matrix below then holds each route to its rule."""
    app = create_app(Settings(data_dir=tmp_path, secret_key="r" * 40, mount_web_app=False))
    declared = {(method, path): roles for method, path, roles in _operations(app) if "escalation" in path}
    assert declared == {
        ("GET", "/api/escalation-steps"): ["admin"],
        ("PUT", "/api/escalation-steps"): ["admin"],
        ("GET", "/api/escalations"): ["accountant", "admin"],
    }


def _add_resident(client: TestClient, username: str, unit_code: str | None) -> None:
    """A resident account straight in the database (its password already their own), of ``unit_code``'s unit."""
    from sqlmodel import Session, select

    from sync_server.auth import hash_password
    from sync_server.models import Unit, User
    from tests.sync_server.factories import NOW

    with Session(client.app.state.context.engine) as session:  # type: ignore[attr-defined]
        unit = session.exec(select(Unit).where(Unit.code == unit_code)).one() if unit_code else None
        session.add(
            User(
                username=username,
                full_name="Resident",
                role=Role.RESIDENT,
                password_hash=hash_password(DEMO_PASSWORD),
                created_at=NOW,
                unit_id=unit.id if unit is not None else None,
            )
        )
        session.commit()


def test_route_role_matrix(client: TestClient) -> None:
    _add_resident(client, "resident", "5BHK-B17-FF")
    tokens = {role.value: auth(client, name) for name, role in _USERS.items()}
    tokens["anonymous"] = {}
    checked = 0
    for method, path, roles in _operations(client.app):  # type: ignore[arg-type]
        allowed = set(roles)
        for who, headers in tokens.items():
            response = client.request(method, _concrete(path), headers=headers, json={})
            where = f"{method} {path} as {who}: {response.status_code} {response.text[:120]}"
            if PUBLIC in allowed:
                assert response.status_code not in (401, 403), where
            elif who == "anonymous":
                assert response.status_code == 401, where
            elif who in allowed:
                assert response.status_code not in (401, 403), where
            else:
                assert response.status_code == 403, where
                assert response.json()["code"] == "auth.forbidden", where
            assert response.status_code < 500, where
            checked += 1
    assert checked >= 15 * 4


_USERS = {
    "engineer1": Role.ENGINEER,
    "supervisor": Role.SUPERVISOR,
    "admin": Role.ADMIN,
    "accountant": Role.ACCOUNTANT,
    "resident": Role.RESIDENT,
}


def test_a_resident_without_a_unit_reaches_only_me_and_sees_nothing(client: TestClient) -> None:
    """A resident account from before residents had units (migration 0021) signs in, and its own routes answer 404
    ``resident.no_unit``; every other route still 403."""
    _add_resident(client, "unlinked", None)
    headers = auth(client, "unlinked")
    for method, path, roles in _operations(client.app):  # type: ignore[arg-type]
        answer = client.request(method, _concrete(path), headers=headers, json={})
        if PUBLIC in roles:
            continue
        if Role.RESIDENT.value not in roles:
            assert answer.status_code == 403, f"{method} {path}"
        elif path.startswith("/api/me/"):
            assert (answer.status_code, answer.json()["code"]) == (404, "resident.no_unit"), f"{method} {path}"
