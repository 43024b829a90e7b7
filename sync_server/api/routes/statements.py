"""Reconciliation: a bank or UPI statement's credits matched to bills and recorded as payments; the ones left
unmatched matched by the accountant's hand or dismissed (docs/api.md "Reconciliation", docs/reconciliation.md)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select
from starlette.concurrency import run_in_threadpool

from shared_billing.api_models import (
    Page,
    StatementCounts,
    StatementDismissIn,
    StatementImportOut,
    StatementLineOut,
    StatementMatchIn,
    StatementOutcome,
    StatementProblemOut,
)
from shared_billing.api_types import Id
from shared_billing.protocol import StatementLineStatus
from sync_server.api.paging import PageQuery, paginate
from sync_server.api.routes.imports import read_limited
from sync_server.context import AppContext
from sync_server.deps import ContextDep, CurrentUser, NowDep, SessionDep, access
from sync_server.imports.upload import TABLE_TYPES, check_table_upload, clean_file_name
from sync_server.models import Bill, Role, StatementImport, StatementLine, Unit, User
from sync_server.problems import Problem
from sync_server.statements.apply import ImportResult, dismiss_line, import_statement, match_by_hand
from sync_server.statements.parse import StatementError, parse_statement

__all__ = ["router"]

router = APIRouter(prefix="/statements", tags=["reconciliation"])

_ROLES = (Role.ACCOUNTANT, Role.ADMIN)


def _lines_out(session: Session, lines: Iterable[StatementLine]) -> list[StatementLineOut]:
    rows = list(lines)
    bill_ids = {line.bill_id for line in rows if line.bill_id is not None}
    bills: dict[int, tuple[str | None, str | None]] = {}
    if bill_ids:
        for bill_id, bill_number, unit_code in session.exec(
            select(Bill.id, Bill.bill_number, Unit.code)
            .join(Unit, col(Unit.id) == col(Bill.unit_id))
            .where(col(Bill.id).in_(sorted(bill_ids)))
        ):
            bills[bill_id or 0] = (bill_number, unit_code)
    out = []
    for line in rows:
        number, code = bills.get(line.bill_id or 0, (None, None))
        out.append(
            StatementLineOut(
                id=line.id or 0,
                line=line.line,
                txn_date=line.txn_date,
                narration=line.narration,
                reference=line.reference,
                amount=line.amount,
                status=line.status,
                rule=line.rule,
                bill_id=line.bill_id,
                bill_number=number,
                unit_code=code,
                payment_id=line.payment_id,
                reason=line.reason,
                resolved_at=line.resolved_at,
            )
        )
    return out


def _import_out(session: Session, record: StatementImport, result: ImportResult | None = None) -> StatementImportOut:
    outcomes: list[StatementOutcome] = []
    if result is not None:
        lines = _lines_out(session, (line for _, _, line in result.outcomes))
        outcomes = [
            StatementOutcome(line=number, outcome=outcome, statement_line=out)
            for (number, outcome, _), out in zip(result.outcomes, lines, strict=True)
        ]
    return StatementImportOut(
        id=record.id or 0,
        file_name=record.file_name,
        file_sha256=record.file_sha256,
        imported_at=record.imported_at,
        imported_by_id=record.imported_by_id,
        counts=StatementCounts.model_validate(record.counts),
        problems=[StatementProblemOut.model_validate(problem) for problem in record.problems],
        outcomes=outcomes,
    )


def _import(context: AppContext, data: bytes, file_name: str, user: User, now: datetime) -> StatementImportOut:
    try:
        statement = parse_statement(data)
    except StatementError as error:
        raise Problem("statement.unreadable", str(error)) from None
    # Two imports of one statement at once: the second's insert of a key meets the first's (unique index) and it
    # starts again, when the first's lines are stored and it finds them.
    for _attempt in range(2):
        with Session(context.engine, expire_on_commit=False) as session:
            actor = session.get(User, user.id)
            assert actor is not None
            try:
                result = import_statement(
                    session,
                    statement,
                    file_name=file_name,
                    file_sha256=hashlib.sha256(data).hexdigest(),
                    size_bytes=len(data),
                    actor=actor,
                    now=now,
                    tz=context.settings.tz,
                    settings=context.settings,
                )
                session.commit()
            except IntegrityError:
                session.rollback()
                continue
            return _import_out(session, result.record, result)
    raise Problem(
        "request.conflict", "Another import of this statement was being recorded at the same time: import it again"
    )


@router.post(
    "",
    status_code=201,
    **access(
        *_ROLES,
        errors=(413, 415),
        openapi_extra={
            "requestBody": {
                "required": True,
                "description": "The statement: CSV or XLSX (docs/reconciliation.md)",
                "content": {t: {"schema": {"type": "string", "format": "binary"}} for t in sorted(TABLE_TYPES)},
            }
        },
    ),
)
async def import_file(
    request: Request,
    context: ContextDep,
    user: CurrentUser,
    now: NowDep,
    file_name: Annotated[str | None, Query(max_length=400, description="The file's name, as chosen")] = None,
    x_file_name: Annotated[str | None, Header(max_length=400, description="The file's name (or the query)")] = None,
) -> StatementImportOut:
    """Import a statement sent as the body: its credits matched to bills and the matches recorded as payments, in
    one transaction; a line stored before (the same statement again, an overlapping one) records nothing twice.

    Refused at once: 413 ``request.too_large``, 415 ``import.unsupported_type``, 422 ``import.empty_file``,
    ``import.unreadable`` or ``statement.unreadable`` (no header with a date and a credit column, no transaction)."""
    data = await read_limited(request, context.settings.max_import_bytes)
    check_table_upload("A statement", request.headers.get("content-type", ""), data)
    name = clean_file_name(file_name or x_file_name)
    # Parsing and the database run in the thread pool: this route is async only to stream the body.
    return await run_in_threadpool(_import, context, data, name, user, now)


@router.get("", **access(*_ROLES))
def list_imports(session: SessionDep, page: PageQuery) -> Page[StatementImportOut]:
    """Statements imported, newest first, with their counts; ``q`` searches file names."""
    query = select(StatementImport).order_by(col(StatementImport.id).desc())
    rows, total = paginate(session, query, page, search=[col(StatementImport.file_name)])
    items = [_import_out(session, record) for record in rows]
    return Page[StatementImportOut](items=items, total=total, limit=page.limit, offset=page.offset)


@router.get("/lines", **access(*_ROLES))
def list_lines(
    session: SessionDep,
    page: PageQuery,
    status: Annotated[StatementLineStatus | None, Query(description="Only lines in this state")] = None,
) -> Page[StatementLineOut]:
    """Statement credits, newest first; ``status=unmatched`` is the accountant's list. ``q`` searches the
    narration and the reference."""
    query = select(StatementLine).order_by(col(StatementLine.txn_date).desc(), col(StatementLine.id).desc())
    if status is not None:
        query = query.where(StatementLine.status == status)
    rows, total = paginate(session, query, page, search=[col(StatementLine.narration), col(StatementLine.reference)])
    return Page[StatementLineOut](items=_lines_out(session, rows), total=total, limit=page.limit, offset=page.offset)


@router.post("/lines/{line_id}/match", **access(*_ROLES, errors=(404, 409)))
def match_line(
    line_id: Id, body: StatementMatchIn, context: ContextDep, session: SessionDep, user: CurrentUser, now: NowDep
) -> StatementLineOut:
    """Match an unmatched credit to a bill by hand: its payment is recorded through the ledger against the bill.
    409 ``statement.line_resolved`` when it is matched or dismissed already; 404 for an unknown line or bill."""
    line = match_by_hand(
        session,
        line_id,
        body.bill_id,
        actor=user,
        now=now,
        settings=context.settings,
    )
    session.commit()
    return _lines_out(session, [line])[0]


@router.post("/lines/{line_id}/dismiss", **access(*_ROLES, errors=(404, 409)))
def dismiss(
    line_id: Id, body: StatementDismissIn, session: SessionDep, user: CurrentUser, now: NowDep
) -> StatementLineOut:
    """Set an unmatched credit aside as no bill's payment (a refund, interest, a deposit), with the reason."""
    line = dismiss_line(session, line_id, body.reason, actor=user, now=now)
    session.commit()
    return _lines_out(session, [line])[0]
