from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import Select

from shared_billing.api_models import (
    BillOut,
    ClosedPeriodOut,
    CloseRequest,
    Page,
    RunOut,
    RunRequest,
    StatusRefresh,
)
from shared_billing.api_types import Id, Period
from shared_billing.protocol import BillStatus, RunStatus
from sync_server.api.paging import PageQuery, paginate
from sync_server.api.routes.bills import _bill_out
from sync_server.background import start_in_background
from sync_server.billing.ledger import refresh_statuses
from sync_server.billing.runs import execute_run, issue_run, start_run
from sync_server.deps import ContextDep, CurrentUser, NowDep, SessionDep, access
from sync_server.models import AuditEvent, Bill, BillRun, Block, ClosedPeriod, Role, User
from sync_server.models.users import BUILT_IN_PREFIX
from sync_server.problems import Problem

router = APIRouter(prefix="/billing", tags=["billing"])


def _runs() -> Select[BillRun, str, str, int]:
    """Runs with what their answer shows beside the run: the block's code, who started it, drafts left."""
    drafts = (
        select(func.count())
        .select_from(Bill)
        .where(col(Bill.run_id) == col(BillRun.id), col(Bill.status) == BillStatus.DRAFT)
        .correlate(BillRun)
        .scalar_subquery()
    )
    return (
        select(BillRun, col(Block.code), col(User.username), drafts)
        .join(Block, col(Block.id) == col(BillRun.block_id))
        .join(User, col(User.id) == col(BillRun.started_by_id))
        # The run drafts in its own session: show its counters as they are now, not as this session first saw them.
        .execution_options(populate_existing=True)
    )


def _run_out(run: BillRun, block_code: str, username: str, drafts: int) -> RunOut:
    return RunOut.model_validate(
        {
            **run.model_dump(),
            "block_code": block_code,
            # Built-in accounts are the server itself (the schedule), not a person to name.
            "started_by": None if username.startswith(BUILT_IN_PREFIX) else username,
            "drafts": drafts,
        }
    )


def _one_run(session: Session, run_id: int) -> RunOut:
    row = session.execute(_runs().where(col(BillRun.id) == run_id)).first()
    if row is None:
        raise Problem("request.not_found", f"No bill run {run_id}")
    return _run_out(*row)


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
    answer = _one_run(session, run.id)  # read before the drafting starts: the answer shows the run as started
    start_in_background(f"bill-run-{run.id}", execute_run, context.engine, run.id, clock=context.clock)
    return answer


@router.get("/runs", **access(Role.ADMIN, Role.ACCOUNTANT))
def list_runs(
    session: SessionDep,
    page: PageQuery,
    period: Period | None = None,
    block_id: Id | None = None,
    status: RunStatus | None = None,
) -> Page[RunOut]:
    """Bill runs, newest first, filtered by period (YYYY-MM), block and status: the month's scheduled runs to
    review and issue among them; ``q`` searches the block's code and name."""
    query = _runs().order_by(col(BillRun.started_at).desc(), col(BillRun.id).desc())
    if period is not None:
        query = query.where(col(BillRun.period) == period)
    if block_id is not None:
        query = query.where(col(BillRun.block_id) == block_id)
    if status is not None:
        query = query.where(col(BillRun.status) == status)
    rows, total = paginate(session, query, page, search=[col(Block.code), col(Block.name)])
    return Page[RunOut](items=[_run_out(*row) for row in rows], total=total, limit=page.limit, offset=page.offset)


@router.get("/runs/{run_id}", **access(Role.ADMIN, Role.ACCOUNTANT, errors=(404,)))
def get_run(run_id: Id, session: SessionDep) -> RunOut:
    """A bill run with its progress (units processed of total, bills created, units skipped and why)."""
    return _one_run(session, run_id)


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
