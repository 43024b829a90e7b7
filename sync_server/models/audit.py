from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Column, FetchedValue
from sqlmodel import Field, SQLModel

from sync_server.db_types import JSON, UTCDateTime


class AuditEvent(SQLModel, table=True):
    """Who did what, when and why; written in the same transaction as the change it records.

    Writers insert events unsealed (``seq`` empty); the sealer (``sync_server.audit``) later gives each one its
    place in the chain and its keyed digest, so writers never wait on each other for the chain.
    """

    __tablename__ = "audit_event"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_type=UTCDateTime)
    actor_id: int | None = Field(default=None, foreign_key="user.id")
    action: str = Field(max_length=40, index=True)
    entity: str = Field(max_length=24)
    entity_id: str = Field(max_length=64)
    reason: str | None = Field(default=None, max_length=500)
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # The inserting transaction's id on PostgreSQL (a server default set by migration 0003), so the sealer can
    # tell which rows no transaction still in flight can precede. Empty on SQLite, whose writers are serialized.
    # FetchedValue (no DDL here): the ORM leaves the column out of its INSERTs so the server default applies.
    txid: int | None = Field(default=None, sa_type=BigInteger, sa_column_kwargs={"server_default": FetchedValue()})
    # The chain, filled by the sealer: position (1, 2, ...), the previous event's digest and this one's.
    seq: int | None = Field(default=None, unique=True, index=True, sa_type=BigInteger)
    prev_digest: str | None = Field(default=None, max_length=64)
    digest: str | None = Field(default=None, max_length=64)


class AuditChainHead(SQLModel, table=True):
    """The newest sealed position and digest, with a keyed MAC: deleting the newest sealed events (whose
    digests would otherwise still chain perfectly) leaves the head pointing past the end of the log."""

    __tablename__ = "audit_chain_head"

    id: int = Field(default=1, primary_key=True)  # one row
    seq: int = Field(sa_type=BigInteger)
    digest: str = Field(max_length=64)
    mac: str = Field(max_length=64)
    sealed_at: datetime = Field(sa_type=UTCDateTime)
