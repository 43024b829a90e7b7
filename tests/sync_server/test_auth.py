from __future__ import annotations

from datetime import timedelta

import jwt
from fastapi.testclient import TestClient

from sync_server.clock import FixedClock
from tests.sync_server.factories import auth, login


def test_login_wrong_password_is_401(client: TestClient) -> None:
    response = client.post("/api/auth/login", json={"username": "engineer1", "password": "nope", "device_id": "d"})
    assert (response.status_code, response.json()["code"]) == (401, "auth.invalid_credentials")


def test_login_unknown_user_is_401_same_code(client: TestClient) -> None:
    response = client.post("/api/auth/login", json={"username": "ghost", "password": "x", "device_id": "d"})
    assert (response.status_code, response.json()["code"]) == (401, "auth.invalid_credentials")


def test_passwords_are_stored_as_argon2(client: TestClient) -> None:
    from sqlmodel import Session, select

    from sync_server.models import User

    with Session(client.app.state.context.engine) as session:  # type: ignore[attr-defined]
        hashes = session.exec(select(User.password_hash)).all()
    assert hashes
    assert all(h.startswith("$argon2id$") for h in hashes)


def test_me_returns_the_caller(client: TestClient) -> None:
    response = client.get("/api/me", headers=auth(client, "supervisor"))
    assert response.json()["username"] == "supervisor"
    assert response.json()["role"] == "supervisor"


def test_expired_access_token_is_401(client: TestClient, clock: FixedClock) -> None:
    headers = auth(client, "engineer1")
    clock.advance(timedelta(minutes=15, seconds=1))
    response = client.get("/api/sync/pull", headers=headers)
    assert (response.status_code, response.json()["code"]) == (401, "auth.invalid_token")
    assert "expired" in response.json()["message"]


def test_forged_token_is_401(client: TestClient) -> None:
    forged = jwt.encode({"sub": "1", "role": "admin", "exp": 4_102_444_800}, "not-the-secret" * 3, "HS256")
    response = client.get("/api/bills", headers={"Authorization": f"Bearer {forged}"})
    assert (response.status_code, response.json()["code"]) == (401, "auth.invalid_token")


def test_alg_none_token_is_401(client: TestClient) -> None:
    unsigned = jwt.encode({"sub": "1", "role": "admin", "exp": 4_102_444_800}, key=None, algorithm="none")
    response = client.get("/api/bills", headers={"Authorization": f"Bearer {unsigned}"})
    assert response.status_code == 401


def test_missing_token_is_401(client: TestClient) -> None:
    assert client.get("/api/sync/pull").status_code == 401


def test_engineer_on_supervisor_and_admin_routes_is_403(client: TestClient) -> None:
    headers = auth(client, "engineer1")
    for method, path in [("GET", "/api/review/readings"), ("GET", "/api/bills"), ("GET", "/api/meters")]:
        response = client.request(method, path, headers=headers)
        assert (response.status_code, response.json()["code"]) == (403, "auth.forbidden"), path


def test_refresh_rotates_and_reuse_revokes_device(client: TestClient, clock: FixedClock) -> None:
    first = login(client, "engineer1", device_id="phone-1")
    clock.advance(timedelta(minutes=20))
    rotated = client.post("/api/auth/refresh", json={"refresh_token": first["refresh_token"], "device_id": "phone-1"})
    assert rotated.status_code == 200
    new_pair = rotated.json()
    assert client.get("/api/me", headers={"Authorization": f"Bearer {new_pair['access_token']}"}).status_code == 200
    reused = client.post("/api/auth/refresh", json={"refresh_token": first["refresh_token"], "device_id": "phone-1"})
    assert reused.status_code == 401
    # The leak detection revoked the device: even the newest refresh token is gone.
    after = client.post("/api/auth/refresh", json={"refresh_token": new_pair["refresh_token"], "device_id": "phone-1"})
    assert after.status_code == 401


def test_refresh_from_another_device_is_401(client: TestClient) -> None:
    pair = login(client, "engineer1", device_id="phone-1")
    response = client.post("/api/auth/refresh", json={"refresh_token": pair["refresh_token"], "device_id": "other"})
    assert response.status_code == 401


def test_refresh_token_expires(client: TestClient, clock: FixedClock) -> None:
    pair = login(client, "engineer1", device_id="phone-1")
    clock.advance(timedelta(days=30, seconds=1))
    response = client.post("/api/auth/refresh", json={"refresh_token": pair["refresh_token"], "device_id": "phone-1"})
    assert response.status_code == 401
