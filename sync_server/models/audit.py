from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column
from sqlmodel import Field, SQLModel

from sync_server.db_types import JSON, UTCDateTime


class AuditEvent(SQLModel, table=True):
    """Who did what, when and why; written in the same transaction as the change it records."""

    __tablename__ = "audit_event"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_type=UTCDateTime)
    actor_id: int | None = Field(default=None, foreign_key="user.id")
    action: str = Field(max_length=40, index=True)
    entity: str = Field(max_length=24)
    entity_id: str = Field(max_length=64)
    reason: str | None = Field(default=None, max_length=500)
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # The chain (sync_server.audit): this event's digest over its content and the previous event's digest.
    prev_sha256: str = Field(default="", max_length=64)
    sha256: str = Field(default="", max_length=64)
