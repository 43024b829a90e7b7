"""The ``scheduled_job`` table: the default jobs, due jobs, claiming a run and recording how it ended.

A run is claimed by moving the job's ``next_run_at`` on with a compare-and-set on the value the claimer read, so
of any number of processes that saw the job due, one claims each firing, even if the scheduler's lease changed
hands mid-run. A claim is made before the work: a process killed mid-run loses that firing (the job runs again
at its next time, or when an admin presses "Run now"); nothing is ever run twice for one firing.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import CursorResult, Engine, update
from sqlmodel import Session, col, select

from shared_billing.protocol import Role, ScheduleCadence, ScheduleKind, ScheduleStatus
from sync_server.clock import Clock
from sync_server.config import Settings
from sync_server.models import ScheduledJob, User
from sync_server.models.users import BUILT_IN_PREFIX
from sync_server.scheduling.calendar import Cadence, next_run, parse_local_time
from sync_server.sql import insert_ignoring, table_of

__all__ = [
    "BACKUP_JOB",
    "BILL_RUNS_JOB",
    "NOTIFICATIONS_JOB",
    "OCR_JOB",
    "OVERDUE_JOB",
    "SCHEDULER_USERNAME",
    "cadence_of",
    "claim",
    "default_jobs",
    "ensure_default_jobs",
    "finish",
    "job_now",
    "scheduler_account",
]

BILL_RUNS_JOB = "monthly-bill-runs"
OVERDUE_JOB = "overdue-refresh"
BACKUP_JOB = "daily-backup"
OCR_JOB = "photo-ocr"
NOTIFICATIONS_JOB = "notifications"
SCHEDULER_USERNAME = f"{BUILT_IN_PREFIX}scheduler"
# Refresh every hour when FIELDMETER_STATUS_REFRESH_MINUTES=0 switched the job off (if an admin switches it on).
_FALLBACK_REFRESH_MINUTES = 60.0
_FALLBACK_OCR_MINUTES = 5.0
_FALLBACK_NOTIFY_MINUTES = 1.0


def cadence_of(job: ScheduledJob) -> Cadence:
    return Cadence(
        kind=job.cadence,
        day_of_month=job.day_of_month,
        at=parse_local_time(job.at_time) if job.at_time is not None else None,
        every_minutes=job.every_minutes,
    )


def job_now(job: ScheduledJob, *, business: datetime, wall: datetime) -> datetime:
    """The instant a job's times are measured on. Calendar jobs follow the business clock (``FIELDMETER_NOW``: a
    demo pinned to a month boundary bills that month); an interval is elapsed time, so it follows the wall clock
    and keeps running when the business clock is pinned or restarted at another date."""
    return wall if job.cadence == ScheduleCadence.INTERVAL else business


def default_jobs(settings: Settings, *, business: datetime, wall: datetime) -> list[ScheduledJob]:
    """The jobs a server starts with, from its settings; their first run is their next occurrence."""
    refresh = settings.status_refresh_minutes
    jobs = [
        ScheduledJob(
            name=BILL_RUNS_JOB,
            kind=ScheduleKind.BILL_RUNS,
            cadence=ScheduleCadence.MONTHLY,
            day_of_month=settings.bill_run_day,
            at_time=settings.bill_run_time,
            next_run_at=business,
        ),
        ScheduledJob(
            name=OVERDUE_JOB,
            kind=ScheduleKind.OVERDUE_REFRESH,
            cadence=ScheduleCadence.INTERVAL,
            enabled=refresh > 0,  # 0 means "never" (as before schedules existed)
            every_minutes=refresh if refresh > 0 else _FALLBACK_REFRESH_MINUTES,
            next_run_at=wall,
        ),
        ScheduledJob(
            name=BACKUP_JOB,
            kind=ScheduleKind.BACKUP,
            cadence=ScheduleCadence.DAILY,
            at_time=settings.backup_time,
            next_run_at=business,
        ),
        ScheduledJob(
            name=OCR_JOB,
            kind=ScheduleKind.PHOTO_OCR,
            cadence=ScheduleCadence.INTERVAL,
            enabled=settings.ocr_every_minutes > 0,
            every_minutes=settings.ocr_every_minutes or _FALLBACK_OCR_MINUTES,
            next_run_at=wall,
        ),
        ScheduledJob(
            name=NOTIFICATIONS_JOB,
            kind=ScheduleKind.NOTIFICATIONS,
            cadence=ScheduleCadence.INTERVAL,
            enabled=settings.notify_every_minutes > 0,
            every_minutes=settings.notify_every_minutes or _FALLBACK_NOTIFY_MINUTES,
            next_run_at=wall,
        ),
    ]
    for job in jobs:
        job.next_run_at = next_run(cadence_of(job), job.next_run_at, settings.tz)
    return jobs


def ensure_default_jobs(engine: Engine, settings: Settings, *, clock: Clock, wall: Clock) -> None:
    """Insert the default jobs that are missing (insert-or-ignore: safe when several workers start at once); a job
    already stored keeps its cadence, whatever the settings say now (the console edits it)."""
    table = table_of(ScheduledJob)
    rows = [job.model_dump() for job in default_jobs(settings, business=clock(), wall=wall())]
    with engine.begin() as connection:
        connection.execute(insert_ignoring(engine.dialect.name, table, table.c.name).values(rows))


def claim(engine: Engine, job: ScheduledJob, *, now: datetime, tz: ZoneInfo) -> bool:
    """Claim the firing of ``job`` seen due at ``now``: True for exactly one claimer. Its next run moves to the
    next occurrence after ``now`` (one run for any number of missed ones)."""
    table = table_of(ScheduledJob)
    statement = (
        update(table)
        .where(table.c.name == job.name, table.c.next_run_at == job.next_run_at, table.c.enabled.is_(True))
        .values(next_run_at=next_run(cadence_of(job), now, tz), last_started_at=now)
    )
    with engine.begin() as connection:
        return cast(CursorResult[Any], connection.execute(statement)).rowcount == 1


def finish(engine: Engine, name: str, *, status: ScheduleStatus, result: str, at: datetime) -> None:
    table = table_of(ScheduledJob)
    statement = (
        update(table)
        .where(table.c.name == name)
        .values(last_finished_at=at, last_status=status, last_result=result[:500])
    )
    with engine.begin() as connection:
        connection.execute(statement)


def scheduler_account(engine: Engine, now: datetime) -> User:
    """The built-in account scheduled work acts (and is audited) as: an admin that cannot sign in (inactive, no
    usable password), created on first use. Being inactive, ``acting_admin`` never picks it for a shell command."""
    with Session(engine, expire_on_commit=False) as session:
        found = session.exec(select(User).where(col(User.username) == SCHEDULER_USERNAME)).first()
        if found is not None:
            return found
    table = table_of(User)
    values = {
        "username": SCHEDULER_USERNAME,
        "full_name": "Scheduled jobs (built-in)",
        "role": Role.ADMIN,
        # Not an argon2 hash: no password verifies against it.
        "password_hash": f"!scheduler-no-login-{secrets.token_hex(8)}",
        "active": False,
        "password_change_required": False,
        "created_at": now.astimezone(UTC),
    }
    with engine.begin() as connection:
        connection.execute(insert_ignoring(engine.dialect.name, table, table.c.username).values(values))
    with Session(engine, expire_on_commit=False) as session:
        return session.exec(select(User).where(col(User.username) == SCHEDULER_USERNAME)).one()
