"""Import jobs: an import run by the server for the console, its progress and its report."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Column, Index, Text, text
from sqlmodel import Field, SQLModel

from shared_billing.protocol import ImportKind, ImportStatus
from sync_server.db_types import JSON, StrEnumColumn, UTCDateTime

__all__ = ["RUNNING_IMPORT_INDEX", "ImportJob"]

#: At most one running import per kind, enforced by the database (a partial unique index, as bill runs do) so
#: two concurrent starts cannot both win.
RUNNING_IMPORT_INDEX = "uq_import_job_running"


class ImportJob(SQLModel, table=True):
    """One import of a file: written when it starts, its progress while it runs, its report when done."""

    __tablename__ = "import_job"
    __table_args__ = (
        Index(
            RUNNING_IMPORT_INDEX,
            "kind",
            unique=True,
            sqlite_where=text(f"status = '{ImportStatus.RUNNING.value}'"),
            postgresql_where=text(f"status = '{ImportStatus.RUNNING.value}'"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: ImportKind = Field(sa_type=StrEnumColumn(ImportKind, 20))
    dry_run: bool = False
    status: ImportStatus = Field(default=ImportStatus.RUNNING, sa_type=StrEnumColumn(ImportStatus, 12))
    file_name: str = Field(max_length=200)
    file_sha256: str = Field(max_length=64)
    size_bytes: int = 0
    tariff_code: str | None = Field(default=None, max_length=40)  # master data: the tariff new units are put on
    members_from: date | None = None  # master data: when a shared meter's members start sharing it
    total: int = 0  # rows in the file, known once the importer has read it
    processed: int = 0
    # The report's to_dict() plus its kind, as the command line's --json prints it; None until the job is done.
    report: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    quarantine_csv: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    error: str | None = Field(default=None, max_length=500)  # plain words, never an exception's text
    error_code: str | None = Field(default=None, max_length=40)  # a problems.CODES code
    started_by_id: int = Field(foreign_key="user.id")
    started_at: datetime = Field(sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # When the job last wrote progress: a running job whose heartbeat stopped lost its server (background tasks
    # die with it) and a new start supersedes it (sync_server.imports.jobs.IMPORT_STALE_AFTER).
    heartbeat_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
