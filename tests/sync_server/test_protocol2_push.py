"""Pushing protocol 2: a reading that reports a meter replacement is judged at the push and kept as pending.

docs/domain.md "Meter replacement": pushed against the OLD meter, ``value`` on the NEW meter's register, and the
replacement's old final value, new number and new initial value checked against their registers.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from shared_billing.checks import ReadingFlag
from shared_billing.consumption import MeterRegister
from shared_billing.protocol import MeterStatus, Replacement
from sync_server.models import Meter, Reading
from sync_server.replacement_check import CheckedReplacement, NamedMeter, Refusal, check_replacement
from tests.sync_server.factories import NOW, auth, meters_by_unit, reading

UNIT = "2BHK-B1-GF"


def _push(client: TestClient, headers: dict[str, str], items: list[dict[str, Any]], protocol: int = 2) -> Any:
    body = {"protocol": protocol, "device_id": "test-device", "sent_at": NOW.isoformat(), "readings": items}
    response = client.post("/api/sync/push", json=body, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def _swap(meter: dict[str, Any], **replacement: str) -> dict[str, Any]:
    """A replacement reading of ``meter``: old final 30 above its previous, a new meter read 5 after install."""
    previous = int(meter["previous"]["value"])
    fields = {"old_final_value": str(previous + 30), "new_meter_number": "NEW-7001", "new_initial_value": "0"}
    return reading(meter, value="5", replacement={**fields, **replacement})


def _stored(client: TestClient, reading_uuid: str) -> Reading:
    with Session(client.app.state.context.engine) as session:  # type: ignore[attr-defined]
        return session.exec(select(Reading).where(col(Reading.uuid) == uuid.UUID(reading_uuid))).one()


def test_a_replacement_reading_is_stored_with_its_pending_replacement(client: TestClient) -> None:
    headers = auth(client, "engineer1")
    meter = meters_by_unit(client, headers)[UNIT]
    item = _swap(meter)

    answer = _push(client, headers, [item])

    assert answer["protocol"] == 2
    [result] = answer["results"]
    assert (result["outcome"], result["status"]) == ("stored", "submitted")
    # 5 on the new meter is far below the old meter's previous value, and that is no fault: it is another register.
    assert ReadingFlag.BELOW_PREVIOUS not in result["flags"]
    row = _stored(client, item["uuid"])
    assert row.meter_id == meter["meter_id"]
    assert (row.value_text, row.value) == ("5", Decimal(5))
    assert row.replacement == item["replacement"]
    assert Replacement.model_validate(row.replacement).new_meter_number == "NEW-7001"


def test_a_replay_is_a_duplicate_and_a_changed_replacement_a_conflict(client: TestClient) -> None:
    headers = auth(client, "engineer1")
    item = _swap(meters_by_unit(client, headers)[UNIT])
    _push(client, headers, [item])

    [again] = _push(client, headers, [item])["results"]
    changed = {**item, "replacement": {**item["replacement"], "new_initial_value": "1"}}
    [conflict] = _push(client, headers, [changed])["results"]
    without = {key: value for key, value in item.items() if key != "replacement"}
    [dropped] = _push(client, headers, [without])["results"]

    assert again["outcome"] == "duplicate"
    assert (conflict["outcome"], conflict["code"]) == ("conflict", "reading.conflict")
    assert dropped["outcome"] == "conflict"
    assert _stored(client, item["uuid"]).replacement == item["replacement"]


def test_a_protocol_1_batch_carrying_a_replacement_has_that_item_rejected_naming_the_field(
    client: TestClient,
) -> None:
    headers = auth(client, "engineer1")
    meters = meters_by_unit(client, headers)
    swapped, plain = _swap(meters[UNIT]), reading(meters["2BHK-B1-FF"])

    answer = _push(client, headers, [swapped, plain], protocol=1)

    assert answer["protocol"] == 1
    rejected, stored = answer["results"]
    assert (rejected["outcome"], rejected["code"]) == ("rejected", "reading.invalid")
    assert rejected["message"].startswith("replacement:")
    assert stored["outcome"] == "stored"


def test_an_unknown_protocol_is_refused_as_a_whole(client: TestClient) -> None:
    headers = auth(client, "engineer1")
    body = {"protocol": 4, "device_id": "d", "sent_at": NOW.isoformat(), "readings": []}
    response = client.post("/api/sync/push", json=body, headers=headers)
    assert response.status_code == 422
    assert response.json()["code"] == "request.invalid"


@pytest.mark.parametrize(
    ("replacement", "value", "code", "message"),
    [
        ({"old_final_value": "1234567"}, "5", "reading.too_many_digits", "Old meter's final value: "),
        ({"old_final_value": "12.5"}, "5", "reading.too_many_decimals", "Old meter's final value: "),
        ({"new_initial_value": "-1"}, "5", "reading.negative_value", "New meter's initial value: "),
        ({}, "9999999", "reading.too_many_digits", "Value on the new meter NEW-7001: "),
        ({"old_final_value": "0"}, "5", "replacement.final_below_previous", "Old meter's final value 0 is below"),
        ({"new_initial_value": "10"}, "5", "replacement.value_below_initial", "Value 5 is below"),
    ],
)
def test_replacement_values_that_do_not_fit_are_rejected_with_the_field_named(
    client: TestClient, replacement: dict[str, str], value: str, code: str, message: str
) -> None:
    headers = auth(client, "engineer1")
    meter = meters_by_unit(client, headers)[UNIT]
    assert (meter["dials"], meter["decimals"]) == (6, 0)
    item = {**_swap(meter, **replacement), "value": value}

    [result] = _push(client, headers, [item])["results"]

    assert (result["outcome"], result["code"]) == ("rejected", code)
    assert result["message"].startswith(message)


def test_the_new_number_must_not_be_an_active_meter_or_the_replaced_one(client: TestClient) -> None:
    headers = auth(client, "engineer1")
    meters = meters_by_unit(client, headers)
    meter, other = meters[UNIT], meters["2BHK-B1-FF"]

    [taken] = _push(client, headers, [_swap(meter, new_meter_number=other["meter_number"])])["results"]
    [same] = _push(client, headers, [_swap(meter, new_meter_number=meter["meter_number"])])["results"]

    assert (taken["outcome"], taken["code"]) == ("rejected", "replacement.meter_taken")
    assert other["meter_number"] in taken["message"]
    assert (same["outcome"], same["code"]) == ("rejected", "replacement.same_meter")


def test_a_retired_meters_number_is_refused_as_the_replacement_event_refuses_it(client: TestClient) -> None:
    headers = auth(client, "engineer1")
    meters = meters_by_unit(client, headers)
    meter, other = meters[UNIT], meters["2BHK-B1-FF"]
    with Session(client.app.state.context.engine) as session:  # type: ignore[attr-defined]
        retired = session.get_one(Meter, other["meter_id"])
        retired.status = MeterStatus.RETIRED
        session.add(retired)
        session.commit()

    [result] = _push(client, headers, [_swap(meter, new_meter_number=other["meter_number"])])["results"]

    assert (result["outcome"], result["code"]) == ("rejected", "meter.number_taken")
    assert "retired" in result["message"]


def test_a_skip_cannot_report_a_replacement(client: TestClient) -> None:
    headers = auth(client, "engineer1")
    item = {**_swap(meters_by_unit(client, headers)[UNIT]), "read_type": "skip", "skip_reason": "locked"}
    item["value"] = None
    [result] = _push(client, headers, [item])["results"]
    assert (result["outcome"], result["code"]) == ("rejected", "replacement.on_skip")


# The rule itself, where the seeded meters cannot reach: rollovers near the top of a register.
SIX = MeterRegister(dials=6)


def _check(old_final: str, initial: str, value: str, previous: str | None) -> CheckedReplacement | Refusal:
    swap = Replacement(old_final_value=old_final, new_meter_number="N-1", new_initial_value=initial)
    return check_replacement(
        swap, value, old_meter_id=1, old=SIX, old_previous=None if previous is None else Decimal(previous), named=None
    )


def test_a_plausible_rollover_on_either_meter_is_flagged_not_refused() -> None:
    old_rolled = _check("000040", "0", "5", previous="999950")
    new_rolled = _check("100", "999990", "000003", previous="50")
    assert isinstance(old_rolled, CheckedReplacement)
    assert isinstance(new_rolled, CheckedReplacement)
    assert old_rolled.flags == new_rolled.flags == (ReadingFlag.BELOW_PREVIOUS,)
    assert (old_rolled.old_final, old_rolled.new_initial, old_rolled.value) == (Decimal(40), Decimal(0), Decimal(5))
    assert _check("100", "0", "5", previous=None) == CheckedReplacement(Decimal(100), Decimal(0), Decimal(5), ())


def test_two_rollovers_in_one_visit_are_refused() -> None:
    both = _check("000040", "999990", "000003", previous="999950")
    assert isinstance(both, Refusal)
    assert both.code == "replacement.final_below_previous"


def test_a_named_active_meter_is_taken_even_when_its_register_would_fit() -> None:
    swap = Replacement(old_final_value="100", new_meter_number="N-1", new_initial_value="0")
    named = NamedMeter(meter_id=2, dials=6, decimals=0, status=MeterStatus.ACTIVE)
    refused = check_replacement(swap, "5", old_meter_id=1, old=SIX, old_previous=Decimal(50), named=named)
    assert refused == Refusal("replacement.meter_taken", "Meter number N-1 is already an active meter")
