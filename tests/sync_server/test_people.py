"""Accounts: an admin creates users and resets passwords; a password an admin chose must be changed first."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from sync_server.auth import verify_password
from sync_server.demo import DEMO_PASSWORD
from sync_server.models import AuditEvent, User
from sync_server.scheduling.store import scheduler_account
from tests.sync_server.factories import auth, login

TEMPORARY = "temporary-pass-1"
OWN = "my-own-password-22"


def _bearer(pair: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {pair['access_token']}"}


def _sign_in(client: TestClient, username: str, password: str, device_id: str = "d1") -> dict[str, Any]:
    response = client.post("/api/auth/login", json={"username": username, "password": password, "device_id": device_id})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _create(client: TestClient, admin: dict[str, str], **overrides: Any) -> Any:
    body = {"username": "meena.k", "full_name": "Meena Kumari", "role": "engineer", "password": TEMPORARY}
    return client.post("/api/users", json=body | overrides, headers=admin)


def _audit(client: TestClient, action: str) -> list[AuditEvent]:
    with Session(client.app.state.context.engine) as session:  # type: ignore[attr-defined]
        return list(session.exec(select(AuditEvent).where(AuditEvent.action == action)).all())


def test_an_admin_creates_an_account_that_must_choose_its_password(client: TestClient) -> None:
    admin = auth(client, "admin")
    created = _create(client, admin)
    assert created.status_code == 201, created.text
    user = created.json()
    assert (user["username"], user["role"], user["active"], user["password_change_required"]) == (
        "meena.k",
        "engineer",
        True,
        True,
    )
    [event] = _audit(client, "user.created")
    assert event.entity_id == str(user["id"])
    assert TEMPORARY not in str(event.detail)

    pair = _sign_in(client, "meena.k", TEMPORARY)
    assert pair["password_change_required"] is True
    me = client.get("/api/me", headers=_bearer(pair))
    assert me.status_code == 200
    assert me.json()["password_change_required"] is True
    refused = client.get("/api/sync/pull", headers=_bearer(pair))
    assert (refused.status_code, refused.json()["code"]) == (403, "auth.password_change_required")

    changed = client.post(
        "/api/auth/password",
        json={"current_password": TEMPORARY, "new_password": OWN},
        headers=_bearer(pair),
    )
    assert changed.status_code == 204, changed.text
    assert client.get("/api/sync/pull", headers=_bearer(pair)).status_code == 200
    assert client.get("/api/me", headers=_bearer(pair)).json()["password_change_required"] is False
    assert _sign_in(client, "meena.k", OWN)["password_change_required"] is False
    [event] = _audit(client, "user.password_changed")
    assert OWN not in str(event.detail)
    assert TEMPORARY not in str(event.detail)


def test_duplicate_username_is_409_and_adds_nothing(client: TestClient) -> None:
    admin = auth(client, "admin")
    before = client.get("/api/users", headers=admin).json()["total"]
    response = _create(client, admin, username="engineer1")
    assert (response.status_code, response.json()["code"]) == (409, "user.username_taken")
    assert response.json()["details"]["field"] == "username"
    assert client.get("/api/users", headers=admin).json()["total"] == before


def test_weak_password_bad_username_and_unknown_role_are_422_naming_the_field(client: TestClient) -> None:
    # A resident without a unit is refused too, naming unit_id (tests/sync_server/test_resident_portal.py).
    admin = auth(client, "admin")
    for field, value in [("password", "short-9ch"), ("username", "a b"), ("role", "owner"), ("full_name", "")]:
        response = _create(client, admin, **{field: value})
        assert response.status_code == 422, (field, response.text)
        assert field in response.text
    assert client.get("/api/users", params={"q": "meena"}, headers=admin).json()["total"] == 0


def test_the_user_list_pages_searches_and_filters_by_role(client: TestClient) -> None:
    admin = auth(client, "admin")
    engineers = client.get("/api/users", params={"role": "engineer"}, headers=admin).json()
    assert engineers["total"] == 2
    assert {u["role"] for u in engineers["items"]} == {"engineer"}
    first = client.get("/api/users", params={"limit": 1}, headers=admin).json()
    second = client.get("/api/users", params={"limit": 1, "offset": 1}, headers=admin).json()
    assert first["total"] == second["total"] >= 4
    assert first["items"][0]["username"] < second["items"][0]["username"]
    found = client.get("/api/users", params={"q": "ENGINEER2"}, headers=admin).json()
    assert [u["username"] for u in found["items"]] == ["engineer2"]


def test_a_reset_ends_every_session_and_requires_a_change(client: TestClient) -> None:
    admin = auth(client, "admin")
    phone = login(client, "engineer1", device_id="phone")
    engineer_id = phone["user_id"]
    no_reason = client.post(f"/api/users/{engineer_id}/password", json={"password": TEMPORARY}, headers=admin)
    assert no_reason.status_code == 422
    assert "reason" in no_reason.text
    assert client.get("/api/me", headers=_bearer(phone)).status_code == 200

    reset = client.post(
        f"/api/users/{engineer_id}/password", json={"password": TEMPORARY, "reason": "forgot it"}, headers=admin
    )
    assert reset.status_code == 200, reset.text
    assert reset.json()["password_change_required"] is True
    assert client.get("/api/me", headers=_bearer(phone)).status_code == 401
    refresh = client.post("/api/auth/refresh", json={"refresh_token": phone["refresh_token"], "device_id": "phone"})
    assert refresh.status_code == 401
    [event] = _audit(client, "user.password_reset")
    assert (event.reason, event.detail["refresh_tokens_revoked"]) == ("forgot it", 1)
    assert TEMPORARY not in str(event.detail)

    pair = _sign_in(client, "engineer1", TEMPORARY)
    refused = client.post("/api/sync/push", json={}, headers=_bearer(pair))
    assert (refused.status_code, refused.json()["code"]) == (403, "auth.password_change_required")
    assert client.post("/api/auth/logout", headers=_bearer(pair)).status_code == 204


def test_a_change_checks_the_current_password_and_ends_the_other_sessions(client: TestClient) -> None:
    phone = login(client, "engineer1", device_id="phone")
    browser = login(client, "engineer1", device_id="browser")
    wrong = client.post(
        "/api/auth/password", json={"current_password": "not-it-at-all", "new_password": OWN}, headers=_bearer(phone)
    )
    assert (wrong.status_code, wrong.json()["code"]) == (422, "auth.wrong_password")
    assert wrong.json()["details"]["field"] == "current_password"
    same = client.post(
        "/api/auth/password",
        json={"current_password": DEMO_PASSWORD, "new_password": DEMO_PASSWORD},
        headers=_bearer(phone),
    )
    assert (same.status_code, same.json()["code"]) == (422, "user.password_unchanged")
    weak = client.post(
        "/api/auth/password", json={"current_password": DEMO_PASSWORD, "new_password": "short"}, headers=_bearer(phone)
    )
    assert weak.status_code == 422
    assert "new_password" in weak.text

    done = client.post(
        "/api/auth/password", json={"current_password": DEMO_PASSWORD, "new_password": OWN}, headers=_bearer(phone)
    )
    assert done.status_code == 204, done.text
    assert client.get("/api/me", headers=_bearer(phone)).status_code == 200
    assert client.get("/api/me", headers=_bearer(browser)).status_code == 401
    with Session(client.app.state.context.engine) as session:  # type: ignore[attr-defined]
        user = session.exec(select(User).where(User.username == "engineer1")).one()
        assert verify_password(user.password_hash, OWN)


def test_the_schedulers_built_in_account_is_out_of_reach(client: TestClient) -> None:
    engine = client.app.state.context.engine  # type: ignore[attr-defined]
    scheduler = scheduler_account(engine, datetime(2026, 11, 30, 19, 0, tzinfo=UTC))
    admin = auth(client, "admin")
    # Nobody can take its name, see it among the people, give it a password or let it sign in.
    taken = _create(client, admin, username=scheduler.username)
    assert taken.status_code == 422
    listed = client.get("/api/users", headers=admin, params={"limit": 200}).json()["items"]
    assert scheduler.username not in {user["username"] for user in listed}
    reason = {"reason": "try to use it"}
    for path, body in (
        (f"/api/users/{scheduler.id}/reactivate", reason),
        (f"/api/users/{scheduler.id}/password", {**reason, "password": "a-temporary-pass-1"}),
        (f"/api/users/{scheduler.id}/deactivate", reason),
    ):
        answer = client.post(path, headers=admin, json=body)
        assert (answer.status_code, answer.json()["code"]) == (409, "user.built_in"), path
    with Session(engine) as session:
        assert session.get(User, scheduler.id).active is False  # type: ignore[union-attr]
