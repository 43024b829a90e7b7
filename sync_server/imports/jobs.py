"""Imports the console starts: a job row committed first, the import run in the background on a thread, its
progress written to the row every ``PROGRESS_EVERY`` rows so whichever worker a poll reaches answers it, and its
report stored on the row when it is done.

The import writes in its own transaction (the importer's: one per file, rolled back on a dry run); the job's
progress goes through short transactions of its own on another connection, so a poll sees it while the import's
transaction is still open. SQLite has one writer at a time: while the importer holds its write lock a progress
write does not wait for it (it is skipped; the next one or the end writes it), and the process running the import
keeps its latest progress in memory for the polls it answers itself (``live_progress``).

One running import per kind (a partial unique index decides between concurrent starts); a running job whose
heartbeat stopped for ``IMPORT_STALE_AFTER`` lost its server and a new start supersedes it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Protocol, cast
from zoneinfo import ZoneInfo

from sqlalchemy import CursorResult, Engine, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session, select

from sync_server.background import start_in_background
from sync_server.db import refresh_statistics
from sync_server.db_guard import allow_long_statements
from sync_server.imports.report import ImportReport, Progress
from sync_server.models import AuditEvent, ImportJob, ImportKind, ImportStatus, User
from sync_server.problems import CODES, Problem
from sync_server.sql import table_of

__all__ = [
    "IMPORTERS",
    "IMPORT_STALE_AFTER",
    "PROGRESS_EVERY",
    "ImportOptions",
    "Importer",
    "execute_import",
    "is_stale",
    "launch_import",
    "live_progress",
    "start_import",
]

log = logging.getLogger(__name__)

PROGRESS_EVERY = 25  # rows between progress writes: a moving bar without a write per row
# A running import whose progress has not moved for this long lost its process (background tasks die with a
# stopped server); a new start of its kind may then supersede it. Far above the time 25 rows take.
IMPORT_STALE_AFTER = timedelta(minutes=5)
# SQLite: how long a progress write waits for the importer's write lock before it is skipped (the importer runs
# in the same thread and cannot release the lock meanwhile, so waiting longer only slows the import).
_PROGRESS_LOCK_WAIT_S = 0.05


@dataclass(frozen=True)
class ImportOptions:
    """What the admin chose for an import besides the file."""

    kind: ImportKind
    dry_run: bool = False
    tariff_code: str | None = None  # master data: the tariff new units are billed on
    members_from: date | None = None  # master data: when motors' member flats start sharing them


class Importer(Protocol):
    """One kind of import (``sync_server.imports``): applies ``data`` in its own transaction and reports."""

    def __call__(
        self,
        engine: Engine,
        data: bytes,
        options: ImportOptions,
        *,
        actor: User,
        now: datetime,
        tz: ZoneInfo,
        progress: Progress,
    ) -> ImportReport: ...


# The importers are imported when called: the server starts (and serves everything else) without loading them.
def _master(
    engine: Engine, data: bytes, options: ImportOptions, *, actor: User, now: datetime, tz: ZoneInfo, progress: Progress
) -> ImportReport:
    from sync_server.imports.master_apply import import_master

    return import_master(
        engine,
        data,
        actor=actor,
        now=now,
        tz=tz,
        dry_run=options.dry_run,
        progress=progress,
        members_from=options.members_from,
        tariff_code=options.tariff_code,
    )


def _opening_readings(
    engine: Engine, data: bytes, options: ImportOptions, *, actor: User, now: datetime, tz: ZoneInfo, progress: Progress
) -> ImportReport:
    from sync_server.imports.openings import import_opening_readings

    return import_opening_readings(
        engine, data, actor=actor, now=now, tz=tz, dry_run=options.dry_run, progress=progress
    )


def _opening_balances(
    engine: Engine, data: bytes, options: ImportOptions, *, actor: User, now: datetime, tz: ZoneInfo, progress: Progress
) -> ImportReport:
    from sync_server.imports.openings import import_opening_balances

    return import_opening_balances(
        engine, data, actor=actor, now=now, tz=tz, dry_run=options.dry_run, progress=progress
    )


IMPORTERS: dict[ImportKind, Importer] = {
    ImportKind.MASTER: _master,
    ImportKind.OPENING_READINGS: _opening_readings,
    ImportKind.OPENING_BALANCES: _opening_balances,
}


# --- Starting ---


def start_import(
    session: Session,
    options: ImportOptions,
    *,
    file_name: str,
    file_sha256: str,
    size_bytes: int,
    actor: User,
    now: datetime,
) -> ImportJob:
    """A new running job, committed; or 409 ``import.in_progress`` naming the job of this kind still running."""
    for _attempt in range(3):  # a stale job superseded, then (rarely) another starter beating us to the insert
        running = running_job(session, options.kind)
        if running is not None and not is_stale(running, now):
            raise _in_progress(running)
        if running is not None and not _supersede(session, running, now):
            continue  # it moved on, or another start superseded it first: look again
        job = ImportJob(
            kind=options.kind,
            dry_run=options.dry_run,
            file_name=file_name,
            file_sha256=file_sha256,
            size_bytes=size_bytes,
            tariff_code=options.tariff_code,
            members_from=options.members_from,
            started_by_id=actor.id or 0,
            started_at=now,
            heartbeat_at=now,
        )
        session.add(job)
        try:
            session.flush()
        except IntegrityError:  # a concurrent start committed its job first: report that one
            session.rollback()
            continue
        session.add(
            AuditEvent(
                at=now,
                actor_id=actor.id,
                action="import.started",
                entity="import_job",
                entity_id=str(job.id),
                detail={
                    "kind": options.kind.value,
                    "dry_run": options.dry_run,
                    "file_name": file_name,
                    "file_sha256": file_sha256,
                },
            )
        )
        session.commit()
        return job
    running = running_job(session, options.kind)
    raise _in_progress(running) if running is not None else Problem("import.in_progress")


def running_job(session: Session, kind: ImportKind) -> ImportJob | None:
    return session.exec(
        select(ImportJob)
        .where(ImportJob.kind == kind, ImportJob.status == ImportStatus.RUNNING)
        .execution_options(populate_existing=True)
    ).first()


def _in_progress(job: ImportJob) -> Problem:
    return Problem(
        "import.in_progress",
        f"Import {job.id} ({job.file_name}) of this kind is still running ({job.processed} of {job.total} rows)",
        {"job_id": job.id, "processed": job.processed, "total": job.total},
    )


def is_stale(job: ImportJob, now: datetime) -> bool:
    """No progress written for ``IMPORT_STALE_AFTER``: the process running it is gone."""
    return job.status == ImportStatus.RUNNING and (job.heartbeat_at or job.started_at) < now - IMPORT_STALE_AFTER


def _supersede(session: Session, job: ImportJob, now: datetime) -> bool:
    """Mark a stale running job failed (compare-and-set on its staleness); True when this transaction did it."""
    jobs = table_of(ImportJob)
    ended = session.execute(
        update(jobs)
        .where(
            jobs.c.id == job.id, jobs.c.status == ImportStatus.RUNNING, jobs.c.heartbeat_at < now - IMPORT_STALE_AFTER
        )
        .values(
            status=ImportStatus.FAILED,
            error_code="import.superseded",
            error=CODES["import.superseded"].message,
            finished_at=now,
        )
    )
    if cast(CursorResult[Any], ended).rowcount != 1:
        session.rollback()
        return False
    log.warning("import %s made no progress since %s: superseded", job.id, job.heartbeat_at)
    return True


# --- Running ---

_live: dict[int, tuple[int, int]] = {}  # job id -> (processed, total) of the imports this process runs
_live_lock = threading.Lock()


def live_progress(job_id: int) -> tuple[int, int] | None:
    """(processed, total) of a job this process is running now, as the importer last reported it."""
    with _live_lock:
        return _live.get(job_id)


class _ProgressWriter:
    """The importer's progress callback: remembers every report, writes one in ``PROGRESS_EVERY`` to the row."""

    def __init__(self, engine: Engine, job_id: int, clock: Callable[[], datetime]) -> None:
        self.engine = engine
        self.job_id = job_id
        self.clock = clock
        self.written: tuple[int, int] = (0, 0)

    def __call__(self, done: int, total: int) -> None:
        with _live_lock:
            _live[self.job_id] = (done, total)
        last_done, last_total = self.written
        if total == last_total and done < total and done - last_done < PROGRESS_EVERY:
            return
        if self._write(done, total):
            self.written = (done, total)

    def _write(self, done: int, total: int) -> bool:
        jobs = table_of(ImportJob)
        try:
            with self.engine.begin() as connection:
                if connection.dialect.name == "sqlite":
                    allow_long_statements(connection, _PROGRESS_LOCK_WAIT_S)
                connection.execute(
                    update(jobs)
                    .where(jobs.c.id == self.job_id, jobs.c.status == ImportStatus.RUNNING)
                    .values(processed=done, total=total, heartbeat_at=self.clock())
                )
        except OperationalError:  # SQLite: the importer holds the write lock; a later write catches up
            log.debug("import %s: progress %s of %s not written (database busy)", self.job_id, done, total)
            return False
        return True


