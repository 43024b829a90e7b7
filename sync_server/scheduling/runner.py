"""One pass of the scheduler: run every enabled job that is due, each firing claimed by one process only."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from sqlmodel import Session, col, select

from shared_billing.protocol import ScheduleCadence, ScheduleKind, ScheduleStatus
from sync_server.clock import Clock, system_clock
from sync_server.context import AppContext
from sync_server.models import AuditEvent, ScheduledJob
from sync_server.scheduling.jobs import Action, Outcome
from sync_server.scheduling.store import claim, finish, job_now, scheduler_account

__all__ = ["run_due"]

log = logging.getLogger(__name__)

_FAILED = "stopped on an unexpected error (logged on the server)"


def run_due(context: AppContext, actions: Mapping[ScheduleKind, Action], *, wall: Clock = system_clock) -> list[str]:
    """Run the jobs due now with ``actions`` (what each kind does), in name order; returns the names of those this
    process ran."""
    business, wall_now = context.clock(), wall()
    with Session(context.engine, expire_on_commit=False) as session:
        jobs = list(
            session.exec(select(ScheduledJob).where(col(ScheduledJob.enabled)).order_by(col(ScheduledJob.name))).all()
        )
    ran: list[str] = []
    for job in jobs:
        now = job_now(job, business=business, wall=wall_now)
        if job.next_run_at > now or not claim(context.engine, job, now=now, tz=context.settings.tz):
            continue
        ran.append(job.name)
        try:
            outcome = actions[job.kind](context, context.clock())
        except Exception:  # the job's record says it failed; the loop goes on to the next job and pass
            log.exception("scheduled job %s failed", job.name)
            outcome = Outcome(ScheduleStatus.FAILED, _FAILED)
        finished_at = job_now(job, business=context.clock(), wall=wall())
        finish(context.engine, job.name, status=outcome.status, result=outcome.result, at=finished_at)
        if job.cadence != ScheduleCadence.INTERVAL:  # an hourly refresh would flood the log; its changes are there
            _audit(context, job, outcome)
        log.info("scheduled job %s: %s (%s)", job.name, outcome.status, outcome.result)
    return ran


def _audit(context: AppContext, job: ScheduledJob, outcome: Outcome) -> None:
    now = context.clock()
    actor = scheduler_account(context.engine, now)
    with Session(context.engine) as session:
        session.add(
            AuditEvent(
                at=now,
                actor_id=actor.id,
                action="schedule.ran",
                entity="schedule",
                entity_id=job.name,
                detail={"kind": job.kind, "status": outcome.status, "result": outcome.result},
            )
        )
        session.commit()
