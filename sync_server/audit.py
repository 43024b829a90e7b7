"""A tamper-evident audit log, sealed after the fact by one sealer at a time.

Writers only insert events (unsealed: no position, no digest), so they never wait on each other for the chain.
The sealer (``seal_pending``, run every second by the server under the ``audit-sealer`` lease) gives each unsealed
event the next position ``seq``, the previous event's digest and its own digest: HMAC-SHA256, keyed by a key
derived from the server secret, over the position, the event's id and content and the previous digest. A keyed
record of the chain head (last ``seq`` and digest, with its own MAC) is updated in the same transaction.

``verify_chain`` then detects an event rewritten (even with digests recomputed: that needs the key), removed from
the middle (a gap in ``seq``), or removed from the end (the head points past the last event), and a forged or
missing head. Its limits: someone able to write the table can still *add* events (the sealer seals what it
finds), and deleting every event together with the head leaves an empty, intact log.

Ordering on PostgreSQL: ids come from a sequence before commit, so a transaction still in flight can commit an
event with a lower id after a higher one was sealed. Each event records its inserting transaction id (``txid``,
a server default); the sealer takes only events whose transaction is older than the oldest one of this database
still running (``_PG_HORIZON``, from the statement's own snapshot), in (txid, id) order. Every event that
becomes visible later has a txid at or above that horizon, so the chain's order is fixed and nothing is ever
chained "before" a sealed event. A long writing transaction in this database delays sealing (never breaks it).
SQLite serializes writers, so every committed event is final and they are sealed in id order.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Callable
from contextlib import suppress
from dataclasses import asdict, dataclass, field
from datetime import UTC, timedelta
from functools import partial
from typing import Any

from sqlalchemy import ColumnElement, Engine, bindparam, func, insert, literal_column, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from sync_server.clock import Clock, system_clock
from sync_server.leases import release, try_acquire
from sync_server.models import AuditChainHead, AuditEvent
from sync_server.sql import table_of

__all__ = [
    "GENESIS",
    "SEALER_LEASE",
    "SEAL_EVERY_S",
    "AuditSealer",
    "ChainReport",
    "SealRefused",
    "chain_key",
    "event_digest",
    "head_mac",
    "seal_pending",
    "verify_chain",
]

log = logging.getLogger(__name__)

GENESIS = "0" * 64
SEALER_LEASE = "audit-sealer"
SEAL_EVERY_S = 1.0  # how soon after commit an event is sealed
SEAL_BATCH = 500  # events per sealing transaction: short write locks, and the lease is renewed between them
_HEAD_ID = 1

# What verify_chain reports, and what each means (the CLI and API print these).
PROBLEMS: dict[str, str] = {
    "event.altered": "the event's content or digest does not match its place in the chain (rewritten)",
    "event.missing": "sealed events are missing before this one (removed)",
    "chain.truncated": "the newest sealed events are missing: the chain head points past the last one (removed)",
    "head.missing": "sealed events exist but the chain head record is gone",
    "head.invalid": "the chain head record does not carry a valid MAC (forged)",
    "head.mismatch": "the chain head record does not match the sealed events",
}


class SealRefused(Exception):
    """The chain head is forged or behind the sealed events: sealing onto it would bless it, so the sealer stops."""


def chain_key(secret: str) -> bytes:
    """The chain's HMAC key, derived from the server secret so that it is never the token-signing key itself."""
    return hmac.new(secret.encode(), b"fieldmeter/audit-chain/v1", hashlib.sha256).digest()


def _content(event: AuditEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "at": event.at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor_id": event.actor_id,
        "action": event.action,
        "entity": event.entity,
        "entity_id": event.entity_id,
        "reason": event.reason,
        "detail": event.detail or {},
    }


def event_digest(key: bytes, seq: int, previous: str, event: AuditEvent) -> str:
    """HMAC-SHA256 over the event's position, the previous digest and its id and content (canonical JSON)."""
    document = {"seq": seq, "prev": previous, "event": _content(event)}
    payload = json.dumps(document, sort_keys=True, separators=(",", ":"), default=str)
    return hmac.new(key, payload.encode(), hashlib.sha256).hexdigest()


def head_mac(key: bytes, seq: int, digest: str) -> str:
    # A separate domain from event digests: the head cannot be forged by copying the newest remaining event's
    # digest into it after deleting the events that followed.
    return hmac.new(key, f"head\x00{seq}\x00{digest}".encode(), hashlib.sha256).hexdigest()


def _head_is_valid(key: bytes, head: AuditChainHead) -> bool:
    return hmac.compare_digest(head.mac, head_mac(key, head.seq, head.digest))


