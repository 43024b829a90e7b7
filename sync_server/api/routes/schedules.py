"""Schedules: the jobs the server runs by itself (``sync_server.scheduling``), listed, changed and run now."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path
from sqlmodel import Session, col, select

from shared_billing.api_models import ScheduleChange, ScheduleOut
from shared_billing.protocol import NO_NUL, ScheduleCadence
from sync_server.clock import system_clock
from sync_server.deps import ContextDep, CurrentUser, NowDep, SessionDep, access
from sync_server.models import AuditEvent, Role, ScheduledJob, User
from sync_server.problems import Problem
from sync_server.scheduling.calendar import next_run
from sync_server.scheduling.store import cadence_of, job_now

router = APIRouter(prefix="/schedules", tags=["schedules"])

JobName = Annotated[str, Path(min_length=1, max_length=40, pattern=NO_NUL)]

# The cadences each setting applies to.
_APPLIES = {
    "day_of_month": {ScheduleCadence.MONTHLY},
    "at_time": {ScheduleCadence.MONTHLY, ScheduleCadence.DAILY},
    "every_minutes": {ScheduleCadence.INTERVAL},
}


def _schedule_out(job: ScheduledJob) -> ScheduleOut:
    started, finished = job.last_started_at, job.last_finished_at
    running = started is not None and (finished is None or finished < started)
    return ScheduleOut(**job.model_dump(), running=running)


def _job(session: Session, name: str) -> ScheduledJob:
    job = session.get(ScheduledJob, name)
    if job is None:
        raise Problem("schedule.not_found", f"No scheduled job {name!r}")
    return job


def _audit(
    session: Session,
    job: ScheduledJob,
    admin: User,
    now: datetime,
    *,
    action: str,
    reason: str | None,
    **detail: object,
) -> None:
    session.add(
        AuditEvent(
            at=now,
            actor_id=admin.id,
            action=action,
            entity="schedule",
            entity_id=job.name,
            reason=reason,
            detail=detail,
        )
    )


@router.get("", **access(Role.ADMIN))
def list_schedules(session: SessionDep) -> list[ScheduleOut]:
    """Every scheduled job with its cadence, next run and last result (a handful: not paged)."""
    jobs = session.exec(select(ScheduledJob).order_by(col(ScheduledJob.name))).all()
    return [_schedule_out(job) for job in jobs]


@router.put("/{name}", **access(Role.ADMIN, errors=(404,)))
def change_schedule(
    name: JobName, body: ScheduleChange, context: ContextDep, session: SessionDep, user: CurrentUser, now: NowDep
) -> ScheduleOut:
    """Switch a job on or off, or change its day, time or interval; its next run is worked out again from now."""
    job = _job(session, name)
    values = body.model_dump(exclude_unset=True, exclude={"reason"})
    for field in values.keys() & _APPLIES.keys():
        if values[field] is not None and job.cadence not in _APPLIES[field]:
            raise Problem(
                "schedule.not_applicable",
                f"{field} does not apply to a {job.cadence} job",
                {"field": field, "cadence": job.cadence},
            )
    changes: dict[str, dict[str, object]] = {}
    for field, value in values.items():
        if value is None or getattr(job, field) == value:
            continue  # null means "leave it": a cadence's own fields are never cleared
        changes[field] = {"from": getattr(job, field), "to": value}
        setattr(job, field, value)
    job.next_run_at = next_run(cadence_of(job), job_now(job, business=now, wall=system_clock()), context.settings.tz)
    session.add(job)
    _audit(session, job, user, now, action="schedule.changed", reason=body.reason, changes=changes)
    session.commit()
    return _schedule_out(job)


@router.post("/{name}/run", **access(Role.ADMIN, errors=(404, 409)))
def run_now(name: JobName, session: SessionDep, user: CurrentUser, now: NowDep) -> ScheduleOut:
    """Run the job at the scheduler's next check (within ``FIELDMETER_SCHEDULE_CHECK_SECONDS``); after it, the
    job's next run is its next occurrence as usual."""
    job = _job(session, name)
    if not job.enabled:
        raise Problem("schedule.disabled", f"The job {name!r} is switched off: switch it on first")
    job.next_run_at = job_now(job, business=now, wall=system_clock())
    session.add(job)
    _audit(session, job, user, now, action="schedule.run_requested", reason=None)
    session.commit()
    return _schedule_out(job)
