from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import Session, col, select

from sync_server.models import AuditEvent
from tests.sync_server.factories import auth, meters_by_unit, push, reading
from tests.sync_server.test_bill_runs import _issued_block_b


def _verify(client: TestClient) -> dict[str, object]:
    response = client.get("/api/audit/verify", headers=auth(client, "admin"))
    assert response.status_code == 200
    return dict(response.json())


def test_audit_chain_is_intact_after_pushes_reviews_bills_and_payments(client: TestClient) -> None:
    headers = auth(client, "engineer1")
    push(client, headers, [reading(meters_by_unit(client, headers)["2BHK-B1-GF"])])
    _issued_block_b(client)
    check = _verify(client)
    assert check["intact"] is True
    assert check["checked"] >= 8
    actions = {e["action"] for e in client.get("/api/audit/events?limit=500", headers=auth(client, "admin")).json()}
    assert {"sync.push", "reading.approved", "billrun.started", "billrun.done", "bill.issued"} <= actions


def test_tampering_with_a_past_event_is_detected_where_it_happened(client: TestClient) -> None:
    _issued_block_b(client)
    engine = client.app.state.context.engine  # type: ignore[attr-defined]
    with Session(engine) as session:
        target = session.exec(select(AuditEvent).where(AuditEvent.action == "bill.issued")).first()
        assert target is not None
        target_id = target.id
        session.execute(text("UPDATE audit_event SET entity_id = 'FM/2526/999999' WHERE id = :id"), {"id": target_id})
        session.commit()
        assert session.exec(select(col(AuditEvent.id)).order_by(col(AuditEvent.id))).first() is not None
    check = _verify(client)
    assert check["intact"] is False
    assert check["first_broken_id"] == target_id


def test_deleting_an_event_breaks_the_chain(client: TestClient) -> None:
    _issued_block_b(client)
    engine = client.app.state.context.engine  # type: ignore[attr-defined]
    with Session(engine) as session:
        ids = session.exec(select(AuditEvent.id).order_by(col(AuditEvent.id))).all()
        session.execute(text("DELETE FROM audit_event WHERE id = :id"), {"id": ids[2]})
        session.commit()
    assert _verify(client)["first_broken_id"] == ids[3]
