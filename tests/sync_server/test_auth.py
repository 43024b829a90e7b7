from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import jwt
import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlmodel import Session, select

import sync_server.auth as auth_module
from sync_server.auth import PasswordHashing, verify_password
from sync_server.clock import FixedClock
from sync_server.config import Settings
from sync_server.demo import DEMO_PASSWORD
from sync_server.models import AuditEvent, User
from sync_server.models.users import LoginThrottle
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


def test_the_hash_cost_is_rfc_9106s_low_memory_profile_unless_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FIELDMETER_PASSWORD_HASH_MEMORY_KIB", raising=False)
    monkeypatch.delenv("FIELDMETER_PASSWORD_HASH_TIME_COST", raising=False)
    standard = PasswordHashing().hasher()
    assert (standard.memory_cost, standard.time_cost, standard.parallelism) == (65536, 3, 4)
    assert standard.hash("a password").startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    monkeypatch.setenv("FIELDMETER_PASSWORD_HASH_MEMORY_KIB", "16")
    small = PasswordHashing().hasher()  # two lanes of 8 KiB
    assert (small.memory_cost, small.time_cost, small.parallelism) == (16, 3, 2)
    monkeypatch.setenv("FIELDMETER_PASSWORD_HASH_MEMORY_KIB", "4")
    with pytest.raises(ValidationError):
        PasswordHashing()


def test_a_hash_made_at_another_cost_is_made_again_at_sign_in(client: TestClient) -> None:
    engine = client.app.state.context.engine  # type: ignore[attr-defined]
    older = PasswordHasher(time_cost=2, memory_cost=16, parallelism=1).hash(DEMO_PASSWORD)
    with Session(engine) as session:
        user = session.exec(select(User).where(User.username == "engineer2")).one()
        user.password_hash = older
        session.add(user)
        session.commit()
    auth(client, "engineer2")
    with Session(engine) as session:
        renewed = session.exec(select(User.password_hash).where(User.username == "engineer2")).one()
    assert renewed != older
    assert "$m=16,t=2,p=1$" not in renewed
    assert "$m=8,t=1,p=1$" in renewed  # the suite's cost (tests/conftest.py)
    assert verify_password(renewed, DEMO_PASSWORD)
    auth(client, "engineer2")  # and the new hash signs in


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
    clock.advance(timedelta(seconds=6))  # past the reuse grace: not a race any more, a leak
    reused = client.post("/api/auth/refresh", json={"refresh_token": first["refresh_token"], "device_id": "phone-1"})
    assert (reused.status_code, reused.json()["code"]) == (401, "auth.invalid_token")
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


# --- throttling -----------------------------------------------------------------------------------------------


def _attempt(client: TestClient, username: str, password: str = "wrong", **headers: str) -> httpx.Response:
    body = {"username": username, "password": password, "device_id": "d"}
    return client.post("/api/auth/login", json=body, headers=headers)


def _settings(client: TestClient) -> Settings:
    settings: Settings = client.app.state.context.settings  # type: ignore[attr-defined]
    return settings


