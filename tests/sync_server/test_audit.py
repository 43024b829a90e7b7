"""The audit chain: events written unsealed, sealed by one sealer with keyed digests, tampering detected."""

from __future__ import annotations

import hashlib
import json
import threading
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlmodel import Session, col, select

from sync_server.audit import GENESIS, AuditSealer, SealRefused, chain_key, head_mac, seal_pending, verify_chain
from sync_server.models import AuditChainHead, AuditEvent, User
from tests.sync_server.factories import auth, meters_by_unit, push, reading
from tests.sync_server.test_bill_runs import _issued_block_b


@pytest.fixture
def client(demo_app: FastAPI) -> TestClient:
    """The demo app without its lifespan: no background sealer, so each test decides when events are sealed."""
    return TestClient(demo_app)


def _sealer(client: TestClient) -> AuditSealer:
    sealer: AuditSealer = client.app.state.sealer  # type: ignore[attr-defined]
    return sealer


def _engine(client: TestClient) -> Engine:
    return _sealer(client).engine


def _verify(client: TestClient) -> dict[str, Any]:
    response = client.get("/api/audit/verify", headers=auth(client, "admin"))
    assert response.status_code == 200, response.text
    return dict(response.json())


def _events(engine: Engine) -> list[AuditEvent]:
    with Session(engine) as session:
        return list(session.exec(select(AuditEvent).order_by(col(AuditEvent.id))).all())


def _sealed_log(client: TestClient) -> list[AuditEvent]:
    """A push (events inserted with Core) and some events added through the ORM, all sealed: a log to tamper with."""
    headers = auth(client, "engineer1")
    meters = meters_by_unit(client, headers)
    push(client, headers, [reading(meters["2BHK-B1-GF"]), reading(meters["5BHK-B17-FF"])])
    with Session(_engine(client)) as session:
        for number in range(8):
            detail = {"n": number, "units": ["110", "111.5"], "note": "₹ ok"}
            at = datetime(2025, 11, 20, 4, number, 30, 123456, tzinfo=UTC)
            session.add(AuditEvent(at=at, action="bill.issued", entity="bill", entity_id=f"FM/{number}", detail=detail))
        session.commit()
    _sealer(client).seal()
    events = _events(_engine(client))
    assert len(events) >= 9
    assert all(event.seq is not None for event in events)
    return sorted(events, key=lambda event: event.seq or 0)


def _execute(engine: Engine, statement: str, **params: Any) -> None:
    with Session(engine) as session:
        session.execute(text(statement), params)
        session.commit()


def test_audit_chain_is_intact_after_pushes_reviews_bills_and_payments(client: TestClient) -> None:
    headers = auth(client, "engineer1")
    push(client, headers, [reading(meters_by_unit(client, headers)["2BHK-B1-GF"])])
    _issued_block_b(client)
    check = _verify(client)
    total = len(_events(_engine(client)))
    assert check["intact"] is True
    assert check["problem"] is None
    assert check["sealed"] == check["checked"] == check["head_seq"] == total >= 8
    assert check["unsealed"] == 0
    actions = {
        e["action"] for e in client.get("/api/audit/events?limit=500", headers=auth(client, "admin")).json()["items"]
    }
    assert {"sync.push", "reading.approved", "billrun.started", "billrun.done", "bill.issued"} <= actions


def test_writers_insert_unsealed_events_and_the_sealer_chains_them_in_order(client: TestClient) -> None:
    engine = _engine(client)
    key = _sealer(client).key
    _sealer(client).seal()
    before = len(_events(engine))
    with Session(engine) as session:  # what every writer does now: insert, nothing more
        for number in range(3):
            session.add(
                AuditEvent(at=datetime(2025, 11, 20, tzinfo=UTC), action="t.write", entity="t", entity_id=f"{number}")
            )
        session.commit()
    fresh = [event for event in _events(engine) if event.action == "t.write"]
    assert [(event.seq, event.digest) for event in fresh] == [(None, None)] * 3
    # A fresh event is pending, not tampering, even before anyone seals it.
    pending = verify_chain(engine, key)
    assert (pending.intact, pending.unsealed, pending.sealed) == (True, 3, before)

    assert seal_pending(engine, key) == 3
    events = sorted(_events(engine), key=lambda event: event.seq or 0)
    assert [event.seq for event in events] == list(range(1, before + 4))
    assert [event.prev_digest for event in events] == [GENESIS] + [event.digest for event in events[:-1]]
    assert [event.id for event in events[-3:]] == [event.id for event in fresh]
    check = verify_chain(engine, key)
    assert (check.intact, check.sealed, check.unsealed, check.head_seq) == (True, before + 3, 0, before + 3)


