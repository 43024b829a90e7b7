"""Meter replacement over the API: recorded by an admin or confirmed from a protocol-2 reading, billed as one
(docs/domain.md "Meter replacement"), and a retired meter's readings judged by its replacement date."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient

from sync_server.clock import FixedClock
from tests.sync_server.factories import NOW, auth, finished_run, jpeg_bytes, meters_by_unit, reading, sha256

UNIT = "2BHK-B1-GF"  # engineer1's flat of block B, on no shared meter, not read this month by the demo
PERIOD = NOW.strftime("%Y-%m")
REPLACED_ON = (NOW - timedelta(days=10)).date().isoformat()  # this month, after last month's approved reading


def _push(
    client: TestClient, headers: dict[str, str], item: dict[str, Any], sent_at: datetime, protocol: int = 1
) -> dict[str, Any]:
    """Push one reading with its photo (approval needs it) and answer its result."""
    photo = jpeg_bytes(color=(uuid.uuid4().int % 256, 90, 40))
    item = {**item, "photo_sha256": sha256(photo)}
    body = {"protocol": protocol, "device_id": "test-device", "sent_at": sent_at.isoformat(), "readings": [item]}
    response = client.post("/api/sync/push", json=body, headers=headers)
    assert response.status_code == 200, response.text
    client.put(f"/api/photos/{sha256(photo)}", content=photo, headers=headers | {"Content-Type": "image/jpeg"})
    result: dict[str, Any] = response.json()["results"][0]
    return result


def _bill(client: TestClient, period: str) -> dict[str, Any]:
    """Run block B's bills for ``period`` and answer UNIT's draft."""
    admin = auth(client, "admin")
    block = next(b["id"] for b in client.get("/api/blocks", headers=admin).json()["items"] if b["code"] == "B")
    started = client.post("/api/billing/runs", json={"block_id": block, "period": period}, headers=admin)
    assert started.status_code == 202, started.text
    run = finished_run(client, admin, started.json()["id"])
    assert run["status"] == "done", run
    bills = client.get(f"/api/bills?period={period}&block_id={block}", headers=admin).json()["items"]
    return dict(next(b for b in bills if b["unit_code"] == UNIT))


def _own_units(bill: dict[str, Any]) -> Decimal:
    return sum((Decimal(line["quantity"]) for line in bill["lines"] if line["code"] == "energy"), Decimal(0))


def _replace(client: TestClient, meter_id: int, **overrides: Any) -> Any:
    body = {
        "replaced_on": REPLACED_ON,
        "old_final": "0",
        "new_meter_number": "NEW-0001",
        "new_initial": "0",
        "reason": "Old meter burnt",
    }
    return client.post(f"/api/meters/{meter_id}/replacement", json=body | overrides, headers=auth(client, "admin"))


def test_an_admin_replacement_bills_both_meters_then_the_new_one_from_its_initial(
    client: TestClient, clock: FixedClock
) -> None:
    engineer = auth(client, "engineer1")
    old = meters_by_unit(client, engineer)[UNIT]
    previous = int(old["previous"]["value"])
    recorded = _replace(client, old["meter_id"], old_final=str(previous + 120), new_initial="10")
    assert recorded.status_code == 201, recorded.text
    event = recorded.json()
    assert (event["old_meter_number"], event["new_meter_number"], event["replaced_on"]) == (
        old["meter_number"],
        "NEW-0001",
        REPLACED_ON,
    )

    # The new meter takes the old one's place on engineer1's route, measured from its initial read.
    clock.advance(timedelta(hours=1))
    engineer = auth(client, "engineer1")
    pulled = meters_by_unit(client, engineer)[UNIT]
    assert pulled["meter_id"] == event["new_meter_id"]
    assert pulled["previous"]["value"] == "10"
    read = reading(pulled, value="85", captured_at=(clock() - timedelta(minutes=5)).isoformat())
    assert _push(client, engineer, read, clock())["outcome"] == "stored"
    approved = client.post(f"/api/review/readings/{read['uuid']}/approve", headers=auth(client, "supervisor"))
    assert approved.status_code == 200, approved.text

    bill = _bill(client, PERIOD)
    assert _own_units(bill) == Decimal(195)  # (old final − previous) 120 + (new current − new initial) 75
    assert [line for line in bill["trace"] if line.startswith(("Old meter", "New meter"))] == [
        f"Old meter {old['meter_number']} until {REPLACED_ON}: Meter: ({previous + 120} − {previous}) × 1 = 120 units",
        f"New meter NEW-0001 from {REPLACED_ON}: Meter: (85 − 10) × 1 = 75 units",
    ]

    # Next month the new meter alone, from the reading this bill ended on.
    clock.advance(timedelta(days=30))
    engineer = auth(client, "engineer1")
    pulled = meters_by_unit(client, engineer)[UNIT]
    read = reading(pulled, value="110", captured_at=(clock() - timedelta(minutes=5)).isoformat())
    assert _push(client, engineer, read, clock())["outcome"] == "stored"
    assert client.post(f"/api/review/readings/{read['uuid']}/approve", headers=auth(client, "supervisor")).is_success
    later = _bill(client, clock().strftime("%Y-%m"))
    assert _own_units(later) == Decimal(25)
    assert not any(line.startswith("Old meter") for line in later["trace"])


def test_a_replacement_reported_by_the_phone_is_confirmed_and_billed(client: TestClient) -> None:
    engineer, supervisor = auth(client, "engineer1"), auth(client, "supervisor")
    old = meters_by_unit(client, engineer)[UNIT]
    previous = int(old["previous"]["value"])
    swap = {"old_final_value": str(previous + 40), "new_meter_number": "NEW-0002", "new_initial_value": "0"}
    item = reading(old, value="5", replacement=swap)
    result = _push(client, engineer, item, NOW, protocol=2)
    assert result["outcome"] == "stored", result

    review = client.get(f"/api/review/readings/{item['uuid']}", headers=supervisor).json()
    assert review["replacement"] == {**swap, "state": "pending", "new_meter_id": None}
    plain = client.post(f"/api/review/readings/{item['uuid']}/approve", headers=supervisor)
    assert (plain.status_code, plain.json()["code"]) == (409, "review.replacement_pending")
    unreasoned = client.post(f"/api/review/readings/{item['uuid']}/replacement/confirm", json={}, headers=supervisor)
    assert unreasoned.status_code == 422

    confirmed = client.post(
        f"/api/review/readings/{item['uuid']}/replacement/confirm", json={"reason": "Seen on site"}, headers=supervisor
    )
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["status"] == "approved"
    assert confirmed.json()["replacement"]["state"] == "confirmed"
    again = client.post(
        f"/api/review/readings/{item['uuid']}/replacement/confirm", json={"reason": "twice"}, headers=supervisor
    )
    assert again.status_code == 409

    bill = _bill(client, PERIOD)
    assert _own_units(bill) == Decimal(45)  # old 40 + new 5 − 0
    assert sum(1 for line in bill["trace"] if line.startswith(("Old meter", "New meter"))) == 2
    # The new meter is on engineer1's route now, its previous read the confirmed reading's.
    pulled = meters_by_unit(client, auth(client, "engineer1"))[UNIT]
    assert pulled["meter_number"] == "NEW-0002"
    assert Decimal(pulled["previous"]["value"]) == 5  # the visit's read on it, not its baseline 0
    # The next reading of the new meter is judged against the same read: 5 → 30 is 25 units, nothing below.
    later = reading(pulled, value="30", captured_at=(NOW + timedelta(days=1)).isoformat())
    assert _push(client, engineer, later, NOW + timedelta(days=1), protocol=2)["outcome"] == "stored"
    judged = client.get(f"/api/review/readings/{later['uuid']}", headers=supervisor).json()
    assert (Decimal(judged["previous_value"]), Decimal(judged["consumption"])) == (Decimal(5), Decimal(25)), judged


def test_a_rejected_replacement_rejects_its_reading(client: TestClient) -> None:
    engineer, supervisor = auth(client, "engineer1"), auth(client, "supervisor")
    old = meters_by_unit(client, engineer)[UNIT]
    swap = {"old_final_value": old["previous"]["value"], "new_meter_number": "NEW-0003", "new_initial_value": "0"}
    item = reading(old, value="0", replacement=swap)
    assert _push(client, engineer, item, NOW, protocol=2)["outcome"] == "stored"
    path = f"/api/review/readings/{item['uuid']}/replacement/reject"
    assert client.post(path, json={}, headers=supervisor).status_code == 422  # a reason is required
    rejected = client.post(path, json={"reason": "Same meter as last month"}, headers=supervisor)
    assert rejected.status_code == 200, rejected.text
    assert (rejected.json()["status"], rejected.json()["replacement"]["state"]) == ("rejected", "rejected")
    # A re-read task like any rejection's: due after the server's usual delay (3 days, the society's calendar).
    due = (NOW.astimezone(ZoneInfo("Asia/Kolkata")).date() + timedelta(days=3)).isoformat()
    assert rejected.json()["due_on"] == due
    pulled = meters_by_unit(client, engineer)[UNIT]
    assert pulled["meter_id"] == old["meter_id"]  # nothing was replaced
    task = pulled["period_read"]
    assert (task["reading_uuid"], task["status"], task["reason"], task["due_on"]) == (
        item["uuid"],
        "rejected",
        "Same meter as last month",
        due,
    )


def test_a_rejected_replacement_takes_the_supervisors_due_date_not_one_in_the_past(client: TestClient) -> None:
    engineer, supervisor = auth(client, "engineer1"), auth(client, "supervisor")
    old = meters_by_unit(client, engineer)[UNIT]
    swap = {"old_final_value": old["previous"]["value"], "new_meter_number": "NEW-0004", "new_initial_value": "0"}
    item = reading(old, value="0", replacement=swap)
    assert _push(client, engineer, item, NOW, protocol=2)["outcome"] == "stored"
    path = f"/api/review/readings/{item['uuid']}/replacement/reject"
    today = NOW.astimezone(ZoneInfo("Asia/Kolkata")).date()
    past = client.post(
        path, json={"reason": "Wrong meter", "due_on": str(today - timedelta(days=1))}, headers=supervisor
    )
    assert (past.status_code, past.json()["code"]) == (422, "review.due_in_past"), past.text
    asked = str(today + timedelta(days=10))
    rejected = client.post(path, json={"reason": "Wrong meter", "due_on": asked}, headers=supervisor)
    assert (rejected.status_code, rejected.json()["due_on"]) == (200, asked), rejected.text


def test_a_retired_meter_takes_readings_captured_before_its_replacement_only(
    client: TestClient, clock: FixedClock
) -> None:
    engineer = auth(client, "engineer1")
    old = meters_by_unit(client, engineer)[UNIT]
    previous = int(old["previous"]["value"])
    # The demo put the meter on engineer1's route at NOW: both readings are from their time with it.
    before = reading(old, value=str(previous + 30), captured_at=(NOW + timedelta(hours=1)).isoformat())
    on_the_day = reading(old, value=str(previous + 31), captured_at=(NOW + timedelta(days=2)).isoformat())
    replaced_on = (NOW + timedelta(days=2)).date().isoformat()  # after "before", on "on_the_day"'s date
    clock.advance(timedelta(days=3))
    recorded = _replace(client, old["meter_id"], replaced_on=replaced_on, old_final=str(previous + 40))
    assert recorded.status_code == 201, recorded.text

    # Saved offline before the replacement and synced after it: stored as usual.
    engineer = auth(client, "engineer1")
    stored = _push(client, engineer, before, clock())
    assert stored["outcome"] == "stored", stored
    refused = _push(client, engineer, on_the_day, clock())
    assert (refused["outcome"], refused["code"]) == ("rejected", "reading.meter_retired")
    assert "NEW-0001" in refused["message"]


def test_bad_replacements_are_refused_and_save_nothing(client: TestClient) -> None:
    admin = auth(client, "admin")
    by_unit = meters_by_unit(client, auth(client, "engineer1"))
    old = by_unit[UNIT]
    meter_id, previous = old["meter_id"], int(old["previous"]["value"])
    fine = str(previous + 1)
    cases = [
        ({"old_final": "1234567"}, 422, "reading.too_many_digits", "old_final"),  # 6 dials
        ({"old_final": fine, "new_initial": "1234567"}, 422, "reading.too_many_digits", "new_initial"),
        ({"old_final": fine, "new_initial": "12.5"}, 422, "reading.too_many_decimals", "new_initial"),
        ({"old_final": str(previous - 100)}, 409, "reading.below_previous", "old_final"),
        ({"old_final": fine, "new_meter_number": by_unit["2BHK-B1-FF"]["meter_number"]}, 409,
         "replacement.meter_taken", "new_meter_number"),
        ({"old_final": fine, "replaced_on": (NOW - timedelta(days=40)).date().isoformat()}, 409,
         "replacement.before_last_reading", "replaced_on"),
    ]  # fmt: skip
    for overrides, status, code, field in cases:
        answer = _replace(client, meter_id, **overrides)
        assert (answer.status_code, answer.json()["code"]) == (status, code), (overrides, answer.text)
        assert answer.json()["details"]["field"] == field
    meters = client.get("/api/meters?q=NEW-0001", headers=admin).json()
    assert meters["total"] == 0
    assert meters_by_unit(client, auth(client, "engineer1"))[UNIT]["meter_id"] == meter_id

    assert _replace(client, meter_id, old_final=fine).status_code == 201
    retired = _replace(client, meter_id, old_final=fine, new_meter_number="NEW-0009")
    assert (retired.status_code, retired.json()["code"]) == (409, "replacement.meter_retired")
    missing = _replace(client, 999_999, old_final=fine)
    assert missing.status_code == 404
