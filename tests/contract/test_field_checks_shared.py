"""One test feeds both sides (issue 12): what the phone tells the engineer at the meter is what the server decides.

The phone's real FieldService (store, sync client) against the real server app, in-process, on both databases,
the clock pinned. Every meter on engineer1's route gets three more months of approved reads (pushed and approved
through the API), so the pull carries the usage the window is drawn from. Then, with that same history:

- the window: values around both edges of ``FieldService.window``; the phone asks for a re-key exactly for the
  values the server flags ``outside_window`` (both kinds occur);
- the estimate: ``FieldService.estimate`` for a read equals the energy and fixed charge of the bill the server
  makes for it once approved (a unit outside the motor's flats, no arrears): the same units, the same rupees;
- the GPS verdict: fixes at, near and past the society's limits; the capture screen's warning and the server's
  GPS flags agree fix by fix (``shared_billing.checks.gps_flags`` on both sides).
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from fastapi.testclient import TestClient

from mobile_app.capture import CaptureDraft, Fix, distance_warning, is_outside_window
from mobile_app.field_service import FieldService
from shared_billing.checks import ReadingFlag
from shared_billing.protocol import MeterAssignment, PushRequest, ReadingV1, ReadType
from sync_server.clock import FixedClock
from sync_server.demo import DEMO_PASSWORD, MOTOR_MEMBERS
from tests.sync_server.factories import auth, jpeg_bytes, sha256

WINDOW_METER, BILLED_METER, GPS_METER = "2BHK-B1-GF", "2BHK-B2-GF", "2BHK-B1-FF"
MONTHS = (Decimal(280), Decimal(310), Decimal(295))  # the units of the three months before October's read
GPS_FLAGS = {ReadingFlag.GPS_MISSING.value, ReadingFlag.GPS_INACCURATE.value, ReadingFlag.GPS_FAR.value}
METRES_A_DEGREE = 111_195.0  # of latitude, near enough: both sides measure the same fix anyway


def _give_history(client: TestClient, clock: FixedClock, meters: list[MeterAssignment]) -> None:
    """Three more approved months before each meter's previous read, as a phone and a supervisor would make them."""
    photo = jpeg_bytes(color=(90, 90, 90))
    history: list[ReadingV1] = []
    for meter in meters:
        if meter.previous is None:
            continue
        value, at = Decimal(meter.previous.value), meter.previous.captured_at
        for units in MONTHS:
            value, at = value - units, at - timedelta(days=30)
            history.append(
                ReadingV1(
                    uuid=uuid.uuid4(),
                    meter_id=meter.meter_id,
                    read_type=ReadType.ACTUAL,
                    value=str(value),
                    captured_at=at,
                    gps_lat=meter.lat,
                    gps_lon=meter.lon,
                    gps_accuracy_m=6.0,
                    photo_sha256=sha256(photo),
                )
            )
    engineer, supervisor = auth(client, "engineer1"), auth(client, "supervisor")
    push = PushRequest(device_id="history", sent_at=clock(), readings=history)
    answer = client.post("/api/sync/push", json=push.model_dump(mode="json"), headers=engineer)
    assert {result["outcome"] for result in answer.json()["results"]} == {"stored"}, answer.text
    uploaded = client.put(
        f"/api/photos/{sha256(photo)}", content=photo, headers={**engineer, "Content-Type": "image/jpeg"}
    )
    assert uploaded.status_code == 201, uploaded.text
    for reading in history:
        approved = client.post(f"/api/review/readings/{reading.uuid}/approve", headers=supervisor)
        assert approved.status_code == 200, approved.text


def _server_flags(client: TestClient, reading_uuid: uuid.UUID) -> set[str]:
    answer = client.get(f"/api/review/readings/{reading_uuid}", headers=auth(client, "supervisor"))
    assert answer.status_code == 200, answer.text
    return set(answer.json()["flags"])


