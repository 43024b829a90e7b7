"""Protocol 2 end to end: the phone's field service, store and sync client against the real server app, in-process,
on both databases.

A reading that reports a meter replacement is saved with its outbox row, pushed as protocol 2 and stored with its
pending replacement; a replay is a duplicate, the same id with a changed replacement a conflict, and a replacement
that does not fit the meter's dials is rejected with a reason and stays on the phone. Confirmed by the supervisor,
it is billed as one (both meters, a trace line each) and the phone's next pull has the new meter in its place.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from mobile_app.capture import CaptureDraft, Fix
from mobile_app.field_service import FieldService
from mobile_app.store import LocalState
from shared_billing.protocol import MeterAssignment, Outcome, PushRequest, ReadingV1, Replacement, payload_sha256
from sync_server.clock import FixedClock
from sync_server.demo import DEMO_PASSWORD
from sync_server.models import Reading
from tests.sync_server.factories import auth, jpeg_bytes


def _server_row(client: TestClient, reading: ReadingV1) -> Reading | None:
    with Session(client.app.state.context.engine) as session:  # type: ignore[attr-defined]
        return session.exec(select(Reading).where(col(Reading.uuid) == reading.uuid)).first()


def test_the_phone_pushes_a_replacement_in_protocol_2(client: TestClient, clock: FixedClock, tmp_path: Path) -> None:
    service = FieldService(data_dir=tmp_path / "phone", server_url="", http=client, clock=clock)
    service.sign_in("engineer1", DEMO_PASSWORD)
    assert service.sync_once().error is None
    meters = {meter.unit_code: meter for meter in service.meters()}
    old, other, plain_meter = meters["2BHK-B1-GF"], meters["2BHK-B1-FF"], meters["5BHK-B17-FF"]
    assert old.previous is not None
    assert other.previous is not None
    assert plain_meter.previous is not None
    assert old.dials == other.dials == 6

    photo_sha256, photo_path = service.attach_photo(jpeg_bytes())
    at_the_meter = Fix(lat=old.lat or 30.9, lon=old.lon or 75.85, accuracy_m=6.0)

    def draft(meter: MeterAssignment, value: str) -> CaptureDraft:
        return CaptureDraft(
            meter=meter,
            value_text=value,
            fix=at_the_meter,
            photo_sha256=photo_sha256,
            photo_path=photo_path,
        )

    swap = Replacement(
        old_final_value=str(int(old.previous.value) + 30), new_meter_number="NEW-9001", new_initial_value="0"
    )
    # Saved offline: the new meter shows 5, far below the old meter's previous value, and that is no question here.
    replaced = service.save_replacement(draft(old, "5"), swap)
    does_not_fit = service.save_replacement(
        draft(other, "5"), Replacement(old_final_value="1234567", new_meter_number="NEW-9002", new_initial_value="0")
    )
    plain = service.save(draft(plain_meter, str(int(plain_meter.previous.value) + 40)))
    assert plain.replacement is None

    report = service.sync_once()

    assert (report.error, report.stored, report.rejected) == (None, 2, 1)
    row = _server_row(client, replaced)
    assert row is not None
    assert (row.meter_id, row.value_text, row.replacement) == (old.meter_id, "5", swap.model_dump(mode="json"))
    assert row.payload_sha256 == payload_sha256(replaced)
    # The plain reading in the same protocol-2 batch keeps the hash protocol 1 gives it.
    plain_row = _server_row(client, plain)
    assert plain_row is not None
    assert plain_row.payload_sha256 == payload_sha256(ReadingV1.model_validate(plain.model_dump()))
    assert _server_row(client, does_not_fit) is None

    records = {record.reading.uuid: record for record in service.readings()}
    assert records[replaced.uuid].state is LocalState.UPLOADED
    kept = records[does_not_fit.uuid]
    assert (kept.state, kept.server_code) == (LocalState.REJECTED, "reading.too_many_digits")
    assert kept.server_message is not None
    assert kept.server_message.startswith("Old meter's final value: ")
    assert kept.reading == does_not_fit  # kept on the phone, replacement and all
    assert not kept.in_outbox

    # The same reading again (a lost answer): a duplicate; the same id with another replacement: a conflict.
    def push_again(reading: ReadingV1) -> Outcome:
        request = PushRequest(protocol=2, device_id=service.device_id, sent_at=clock(), readings=[reading])
        [result] = service.api.push(request).results
        return result.outcome

    assert push_again(replaced) == Outcome.DUPLICATE
    other_initial = swap.model_copy(update={"new_initial_value": "1"})
    assert push_again(replaced.model_copy(update={"replacement": other_initial})) == Outcome.CONFLICT
    stored_again = _server_row(client, replaced)
    assert stored_again is not None
    assert stored_again.replacement == swap.model_dump(mode="json")
    assert stored_again.value == Decimal(5)

    # The supervisor confirms it; the bill sums both meters, a trace line each; the phone's next pull has the new
    # meter in the old one's place and the decision on its reading.
    supervisor, admin = auth(client, "supervisor"), auth(client, "admin")
    confirm = f"/api/review/readings/{replaced.uuid}/replacement/confirm"
    confirmed = client.post(confirm, json={"reason": "Seen on site"}, headers=supervisor)
    assert confirmed.status_code == 200, confirmed.text
    bill = client.post("/api/bills", json={"reading_uuid": str(replaced.uuid)}, headers=admin)
    assert bill.status_code == 201, bill.text
    energy = [line for line in bill.json()["lines"] if line["code"] == "energy"]
    assert sum(Decimal(line["quantity"]) for line in energy) == Decimal(30 + 5)  # old meter 30, new meter 5 − 0
    trace = bill.json()["trace"]
    # The replacement's date is the reading's, as a day of the society's time zone.
    society = client.app.state.context.settings.tz  # type: ignore[attr-defined]
    on = replaced.captured_at.astimezone(society).date().isoformat()
    assert [line.split(":")[0] for line in trace if line.startswith(("Old meter", "New meter"))] == [
        f"Old meter {old.meter_number} until {on}",
        f"New meter NEW-9001 from {on}",
    ]

    assert service.sync_once().error is None
    now_on_route = {meter.unit_code: meter for meter in service.meters()}["2BHK-B1-GF"]
    assert now_on_route.meter_number == "NEW-9001"
    assert {record.reading.uuid: record for record in service.readings()}[replaced.uuid].review_status == "approved"
