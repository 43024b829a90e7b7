from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy.exc import IntegrityError

from shared_billing.api_models import BillOut, ClosedPeriodOut, CloseRequest, RunOut, RunRequest, StatusRefresh
from shared_billing.api_types import Id
from sync_server.api.routes.bills import _bill_out
from sync_server.background import start_in_background
from sync_server.billing.ledger import refresh_statuses
from sync_server.billing.runs import execute_run, issue_run, start_run
from sync_server.deps import ContextDep, CurrentUser, NowDep, SessionDep, access
from sync_server.models import AuditEvent, BillRun, ClosedPeriod, Role
from sync_server.problems import Problem

router = APIRouter(prefix="/billing", tags=["billing"])


def _run_out(run: BillRun) -> RunOut:
    return RunOut.model_validate(run, from_attributes=True)


@router.post("/runs", status_code=202, **access(Role.ADMIN, errors=(404, 409)))
def create_run(
    body: RunRequest,
    context: ContextDep,
    session: SessionDep,
    user: CurrentUser,
    now: NowDep,
) -> RunOut:
    """Start a bill run for a block and period; it drafts bills in the background (poll it for progress).

    One run per block and period at a time: 409 ``billing.run_in_progress`` names the running run's id (a run
    with no progress for five minutes lost its server and is superseded instead)."""
    run = start_run(session, block_id=body.block_id, period=body.period, actor=user, now=now)
    assert run.id is not None
    start_in_background(f"bill-run-{run.id}", execute_run, context.engine, run.id, clock=context.clock)
    return _run_out(run)


@router.get("/runs/{run_id}", **access(Role.ADMIN, Role.ACCOUNTANT, errors=(404,)))
def get_run(run_id: Id, session: SessionDep) -> RunOut:
    """A bill run with its progress (units processed of total, bills created, units skipped and why)."""
    run = session.get(BillRun, run_id)
    if run is None:
        raise Problem("request.not_found", f"No bill run {run_id}")
    session.refresh(run)
    return _run_out(run)


@router.post("/runs/{run_id}/issue", **access(Role.ADMIN, errors=(404, 409)))
def issue(run_id: Id, context: ContextDep, session: SessionDep, user: CurrentUser, now: NowDep) -> list[BillOut]:
    """Issue every draft of a finished run: numbered, charged to the ledger, immutable."""
    bills = issue_run(session, run_id, actor=user, now=now, settings=context.settings)
    session.commit()
    return [_bill_out(session, bill) for bill in bills]


@router.post("/periods/close", status_code=201, **access(Role.ADMIN, errors=(409,)))
def close_period(body: CloseRequest, session: SessionDep, user: CurrentUser, now: NowDep) -> ClosedPeriodOut:
    """Close a block's period: no more runs for it; corrections go through credit or debit notes."""
    session.add(ClosedPeriod(block_id=body.block_id, period=body.period, closed_at=now, closed_by_id=user.id or 0))
    session.add(
        AuditEvent(
            at=now,
            actor_id=user.id,
            action="period.closed",
            entity="block",
            entity_id=str(body.block_id),
            detail={"period": body.period},
        )
    )
    try:
        session.commit()
    except IntegrityError as error:
        session.rollback()
        raise Problem("billing.period_closed", "The period is already closed") from error
    return ClosedPeriodOut(block_id=body.block_id, period=body.period, closed_at=now)


@router.post("/statuses/refresh", **access(Role.ADMIN, Role.ACCOUNTANT))
def refresh(context: ContextDep, session: SessionDep, user: CurrentUser, now: NowDep) -> StatusRefresh:
    """Recompute every open bill's status (paid, partly paid, overdue after its due date)."""
    changed = refresh_statuses(session, today=now.astimezone(context.settings.tz).date(), now=now, actor=user)
    session.commit()
    return StatusRefresh(changed=changed)