def test_rewriting_a_sealed_event_is_detected_where_it_happened(client: TestClient) -> None:
    events = _sealed_log(client)
    target = next(event for event in events if event.action == "bill.issued")
    _execute(_engine(client), "UPDATE audit_event SET entity_id = 'FM/2526/999999' WHERE id = :id", id=target.id)
    check = _verify(client)
    assert check["intact"] is False
    assert check["problem"] == "event.altered"
    assert (check["first_broken_seq"], check["first_broken_id"]) == (target.seq, target.id)
    assert check["checked"] == (target.seq or 0) - 1


def test_rewriting_and_recomputing_the_chain_with_plain_sha256_is_detected(client: TestClient) -> None:
    events = _sealed_log(client)
    target = events[len(events) // 2]
    engine = _engine(client)
    # The forger rewrites the event and recomputes every digest from it on, as the old unkeyed chain allowed.
    previous = target.prev_digest or GENESIS
    with Session(engine) as session:
        for event in events[events.index(target) :]:
            content = {"action": event.action, "entity_id": event.entity_id, "detail": event.detail}
            if event.id == target.id:
                content["entity_id"] = "forged"
            digest = hashlib.sha256((previous + json.dumps(content, sort_keys=True)).encode()).hexdigest()
            session.execute(
                text("UPDATE audit_event SET entity_id = :e, prev_digest = :p, digest = :d WHERE id = :id"),
                {"e": content["entity_id"], "p": previous, "d": digest, "id": event.id},
            )
            previous = digest
        session.execute(text("UPDATE audit_chain_head SET digest = :d"), {"d": previous})
        session.commit()
    check = _verify(client)
    assert (check["intact"], check["problem"]) == (False, "event.altered")
    assert (check["first_broken_seq"], check["first_broken_id"]) == (target.seq, target.id)


def test_deleting_a_middle_event_is_detected_at_the_gap(client: TestClient) -> None:
    events = _sealed_log(client)
    _execute(_engine(client), "DELETE FROM audit_event WHERE id = :id", id=events[2].id)
    check = _verify(client)
    assert (check["intact"], check["problem"]) == (False, "event.missing")
    assert (check["first_broken_seq"], check["first_broken_id"]) == (events[2].seq, events[3].id)


def test_deleting_the_newest_events_is_detected_as_a_truncated_chain(client: TestClient) -> None:
    events = _sealed_log(client)
    for event in events[-2:]:
        _execute(_engine(client), "DELETE FROM audit_event WHERE id = :id", id=event.id)
    check = _verify(client)
    assert (check["intact"], check["problem"]) == (False, "chain.truncated")
    assert check["first_broken_seq"] == events[-2].seq
    assert (check["checked"], check["head_seq"]) == (len(events) - 2, len(events))


def test_a_forged_head_is_detected_and_the_sealer_refuses_to_extend_it(client: TestClient) -> None:
    events = _sealed_log(client)
    engine, sealer = _engine(client), _sealer(client)
    # Truncate, then point the head at the last remaining event with a MAC the forger can compute (no key).
    for event in events[-2:]:
        _execute(engine, "DELETE FROM audit_event WHERE id = :id", id=event.id)
    last = events[-3]
    forged_mac = hashlib.sha256(f"head{last.seq}{last.digest}".encode()).hexdigest()
    _execute(
        engine, "UPDATE audit_chain_head SET seq = :s, digest = :d, mac = :m", s=last.seq, d=last.digest, m=forged_mac
    )
    check = _verify(client)
    assert (check["intact"], check["problem"], check["head_seq"]) == (False, "head.invalid", last.seq)

    with Session(engine) as session:
        session.add(AuditEvent(at=datetime(2025, 11, 20, tzinfo=UTC), action="t.after", entity="t", entity_id="x"))
        session.commit()
    with pytest.raises(SealRefused):
        seal_pending(engine, sealer.key)
    assert [event.seq for event in _events(engine) if event.action == "t.after"] == [None]


def test_a_removed_head_record_is_detected(client: TestClient) -> None:
    _sealed_log(client)
    _execute(_engine(client), "DELETE FROM audit_chain_head")
    check = _verify(client)
    assert (check["intact"], check["problem"]) == (False, "head.missing")


def test_digests_are_keyed_by_the_server_secret(client: TestClient) -> None:
    _sealed_log(client)
    engine = _engine(client)
    assert verify_chain(engine, _sealer(client).key).intact is True
    other = verify_chain(engine, chain_key("another secret of at least 32 characters!"))
    assert (other.intact, other.problem, other.first_broken_seq) == (False, "event.altered", 1)


def test_concurrent_sealers_never_fork_the_chain(client: TestClient) -> None:
    """Even without the lease (a holder paused past its expiry), the head's compare-and-set keeps one chain."""
    engine, key = _engine(client), _sealer(client).key
    with Session(engine) as session:
        for number in range(120):
            session.add(
                AuditEvent(at=datetime(2025, 11, 20, tzinfo=UTC), action="t.many", entity="t", entity_id=f"{number}")
            )
        session.commit()
    total = len(_events(engine))
    start = threading.Barrier(4)
    sealed: list[int] = []

    def contend() -> None:
        start.wait()
        for _ in range(10):
            sealed.append(seal_pending(engine, key, batch=7))

    threads = [threading.Thread(target=contend) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seal_pending(engine, key)  # whatever lost races is sealed now
    events = _events(engine)
    assert sorted(event.seq or 0 for event in events) == list(range(1, total + 1))
    check = verify_chain(engine, key)
    assert (check.intact, check.sealed, check.unsealed) == (True, total, 0)
    assert sum(sealed) <= total


def test_head_record_matches_the_last_sealed_event(client: TestClient) -> None:
    events = _sealed_log(client)
    with Session(_engine(client)) as session:
        head = session.get(AuditChainHead, 1)
    assert head is not None
    assert (head.seq, head.digest) == (events[-1].seq, events[-1].digest)


def test_an_old_head_record_replayed_is_detected_and_not_sealed_onto(client: TestClient) -> None:
    events = _sealed_log(client)
    engine, key = _engine(client), _sealer(client).key
    old = events[-3]  # a genuine head record from an earlier pass, kept by someone and written back
    _execute(
        engine,
        "UPDATE audit_chain_head SET seq = :s, digest = :d, mac = :m",
        s=old.seq,
        d=old.digest,
        m=head_mac(key, old.seq or 0, old.digest or ""),
    )
    check = verify_chain(engine, key)
    assert (check.intact, check.problem, check.first_broken_seq) == (False, "head.mismatch", (old.seq or 0) + 1)
    with Session(engine) as session:
        session.add(AuditEvent(at=datetime(2025, 11, 20, tzinfo=UTC), action="t.after", entity="t", entity_id="x"))
        session.commit()
    with pytest.raises(SealRefused):
        seal_pending(engine, key)


def test_the_audit_log_pages_and_filters_by_object_actor_and_day(client: TestClient) -> None:
    engine = _engine(client)
    tz = client.app.state.context.settings.tz  # type: ignore[attr-defined]
    with Session(engine) as session:
        admin_id = session.exec(select(User.id).where(User.username == "admin")).one()
        # Either side of midnight in the society's zone: 23:30 on the 19th and 00:30 on the 20th, India time.
        for number, local in enumerate((datetime(2025, 11, 19, 23, 30), datetime(2025, 11, 20, 0, 30))):
            session.add(
                AuditEvent(
                    at=local.replace(tzinfo=tz).astimezone(UTC),
                    actor_id=admin_id,
                    action="t.night",
                    entity="widget",
                    entity_id=str(number),
                )
            )
        session.commit()
    admin = auth(client, "admin")

    def listed(**params: Any) -> dict[str, Any]:
        answer = client.get("/api/audit/events", params=params, headers=admin)
        assert answer.status_code == 200, answer.text
        page: dict[str, Any] = answer.json()
        return page

    everything = listed(limit=1000)
    assert everything["total"] == len(everything["items"]) >= 2
    assert [event["id"] for event in everything["items"]] == sorted(
        (e["id"] for e in everything["items"]), reverse=True
    )
    widgets = listed(entity="widget")
    assert (widgets["total"], {e["actor"] for e in widgets["items"]}) == (2, {"admin"})
    assert [e["entity_id"] for e in listed(entity="widget", since="2025-11-20")["items"]] == ["1"]
    assert [e["entity_id"] for e in listed(entity="widget", until="2025-11-19")["items"]] == ["0"]
    assert listed(entity="widget", entity_id="1", actor_id=admin_id)["total"] == 1
    assert listed(entity="widget", limit=1, offset=1)["items"][0]["entity_id"] == "0"
    assert client.get("/api/audit/events", params={"actr": 1}, headers=admin).status_code == 422
    assert client.get("/api/audit/events", params={"since": "20-11-2025"}, headers=admin).status_code == 422
    assert client.get("/api/audit/events", headers=auth(client, "supervisor")).status_code == 403