def launch_import(
    engine: Engine, job_id: int, data: bytes, options: ImportOptions, *, clock: Callable[[], datetime], tz: ZoneInfo
) -> threading.Thread:
    """Run the job in the background (``sync_server.background``), so its start is answered at once."""
    importer = IMPORTERS[options.kind]  # chosen now: what the request asked for, whatever changes later
    return start_in_background(
        f"import-{job_id}", execute_import, engine, job_id, data, options, clock=clock, tz=tz, importer=importer
    )


def execute_import(
    engine: Engine,
    job_id: int,
    data: bytes,
    options: ImportOptions,
    *,
    clock: Callable[[], datetime],
    tz: ZoneInfo,
    importer: Importer | None = None,
) -> ImportJob:
    """Run the job's import and store how it ended: done with its report, or failed with a code and plain words.

    A file the importer refuses whole (a ``Problem``: its message is written for people) fails the job with that
    code and message; anything else fails it as ``import.failed`` and the exception goes to the server log, never
    to the row (it can hold SQL and the file's data). A job superseded meanwhile keeps what the superseder wrote.
    """
    with Session(engine, expire_on_commit=False) as session:
        job = session.get(ImportJob, job_id)
        assert job is not None
        actor = session.get(User, job.started_by_id)
        assert actor is not None
    run = importer or IMPORTERS[options.kind]
    report: ImportReport | None = None
    error_code: str | None = None
    error: str | None = None
    try:
        report = run(
            engine, data, options, actor=actor, now=clock(), tz=tz, progress=_ProgressWriter(engine, job_id, clock)
        )
    except Problem as problem:
        error_code, error = problem.code, problem.message[:500]
    except Exception:  # the job is the record of what happened: say it failed, plainly
        log.exception("import %s (%s) failed", job_id, options.kind)
        error_code, error = "import.failed", CODES["import.failed"].message
    finally:
        with _live_lock:
            done, total = _live.pop(job_id, (0, 0))
    if report is not None and not options.dry_run:
        refresh_statistics(engine)  # a bill run may follow at once
    return _finish(engine, job_id, report, error_code, error, done=done, total=total, now=clock())


