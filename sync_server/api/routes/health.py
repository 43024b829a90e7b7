from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from sync_server import __version__
from sync_server.db import ping
from sync_server.deps import PUBLIC, ContextDep, access

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str
    database: str
    version: str


@router.get("/health", **access(PUBLIC))
def health(context: ContextDep) -> Health:
    """Liveness and database reachability."""
    try:
        database = "ok" if ping(context.engine) else "error"
    except Exception:  # a health probe reports, never raises
        database = "error"
    return Health(status="ok" if database == "ok" else "degraded", database=database, version=__version__)