# The oldest transaction id that may still add an audit event: this statement's snapshot's oldest in-progress
# transaction, leaving out those known to run in *other* databases of the cluster (xids are cluster-wide, so
# pg_snapshot_xmin alone would let any long transaction elsewhere stall sealing), or the next xid if none.
# A transaction that ends between the snapshot and the pg_stat_activity read counts as ours: sealing waits a pass.
_PG_HORIZON = """(SELECT LEAST(
    pg_snapshot_xmax(pg_current_snapshot())::text::bigint,
    (SELECT min(x::text::bigint) FROM pg_snapshot_xip(pg_current_snapshot()) AS x
     WHERE x::xid NOT IN (SELECT a.backend_xid FROM pg_stat_activity AS a
                          WHERE a.backend_xid IS NOT NULL AND a.datname IS DISTINCT FROM current_database()))))"""


def _sealable(session: Session, limit: int) -> list[AuditEvent]:
    query = select(AuditEvent).where(col(AuditEvent.seq).is_(None))
    if session.get_bind().dialect.name == "postgresql":
        horizon: ColumnElement[int] = literal_column(_PG_HORIZON)
        # NULL txid: events from before migration 0003, all committed long ago.
        query = query.where(or_(col(AuditEvent.txid).is_(None), col(AuditEvent.txid) < horizon))
        query = query.order_by(func.coalesce(col(AuditEvent.txid), 0), col(AuditEvent.id))
    else:
        query = query.order_by(col(AuditEvent.id))
    return list(session.exec(query.limit(limit)).all())


def _seal_batch(engine: Engine, key: bytes, limit: int, clock: Clock) -> int:
    with Session(engine) as session:
        head = session.get(AuditChainHead, _HEAD_ID)
        if head is not None and not _head_is_valid(key, head):
            raise SealRefused("the audit chain head fails its MAC; run `fieldmeter audit verify`")
        start_seq, previous = (head.seq, head.digest) if head is not None else (0, GENESIS)
        events = _sealable(session, limit)
        if not events:
            return 0
        rows = []
        seq = start_seq
        for event in events:
            seq += 1
            digest = event_digest(key, seq, previous, event)
            rows.append({"event_id": event.id, "seq": seq, "prev_digest": previous, "digest": digest})
            previous = digest
        values = {"seq": seq, "digest": previous, "mac": head_mac(key, seq, previous), "sealed_at": clock()}
        heads = table_of(AuditChainHead)
        # Compare-and-set on the head first: it takes the write lock, and a second sealer that read the same head
        # (a lease lost during a long pause) changes nothing, so the chain can never fork.
        try:
            if head is None:
                session.execute(insert(heads).values(id=_HEAD_ID, **values))
            else:
                moved = session.execute(
                    update(heads)
                    .where(heads.c.id == _HEAD_ID, heads.c.seq == start_seq, heads.c.digest == head.digest)
                    .values(**values)
                )
                if moved.rowcount != 1:  # type: ignore[attr-defined]
                    session.rollback()
                    return 0
        except IntegrityError:  # another sealer created the head first
            session.rollback()
            return 0
        events_table = table_of(AuditEvent)
        try:
            session.execute(
                update(events_table)
                .where(events_table.c.id == bindparam("event_id"), events_table.c.seq.is_(None))
                .values(seq=bindparam("seq"), prev_digest=bindparam("prev_digest"), digest=bindparam("digest")),
                rows,
            )
        except IntegrityError as clash:  # positions past the head are taken: the head was rolled back
            session.rollback()
            raise SealRefused("sealed events lie beyond the audit chain head; run `fieldmeter audit verify`") from clash
        sealed = session.exec(
            select(func.count()).where(col(AuditEvent.seq) > start_seq, col(AuditEvent.seq) <= seq)
        ).one()
        if sealed != len(rows):  # an event vanished between reading and sealing: try again next pass
            session.rollback()
            return 0
        session.commit()
        return len(rows)


def seal_pending(
    engine: Engine,
    key: bytes,
    *,
    batch: int = SEAL_BATCH,
    clock: Clock = system_clock,
    keep_going: Callable[[], bool] | None = None,
) -> int:
    """Seal every event that can be sealed now, in batches; returns how many were sealed.

    ``keep_going`` (optional, called before each batch) lets a lease holder renew its lease and stop if lost.
    Raises ``SealRefused`` when the chain head has been forged.
    """
    total = 0
    while keep_going is None or keep_going():
        sealed = _seal_batch(engine, key, batch, clock)
        total += sealed
        if sealed < batch:
            break
    return total


@dataclass(frozen=True)
class ChainReport:
    intact: bool
    checked: int  # sealed events verified before the first break (all of them when intact)
    sealed: int  # sealed events found
    unsealed: int  # events not sealed yet (just written, or waiting for the sealer)
    head_seq: int  # where the keyed head record says the chain ends (0: no head yet)
    first_broken_seq: int | None
    first_broken_id: int | None  # the first event whose place in the chain does not verify, when known
    problem: str | None  # a key of PROBLEMS
    message: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _read_head(engine: Engine) -> AuditChainHead | None:
    with Session(engine, expire_on_commit=False) as session:
        return session.get(AuditChainHead, _HEAD_ID)