def test_window_estimate_and_gps_verdict_are_the_servers(client: TestClient, clock: FixedClock, tmp_path: Path) -> None:
    service = FieldService(data_dir=tmp_path / "phone", server_url="", http=client, clock=clock)
    service.sign_in("engineer1", DEMO_PASSWORD)
    assert service.sync_once().error is None
    _give_history(client, clock, service.meters())
    assert service.sync_once().error is None  # the history's approvals reach the phone as a delta
    meters = {meter.unit_code: meter for meter in service.meters()}
    assert BILLED_METER not in MOTOR_MEMBERS  # no motor share on its bill
    photo_sha256, photo_path = service.attach_photo(jpeg_bytes())

    def save(meter: MeterAssignment, value: str, fix: Fix | None) -> uuid.UUID:
        draft = CaptureDraft(
            meter=meter,
            value_text=value,
            confirm_text=value,  # typed twice: the phone asks for it outside the window, and ignores it inside
            window=service.window(meter),
            fix=fix,
            photo_sha256=photo_sha256,
            photo_path=photo_path,
        )
        return service.save(draft).uuid

    def at_meter(meter: MeterAssignment, north_m: float = 0.0, accuracy_m: float | None = 6.0) -> Fix:
        assert meter.lat is not None
        assert meter.lon is not None
        return Fix(lat=meter.lat + north_m / METRES_A_DEGREE, lon=meter.lon, accuracy_m=accuracy_m)

    # The window: both edges, one register step inside and outside each.
    meter = meters[WINDOW_METER]
    window = service.window(meter)
    assert window is not None, "the pull carried no usage for a meter with four months of approved reads"
    assert meter.previous is not None
    assert window.low - 1 > Decimal(meter.previous.value)
    values = [window.low - 1, window.low, window.expected, window.high, window.high + 1]
    phone_says = {str(value): is_outside_window(value, window) for value in values}
    saved = {str(value): save(meter, str(value), at_meter(meter)) for value in values}

    # The estimate: the usual read of a flat outside the motor's share.
    billed = meters[BILLED_METER]
    billed_window = service.window(billed)
    assert billed_window is not None
    billed_value = billed_window.expected
    estimate = service.estimate(billed, billed_value)
    assert estimate is not None, "no estimate: the pull carried no tariff for the unit"
    billed_uuid = save(billed, str(billed_value), at_meter(billed))

    # The GPS verdict: at the meter, at and past the radius (distance − accuracy vs 100 m), inaccurate, none.
    gps_meter = meters[GPS_METER]
    limits = service.check_limits()
    fixes: list[Fix | None] = [
        at_meter(gps_meter),
        at_meter(gps_meter, north_m=limits.gps_radius_m - 20),
        at_meter(gps_meter, north_m=limits.gps_radius_m + 30),
        at_meter(gps_meter, north_m=limits.gps_radius_m + 30, accuracy_m=45.0),  # far, but within its accuracy
        at_meter(gps_meter, accuracy_m=limits.gps_accuracy_limit_m + 20),
        None,
    ]
    gps_window = service.window(gps_meter)
    assert gps_window is not None
    gps_value = str(gps_window.expected)  # inside its window: only the fix differs from one reading to the next
    phone_gps = [distance_warning(gps_meter, fix, limits) for fix in fixes]
    gps_saved = [save(gps_meter, gps_value, fix) for fix in fixes]

    report = service.sync_once(ignore_retry_times=True)
    assert report.error is None
    assert not [r for r in service.readings() if r.in_outbox], "everything uploaded"

    server_says = {value: ReadingFlag.OUTSIDE_WINDOW.value in _server_flags(client, saved[value]) for value in saved}
    assert server_says == phone_says
    assert set(phone_says.values()) == {True, False}  # both verdicts tested, not one

    server_gps = [_server_flags(client, reading) & GPS_FLAGS for reading in gps_saved]
    for fix, warning, flags in zip(fixes, phone_gps, server_gps, strict=True):
        assert (warning is None) == (not flags), (fix, warning, flags)
    assert {frozenset(flags) for flags in server_gps} >= {
        frozenset(),
        frozenset({ReadingFlag.GPS_FAR.value}),
        frozenset({ReadingFlag.GPS_INACCURATE.value}),
        frozenset({ReadingFlag.GPS_MISSING.value}),
    }

    supervisor, admin = auth(client, "supervisor"), auth(client, "admin")
    approved = client.post(f"/api/review/readings/{billed_uuid}/approve", headers=supervisor)
    assert approved.status_code == 200, approved.text
    bill = client.post("/api/bills", json={"reading_uuid": str(billed_uuid)}, headers=admin)
    assert bill.status_code == 201, bill.text
    lines = bill.json()["lines"]
    codes = {line["code"] for line in lines}
    assert codes <= {"energy", "fixed", "round_off"}, codes  # no motor share, no arrears: the unit's own charges
    energy = sum((Decimal(line["amount"]) for line in lines if line["code"] == "energy"), Decimal(0))
    fixed = sum((Decimal(line["amount"]) for line in lines if line["code"] == "fixed"), Decimal(0))
    assert (energy, fixed) == (estimate.energy, estimate.fixed)
    assert Decimal(bill.json()["payable"]) == estimate.total
