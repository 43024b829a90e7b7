from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from sync_server.db_types import UTCDateTime


class JobLease(SQLModel, table=True):
    """Who runs a background job now (``sync_server.leases``): one row per job, taken over once it expires."""

    __tablename__ = "job_lease"

    name: str = Field(primary_key=True, max_length=64)
    holder: str = Field(max_length=128)
    expires_at: datetime = Field(sa_type=UTCDateTime)
