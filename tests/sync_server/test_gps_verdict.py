"""The GPS verdict is one function: the phone (with the society's limits from the pull) warns exactly where the
server flags. The phone's path is the capture rules with the limits its store kept from a real pull; the server's
is a real push with the society's configured limits."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from geopy.distance import great_circle

from mobile_app.capture import Fix, distance_warning
from mobile_app.store import apply_pull, open_store
from mobile_app.store.sync_state import get_check_limits
from shared_billing.checks import DEFAULT_LIMITS, ReadingFlag
from shared_billing.protocol import MeterAssignment, PullResponse
from sync_server.config import Settings
from tests.sync_server.factories import auth, push, reading

# Stricter than the defaults (50 m, 100 m), so a phone that ignored the pulled limits would disagree.
ACCURACY_LIMIT_M = 20.0
RADIUS_M = 40.0


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        secret_key="t" * 40,
        mount_web_app=False,
        gps_accuracy_limit_m=ACCURACY_LIMIT_M,
        gps_radius_m=RADIUS_M,
    )


def _north_of(meter: MeterAssignment, metres: float, accuracy_m: float | None) -> Fix:
    assert meter.lat is not None
    assert meter.lon is not None
    point = great_circle(meters=metres).destination((meter.lat, meter.lon), bearing=0)
    return Fix(point.latitude, point.longitude, accuracy_m)


def _phone_verdict(warning: str | None) -> set[str]:
    if warning is None:
        return set()
    if warning.startswith("No GPS fix"):
        return {ReadingFlag.GPS_MISSING.value}
    if warning.startswith("GPS accuracy"):
        return {ReadingFlag.GPS_INACCURATE.value}
    assert warning.startswith("You are ")
    return {ReadingFlag.GPS_FAR.value}


GPS_FLAGS = {flag.value for flag in (ReadingFlag.GPS_MISSING, ReadingFlag.GPS_INACCURATE, ReadingFlag.GPS_FAR)}


def test_the_phone_and_the_server_give_a_fix_the_same_gps_verdict(client: TestClient, tmp_path: Path) -> None:
    headers = auth(client, "engineer1")
    pulled = PullResponse.model_validate(client.get("/api/sync/pull", headers=headers).json())
    assert pulled.limits is not None
    assert (pulled.limits.gps_accuracy_limit_m, pulled.limits.gps_radius_m) == (ACCURACY_LIMIT_M, RADIUS_M)

    store = open_store(path=tmp_path / "phone.db")
    assert get_check_limits(store=store) == DEFAULT_LIMITS  # before the first pull
    apply_pull(store=store, pull=pulled)
    limits = get_check_limits(store=store)
    assert (limits.gps_accuracy_limit_m, limits.gps_radius_m) == (ACCURACY_LIMIT_M, RADIUS_M)

    meter = next(m for m in pulled.meters if m.lat is not None and m.previous is not None)
    fixes: list[Fix | None] = [
        None,
        _north_of(meter, 0, 5.0),
        _north_of(meter, 30, 5.0),  # within 40 m: fine here, though…
        _north_of(meter, 60, 5.0),  # …60 m is far under these limits and fine under the defaults
        _north_of(meter, 60, 25.0),  # 60 − 25 = 35 m could be within the radius, but ±25 m is poor
        _north_of(meter, 10, 30.0),  # poor here, fine under the defaults
        _north_of(meter, 10, None),  # accuracy unknown: flagged by the server, so warned on the phone
        _north_of(meter, 300, 50.0),  # poor and far: the phone names the first, the server flags both
    ]
    items: list[dict[str, Any]] = []
    phone: list[set[str]] = []
    meter_as_pulled = client.get("/api/sync/pull", headers=headers).json()["meters"]
    pulled_json = next(m for m in meter_as_pulled if m["meter_id"] == meter.meter_id)
    for fix in fixes:
        items.append(
            reading(
                pulled_json,
                gps_lat=fix.lat if fix else None,
                gps_lon=fix.lon if fix else None,
                gps_accuracy_m=fix.accuracy_m if fix else None,
            )
        )
        phone.append(_phone_verdict(distance_warning(meter, fix, limits)))
    results = push(client, headers, items)
    server = [set(result["flags"]) & GPS_FLAGS for result in results]

    for fix, on_phone, on_server in zip(fixes, phone, server, strict=True):
        # The phone shows one warning; it is the server's first GPS flag (ReadingFlag order), or none for none.
        assert on_phone <= on_server, fix
        assert bool(on_phone) == bool(on_server), fix
    assert [bool(flags) for flags in server] == [True, False, False, True, True, True, True, True]