def test_ten_wrong_passwords_for_a_username_are_throttled_before_hashing(
    client: TestClient, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    hashed: list[str] = []

    def counting_verify(password_hash: str, password: str) -> bool:
        hashed.append(password)
        return verify_password(password_hash, password)

    monkeypatch.setattr(auth_module, "verify_password", counting_verify)
    answers = [_attempt(client, "engineer1") for _ in range(10)]
    assert [a.status_code for a in answers] == [401] * 5 + [429] * 5
    assert len(hashed) == 5  # the refused attempts cost no argon2
    throttled = answers[-1]
    assert throttled.json()["code"] == "auth.throttled"
    assert set(throttled.json()) == {"code", "message", "details"}
    assert 0 < int(throttled.headers["Retry-After"]) <= 15 * 60
    assert throttled.json()["details"]["scope"] == "username"
    # Even the right password is refused while the window lasts (checked before the password is).
    assert _attempt(client, "engineer1", DEMO_PASSWORD).status_code == 429
    # Another user from the same address is not held up by engineer1's lock-out.
    assert _attempt(client, "engineer2", DEMO_PASSWORD).status_code == 200
    clock.advance(timedelta(minutes=15, seconds=1))
    assert _attempt(client, "engineer1", DEMO_PASSWORD).status_code == 200


def test_a_success_clears_the_usernames_failures(client: TestClient) -> None:
    for _ in range(4):
        assert _attempt(client, "supervisor").status_code == 401
    assert _attempt(client, "supervisor", DEMO_PASSWORD).status_code == 200
    assert [_attempt(client, "supervisor").status_code for _ in range(4)] == [401] * 4


def test_expired_counters_are_deleted_by_the_next_sign_in(client: TestClient, clock: FixedClock) -> None:
    for n in range(3):
        assert _attempt(client, f"guess-{n}").status_code == 401
    clock.advance(timedelta(minutes=16))
    assert _attempt(client, "engineer1", DEMO_PASSWORD).status_code == 200
    with Session(client.app.state.context.engine) as session:  # type: ignore[attr-defined]
        keys = session.exec(select(LoginThrottle.key)).all()
    assert not [key for key in keys if key.startswith("user:guess-")]


def test_wrong_passwords_from_one_address_are_throttled_across_usernames(client: TestClient) -> None:
    _settings(client).login_max_failures_per_address = 5
    answers = [_attempt(client, f"guess-{n}") for n in range(10)]
    assert [a.status_code for a in answers] == [401] * 5 + [429] * 5
    assert answers[-1].json()["details"]["scope"] == "address"
    assert "Retry-After" in answers[-1].headers


def test_x_forwarded_for_is_ignored_unless_the_peer_is_a_trusted_proxy(demo_app: FastAPI) -> None:
    demo_app.state.context.settings.login_max_failures_per_address = 3
    with TestClient(demo_app, client=("10.0.0.9", 5000)) as proxy:
        # Not trusted: every forged header comes from the same peer, which is what is counted.
        spoofed = [_attempt(proxy, f"a-{n}", **{"X-Forwarded-For": f"198.51.100.{n}"}) for n in range(5)]
        assert [a.status_code for a in spoofed] == [401] * 3 + [429] * 2
        demo_app.state.context.settings.trusted_proxies = "10.0.0.0/8"
        # Trusted: each client behind the proxy has its own count (the peer's own count is not touched) ...
        assert [_attempt(proxy, f"b-{n}", **{"X-Forwarded-For": f"203.0.113.{n}"}).status_code for n in range(5)] == [
            401
        ] * 5
        # ... and what a client writes to the left of the proxy's own hop does not change who it is.
        forged = [_attempt(proxy, f"c-{n}", **{"X-Forwarded-For": f"192.0.2.{n}, 203.0.113.77"}) for n in range(5)]
        assert [a.status_code for a in forged] == [401] * 3 + [429] * 2


# --- refresh: one winner, grace, theft ----------------------------------------------------------------------------


def _refresh(client: TestClient, token: str, device_id: str = "phone-1") -> httpx.Response:
    return client.post("/api/auth/refresh", json={"refresh_token": token, "device_id": device_id})


def _bearer(pair: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {pair['access_token']}"}


def test_a_reuse_within_the_grace_is_refresh_in_use_and_the_session_lives(
    client: TestClient, clock: FixedClock
) -> None:
    first = login(client, "engineer1", device_id="phone-1")
    winner = _refresh(client, first["refresh_token"])
    assert winner.status_code == 200
    clock.advance(timedelta(seconds=2))
    loser = _refresh(client, first["refresh_token"])
    assert (loser.status_code, loser.json()["code"]) == (401, "auth.refresh_in_use")
    assert client.get("/api/me", headers=_bearer(winner.json())).status_code == 200
    assert _refresh(client, winner.json()["refresh_token"]).status_code == 200


def test_a_reuse_after_the_grace_revokes_the_family_and_its_access_tokens(
    client: TestClient, clock: FixedClock
) -> None:
    first = login(client, "engineer1", device_id="phone-1")
    rotated = _refresh(client, first["refresh_token"]).json()
    clock.advance(timedelta(seconds=6))
    stolen = _refresh(client, first["refresh_token"])
    assert (stolen.status_code, stolen.json()["code"]) == (401, "auth.invalid_token")
    assert client.get("/api/me", headers=_bearer(rotated)).status_code == 401
    assert _refresh(client, rotated["refresh_token"]).status_code == 401


# --- logout and deactivation --------------------------------------------------------------------------------------


def test_logout_ends_that_session_only(client: TestClient) -> None:
    phone = login(client, "engineer1", device_id="phone-1")
    browser = login(client, "engineer1", device_id="browser-1")
    assert client.post("/api/auth/logout", headers=_bearer(phone)).status_code == 204
    refused = client.get("/api/me", headers=_bearer(phone))
    assert (refused.status_code, refused.json()["code"]) == (401, "auth.invalid_token")
    assert _refresh(client, phone["refresh_token"]).status_code == 401
    assert client.get("/api/me", headers=_bearer(browser)).status_code == 200
    assert _refresh(client, browser["refresh_token"], "browser-1").status_code == 200


def _user_id(client: TestClient, username: str) -> int:
    with Session(client.app.state.context.engine) as session:  # type: ignore[attr-defined]
        user = session.exec(select(User).where(User.username == username)).one()
        assert user.id is not None
        return user.id


def test_deactivation_ends_every_session_at_once_and_reactivation_allows_sign_in(client: TestClient) -> None:
    admin = _bearer(login(client, "admin"))
    phone = login(client, "engineer1", device_id="phone-1")
    browser = login(client, "engineer1", device_id="browser-1")
    engineer_id = _user_id(client, "engineer1")
    answer = client.post(f"/api/users/{engineer_id}/deactivate", json={"reason": "left the company"}, headers=admin)
    assert answer.status_code == 200, answer.text
    assert answer.json()["active"] is False
    for pair, device in ((phone, "phone-1"), (browser, "browser-1")):
        assert client.get("/api/sync/pull", headers=_bearer(pair)).status_code == 401
        assert _refresh(client, pair["refresh_token"], device).status_code == 401
    assert _attempt(client, "engineer1", DEMO_PASSWORD).status_code == 401
    with Session(client.app.state.context.engine) as session:  # type: ignore[attr-defined]
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "user.deactivated")).one()
    assert (event.actor_id, event.entity_id, event.reason) == (
        _user_id(client, "admin"),
        str(engineer_id),
        "left the company",
    )

    back = client.post(f"/api/users/{engineer_id}/reactivate", json={"reason": "rehired"}, headers=admin)
    assert (back.status_code, back.json()["active"]) == (200, True)
    assert client.get("/api/me", headers=_bearer(login(client, "engineer1"))).status_code == 200
    # The sessions ended by the deactivation stay ended.
    assert client.get("/api/me", headers=_bearer(phone)).status_code == 401


def test_an_admin_cannot_deactivate_themselves_or_a_missing_user(client: TestClient) -> None:
    admin = _bearer(login(client, "admin"))
    own = client.post(f"/api/users/{_user_id(client, 'admin')}/deactivate", json={"reason": "x"}, headers=admin)
    assert (own.status_code, own.json()["code"]) == (409, "user.cannot_deactivate_self")
    missing = client.post("/api/users/999999/deactivate", json={"reason": "x"}, headers=admin)
    assert (missing.status_code, missing.json()["code"]) == (404, "user.not_found")
    assert client.get("/api/me", headers=admin).status_code == 200