def _report(
    *,
    checked: int,
    sealed: int,
    unsealed: int,
    head: AuditChainHead | None,
    problem: str | None = None,
    seq: int | None = None,
    event_id: int | None = None,
) -> ChainReport:
    if problem is None:
        message = f"intact: {sealed} events sealed, {unsealed} not sealed yet"
    else:
        where = f" at position {seq}" if seq is not None else ""
        where += f" (event id {event_id})" if event_id is not None else ""
        message = f"broken{where}: {PROBLEMS[problem]}"
    return ChainReport(
        intact=problem is None,
        checked=checked,
        sealed=sealed,
        unsealed=unsealed,
        head_seq=head.seq if head is not None else 0,
        first_broken_seq=seq,
        first_broken_id=event_id,
        problem=problem,
        message=message,
    )


def verify_chain(engine: Engine, key: bytes) -> ChainReport:
    """Walk the sealed events in chain order and check every link, then the keyed head (read-only).

    The head is read before the walk: sealed events are never legitimately removed, so the walk must reach at
    least the head's position. Events sealed while walking may lie beyond it; they are accepted only if the head
    read again afterwards covers them.
    """
    head = _read_head(engine)
    head_ok = head is None or _head_is_valid(key, head)
    with Session(engine) as session:
        unsealed = session.exec(select(func.count()).where(col(AuditEvent.seq).is_(None))).one()
        sealed = session.exec(select(func.count()).where(col(AuditEvent.seq).is_not(None))).one()
        walk = select(AuditEvent).where(col(AuditEvent.seq).is_not(None)).order_by(col(AuditEvent.seq))
        expected, previous = 1, GENESIS
        for event in session.exec(walk.execution_options(yield_per=1000)):
            problem = None
            digest = event_digest(key, expected, previous, event)
            if event.seq != expected:
                problem = "event.missing"
            elif event.prev_digest != previous or not hmac.compare_digest(event.digest or "", digest):
                problem = "event.altered"
            elif head is not None and head_ok and expected == head.seq and event.digest != head.digest:
                problem = "head.mismatch"
            if problem is not None:
                return _report(
                    checked=expected - 1,
                    sealed=sealed,
                    unsealed=unsealed,
                    head=head,
                    problem=problem,
                    seq=expected,
                    event_id=event.id,
                )
            previous = digest
            expected += 1
    last = expected - 1
    # The walk went through every sealed event it could see: ``last`` of them (the count may predate a seal).
    found = partial(_report, checked=last, sealed=last, unsealed=unsealed, head=head)
    if not head_ok:
        return found(problem="head.invalid")
    if head is not None and head.seq > last:
        return found(problem="chain.truncated", seq=last + 1)
    if head is None or head.seq < last:
        later = _read_head(engine)  # a seal committed during the walk explains events beyond the first head
        if later is None:
            return found(problem="head.missing") if last > 0 else found()
        if not _head_is_valid(key, later):
            return found(problem="head.invalid")
        if later.seq < last:
            return found(problem="head.mismatch", seq=later.seq + 1)
    return found()


@dataclass
class AuditSealer:
    """The server's sealer: seals under the ``audit-sealer`` lease, so one process at a time does it."""

    engine: Engine
    key: bytes
    holder: str
    clock: Clock = system_clock
    lease_ttl: timedelta = timedelta(seconds=15)
    _refused: bool = field(default=False, init=False, repr=False)  # logged once, not every second

    def _renew(self) -> bool:
        return try_acquire(self.engine, SEALER_LEASE, self.holder, self.lease_ttl)

    def seal(self) -> int | None:
        """Seal what can be sealed now; None when another process holds the lease (and so does the sealing)."""
        if not self._renew():
            return None
        return seal_pending(self.engine, self.key, clock=self.clock, keep_going=self._renew)

    def run_once(self) -> None:
        """One pass of the background loop: logs a refusal once, not every second."""
        try:
            sealed = self.seal()
        except SealRefused as refused:
            if not self._refused:
                log.error("audit sealing stopped: %s", refused)
            self._refused = True
            return
        if self._refused:
            log.info("audit sealing resumed")
        self._refused = False
        if sealed:
            log.debug("audit events sealed: %d", sealed)

    def verify(self, *, seal_first: bool = True) -> ChainReport:
        """Verify the chain; by default seal first, so an event written a moment ago is not left unsealed."""
        if seal_first:
            with suppress(SealRefused):  # verify_chain reports the forged head
                self.seal()
        return verify_chain(self.engine, self.key)

    def release(self) -> None:
        release(self.engine, SEALER_LEASE, self.holder)
