"""The audit chain under real concurrency: four clients push at once to a real server process, then it verifies."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import time
from datetime import datetime, timedelta
from typing import Any

from tests.support.live_server import FIELDMETER, LIVE_NOW, LiveServer
from tests.sync_server.factories import reading

PUSHERS = 4
PUSHES_EACH = 5
READINGS_PER_PUSH = 3
SEAL_WAIT_S = 30.0  # a liveness bound for the background sealer (it runs every second)


def _cli_verify(live_server: LiveServer) -> tuple[int, dict[str, Any]]:
    """``fieldmeter audit verify --read-only --json`` against the server's database and data dir (its secret)."""
    env = os.environ | {"DATABASE_URL": live_server.database_url, "FIELDMETER_SECRET_KEY": ""}
    command = [str(FIELDMETER), "audit", "verify", "--read-only", "--json", "--data-dir", str(live_server.data_dir)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60, check=False)
    return done.returncode, json.loads(done.stdout)


async def _pusher(live_server: LiveServer, username: str, device: str, meters: list[dict[str, Any]]) -> list[str]:
    sent_at = datetime.fromisoformat(LIVE_NOW)
    outcomes: list[str] = []
    async with live_server.async_client(live_server.login(username)) as http:
        for _ in range(PUSHES_EACH):
            batch = [
                reading(meter, captured_at=(sent_at - timedelta(minutes=5)).isoformat())
                for meter in meters[:READINGS_PER_PUSH]
            ]
            body = {"protocol": 1, "device_id": device, "sent_at": sent_at.isoformat(), "readings": batch}
            answer = await http.post("/api/sync/push", json=body)
            assert answer.status_code == 200, answer.text
            outcomes += [result["outcome"] for result in answer.json()["results"]]
    return outcomes


def test_four_concurrent_pushers_leave_an_intact_chain_that_the_server_seals(live_server: LiveServer) -> None:
    routes = {}
    for username in ("engineer1", "engineer2"):
        with live_server.client(live_server.login(username)) as http:
            routes[username] = http.get("/api/sync/pull").json()["meters"]
    plan = [("engineer1", "phone-a"), ("engineer1", "phone-b"), ("engineer2", "phone-c"), ("engineer2", "phone-d")]

    async def push_all() -> list[list[str]]:
        return await asyncio.gather(*(_pusher(live_server, user, device, routes[user]) for user, device in plan))

    outcomes = asyncio.run(push_all())
    assert [set(each) for each in outcomes] == [{"stored"}] * PUSHERS

    # The server's own sealer seals the events within moments; the CLI only reads (--read-only).
    deadline = time.monotonic() + SEAL_WAIT_S
    code, report = _cli_verify(live_server)
    while report["unsealed"] and time.monotonic() < deadline:
        time.sleep(0.5)
        code, report = _cli_verify(live_server)
    assert code == 0, report
    assert (report["intact"], report["unsealed"]) == (True, 0)

    admin = live_server.login("admin")
    with live_server.client(admin) as http:
        events = http.get("/api/audit/events", params={"limit": 1000}).json()["items"]
        check = http.get("/api/audit/verify").json()
    assert sum(1 for event in events if event["action"] == "sync.push") == PUSHERS * PUSHES_EACH
    assert check["intact"] is True, check
    assert check["sealed"] == check["checked"] == check["head_seq"] == len(events) == report["sealed"]
    assert check["unsealed"] == 0