def _finish(
    engine: Engine,
    job_id: int,
    report: ImportReport | None,
    error_code: str | None,
    error: str | None,
    *,
    done: int,
    total: int,
    now: datetime,
) -> ImportJob:
    jobs = table_of(ImportJob)
    values: dict[str, Any] = {"finished_at": now, "heartbeat_at": now}
    if report is not None:
        values |= {
            "status": ImportStatus.DONE,
            "report": {"kind": report.kind, **report.to_dict()},
            "quarantine_csv": report.quarantine_csv(),
            "processed": total,  # all of them: the importer went through the file
            "total": total,
        }
    else:
        values |= {"status": ImportStatus.FAILED, "error_code": error_code, "error": error, "processed": done}
    with Session(engine, expire_on_commit=False) as session:
        ended = session.execute(
            update(jobs).where(jobs.c.id == job_id, jobs.c.status == ImportStatus.RUNNING).values(**values)
        )
        job = session.get(ImportJob, job_id, populate_existing=True)
        assert job is not None
        if cast(CursorResult[Any], ended).rowcount != 1:
            session.rollback()
            log.warning("import %s was superseded while running: its outcome is not stored", job_id)
            return session.get(ImportJob, job_id, populate_existing=True) or job
        session.add(
            AuditEvent(
                at=now,
                actor_id=job.started_by_id,
                action=f"import.{job.status}",
                entity="import_job",
                entity_id=str(job_id),
                detail=_audit_detail(job, report),
            )
        )
        session.commit()
        return job


def _audit_detail(job: ImportJob, report: ImportReport | None) -> dict[str, Any]:
    detail: dict[str, Any] = {"kind": job.kind.value, "dry_run": job.dry_run}
    if report is not None:
        detail |= {**report.counts, "quarantined": len(report.quarantined), "warnings": len(report.warnings)}
    else:
        detail["error_code"] = job.error_code
    return detail
