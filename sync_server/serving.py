"""Serving with ``fieldmeter serve``: one process, or ``--workers N`` processes sharing one PostgreSQL database.

uvicorn starts workers as fresh processes (spawn) from an import string, so each worker builds its own app from
the environment (``app_from_environment``). What must happen once happens in the parent before any worker starts
(``prepare``): migrations (under their lock, ``sync_server.db.migrate``), the generated secret (published
atomically, ``sync_server.config.load_secret_key``) and the demo seed. Workers never migrate; their background
jobs (audit sealer, bill-status refresh) run under database leases, so one worker does each.
"""

from __future__ import annotations

import gc
import os

from fastapi import FastAPI
from sqlalchemy.exc import IntegrityError

from sync_server.config import Settings, load_secret_key
from sync_server.db import engine_for, migrate
from sync_server.demo import seed_demo
from sync_server.main import create_app

__all__ = [
    "APP_FACTORY",
    "app_from_environment",
    "export_to_environment",
    "prepare",
    "settle_heap",
    "workers_refusal",
]

# The import string uvicorn gives each worker (``factory=True``: it calls this to get the app).
APP_FACTORY = "sync_server.serving:app_from_environment"


def workers_refusal(settings: Settings, workers: int) -> str | None:
    """Why ``workers`` processes cannot serve this database, or None when they can."""
    if workers > 1 and settings.sqlalchemy_url.startswith("sqlite"):
        return (
            f"--workers {workers} needs PostgreSQL (DATABASE_URL=postgresql://user@host:5432/db): SQLite takes one "
            "writer at a time, so more processes would only queue behind its lock. Run one process on SQLite."
        )
    return None


def prepare(settings: Settings, *, demo: bool) -> bool | None:
    """Migrate, make sure the secret exists and (with ``demo``) seed; True/False: seeded or not, None: no demo."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    load_secret_key(settings)
    engine = engine_for(settings)
    try:
        migrate(engine)
        if not demo:
            return None
        try:
            return seed_demo(engine, now=settings.clock()(), tz=settings.tz)
        except IntegrityError:
            # Another server started on the same empty database at the same moment and seeded it first (its
            # users' unique names stopped ours, and seed_demo's one transaction left nothing half-written).
            return False
    finally:
        engine.dispose()


def export_to_environment(settings: Settings) -> None:
    """Hand the command line's settings to the workers, which read only the environment."""
    os.environ["FIELDMETER_DATA_DIR"] = str(settings.data_dir.resolve())
    os.environ["FIELDMETER_HOST"] = settings.host
    os.environ["FIELDMETER_PORT"] = str(settings.port)


def settle_heap() -> None:
    """Collect, then move what survived — the modules, the app, their caches: alive as long as the process — out of
    the cyclic collector's reach (``gc.freeze``). Otherwise every full collection walks that heap again, and work that
    allocates thousands of containers at once triggers many: issuing a bill run went from 0.23 to 0.30 of the raw
    insert's speed with it (bench/bill_run.py)."""
    gc.collect()
    gc.freeze()


def app_from_environment() -> FastAPI:
    """A worker's app: settings from the environment, schema already migrated by the parent."""
    api = create_app(Settings(), run_migrations=False)
    settle_heap()
    return api
