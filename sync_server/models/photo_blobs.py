"""Photo bytes kept in the central database (``FIELDMETER_PHOTO_STORE=database``): several stateless server
machines then serve one society's photos and resume each other's uploads (docs/operations.md "Photo store")."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, LargeBinary
from sqlmodel import Field, SQLModel

from sync_server.db_types import UTCDateTime


class PhotoBlob(SQLModel, table=True):
    """A checked photo's bytes, under their SHA-256 (``Photo`` holds what was learnt of them)."""

    __tablename__ = "photo_blob"

    sha256: str = Field(primary_key=True, max_length=64)
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class PhotoPartial(SQLModel, table=True):
    """What has arrived of a photo sent in pieces: never a photo until the whole bytes pass the checks."""

    __tablename__ = "photo_partial"

    sha256: str = Field(primary_key=True, max_length=64)
    total: int  # the size the upload declared (Content-Range)
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    updated_at: datetime = Field(sa_type=UTCDateTime, index=True)  # the server clock's time of the last piece
