"""A tamper-evident audit log: each event carries the SHA-256 of its content and of the event before it.

Changing, deleting or reordering a past event breaks the chain from that point, and ``verify_chain`` says where.
Writers are serialized while they extend the chain (a transaction-scoped advisory lock on PostgreSQL; SQLite
already has one writer at a time), so two transactions never chain onto the same predecessor.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import UTC
from typing import Any

from sqlalchemy import event, text
from sqlmodel import Session, col, select

from sync_server.models import AuditEvent

__all__ = ["GENESIS", "chain_rows", "event_digest", "install_audit_chain", "verify_chain"]

GENESIS = "0" * 64
_LOCK_KEY = 7422


def event_digest(previous: str, row: dict[str, Any]) -> str:
    content = {
        "at": row["at"].astimezone(UTC).isoformat(timespec="microseconds"),
        "actor_id": row.get("actor_id"),
        "action": row["action"],
        "entity": row["entity"],
        "entity_id": row["entity_id"],
        "reason": row.get("reason"),
        "detail": row.get("detail") or {},
    }
    payload = json.dumps(content, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256((previous + payload).encode()).hexdigest()


def _last_digest(session: Session) -> str:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
    last = session.exec(select(AuditEvent.sha256).order_by(col(AuditEvent.id).desc()).limit(1)).first()
    return last or GENESIS


def chain_rows(session: Session, rows: Iterable[dict[str, Any]]) -> None:
    """Fill ``prev_sha256``/``sha256`` of audit rows about to be inserted with Core, in order."""
    previous = _last_digest(session)
    for row in rows:
        row["prev_sha256"] = previous
        row["sha256"] = previous = event_digest(previous, row)


def _chain_new_events(session: Session, _context: Any, _instances: Any) -> None:
    new = [obj for obj in session.new if isinstance(obj, AuditEvent)]
    if not new:
        return
    previous = _last_digest(session)
    for audit in new:
        audit.prev_sha256 = previous
        audit.sha256 = previous = event_digest(previous, audit.model_dump())


def install_audit_chain() -> None:
    """Chain every AuditEvent added through an ORM session (idempotent)."""
    from sqlalchemy.orm import Session as OrmSession

    if not event.contains(OrmSession, "before_flush", _chain_new_events):
        event.listen(OrmSession, "before_flush", _chain_new_events)


def verify_chain(session: Session) -> tuple[int, int | None]:
    """(events checked, id of the first event whose hash does not follow) — None when the log is intact."""
    previous = GENESIS
    checked = 0
    for audit in session.exec(select(AuditEvent).order_by(col(AuditEvent.id))).all():
        if audit.prev_sha256 != previous or audit.sha256 != event_digest(previous, audit.model_dump()):
            return checked, audit.id
        previous = audit.sha256
        checked += 1
    return checked, None
