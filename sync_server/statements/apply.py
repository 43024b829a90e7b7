"""A statement's credits recorded: each line stored once under its key, each match recorded as a payment through
the ledger (``sync_server.billing.ledger.record_payment``, the one way a payment is recorded), in the caller's
transaction. A credit matched by hand, or dismissed, goes through here too.

A line changes state only from unmatched, with a compare-and-set on its status: two imports of one statement, or an
import and the accountant's hand, never record one credit twice (the key's unique index stops two inserts; the
status update stops two matches).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal, cast
from zoneinfo import ZoneInfo

from sqlalchemy import CursorResult, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from shared_billing.protocol import MatchRule, StatementLineStatus
from sync_server.billing.ledger import OPEN_STATUSES, balance, balances, record_payment
from sync_server.config import Settings
from sync_server.models import AuditEvent, Bill, BillStatus, PaymentMode, StatementImport, StatementLine, Unit, User
from sync_server.problems import Problem
from sync_server.sql import table_of
from sync_server.statements.match import BillBook, BillFacts, bill_numbers_in, match_credit
from sync_server.statements.parse import Statement
from sync_server.statements.parse import StatementLine as Credit

__all__ = ["ImportResult", "Outcome", "dismiss_line", "import_statement", "load_book", "match_by_hand"]

Outcome = Literal["matched", "unmatched", "already_recorded"]


@dataclass
class ImportResult:
    record: StatementImport
    outcomes: list[tuple[int, Outcome, StatementLine]] = field(default_factory=list)


@dataclass(frozen=True)
class _Recorder:
    """What recording a payment needs besides the line and the bill."""

    actor: User
    now: datetime
    settings: Settings


def import_statement(
    session: Session,
    statement: Statement,
    *,
    file_name: str,
    file_sha256: str,
    size_bytes: int,
    actor: User,
    now: datetime,
    tz: ZoneInfo,
    settings: Settings,
) -> ImportResult:
    """Store and match the statement's credits; the caller commits (one transaction for the file)."""
    record = StatementImport(
        file_name=file_name,
        file_sha256=file_sha256,
        size_bytes=size_bytes,
        imported_at=now,
        imported_by_id=actor.id or 0,
        counts={},
        problems=[{"line": problem.line, "reason": problem.reason} for problem in statement.problems],
    )
    session.add(record)
    session.flush()
    assert record.id is not None
    result = ImportResult(record)
    recorder = _Recorder(actor, now, settings)
    stored = _stored(session, [credit.key for credit in statement.credits])
    book = load_book(session, bill_numbers_in(*(f"{c.narration} {c.reference or ''}" for c in statement.credits)), tz)
    in_file: dict[str, StatementLine] = {}
    for credit in statement.credits:
        line = in_file.get(credit.key) or stored.get(credit.key)
        if line is not None and (credit.key in in_file or line.status != StatementLineStatus.UNMATCHED):
            result.outcomes.append((credit.line, "already_recorded", line))
            in_file[credit.key] = line
            continue
        if line is None:
            line = _new_line(record.id, credit)
            session.add(line)
            session.flush()
        in_file[credit.key] = line
        result.outcomes.append((credit.line, _settle(session, line, credit, book, recorder), line))
    counts: dict[str, int] = {
        name: sum(1 for _, outcome, _ in result.outcomes if outcome == name) for name in _OUTCOMES
    }
    record.counts = {
        "credits": len(statement.credits),
        **counts,
        "debits": statement.debits,
        "problems": len(statement.problems),
    }
    session.add(record)
    session.add(
        AuditEvent(
            at=now,
            actor_id=actor.id,
            action="statement.imported",
            entity="statement_import",
            entity_id=str(record.id),
            detail={"file_name": file_name, "file_sha256": file_sha256, **record.counts},
        )
    )
    session.flush()
    return result


_OUTCOMES: tuple[Outcome, ...] = ("matched", "unmatched", "already_recorded")


def _stored(session: Session, keys: Collection[str]) -> dict[str, StatementLine]:
    found: dict[str, StatementLine] = {}
    wanted = sorted(set(keys))
    for start in range(0, len(wanted), 500):  # bounded IN lists on both databases
        chunk = wanted[start : start + 500]
        for line in session.exec(select(StatementLine).where(col(StatementLine.key).in_(chunk))):
            found[line.key] = line
    return found


def _new_line(import_id: int, credit: Credit) -> StatementLine:
    return StatementLine(
        key=credit.key,
        import_id=import_id,
        line=credit.line,
        txn_date=credit.on,
        narration=credit.narration,
        reference=credit.reference,
        amount=credit.amount,
        status=StatementLineStatus.UNMATCHED,
    )


def _settle(session: Session, line: StatementLine, credit: Credit, book: BillBook, recorder: _Recorder) -> Outcome:
    """Match an unmatched line and record its payment, or keep it unmatched with the reason."""
    match = match_credit(credit, book)
    if match.bill is None or match.rule is None:
        line.reason = match.reason[:300]
        session.add(line)
        return "unmatched"
    if not _claim(session, line, match.rule, match.bill.bill_id, recorder.actor, recorder.now):
        return "already_recorded"  # another import or the accountant took it meanwhile
    _record(session, line, match.bill.unit_id, match.bill.bill_id, recorder)
    book.settle(match.bill.unit_id, balance(session, match.bill.unit_id))
    return "matched"


def _claim(
    session: Session, line: StatementLine, rule: MatchRule | None, bill_id: int | None, actor: User, now: datetime
) -> bool:
    """Move the line from unmatched to matched by ``rule`` (dismissed without one), compare-and-set; False when it
    was not unmatched any more."""
    lines = table_of(StatementLine)
    status = StatementLineStatus.DISMISSED if rule is None else StatementLineStatus.MATCHED
    values: dict[str, Any] = {
        "status": status.value,
        "rule": rule.value if rule else None,
        "bill_id": bill_id,
        "resolved_at": now,
        "resolved_by_id": actor.id,
    }
    if status == StatementLineStatus.MATCHED:
        values["reason"] = None
    changed = session.execute(
        update(lines)
        .where(lines.c.id == line.id, lines.c.status == StatementLineStatus.UNMATCHED.value)
        .values(**values)
    )
    session.refresh(line)
    return cast(CursorResult[Any], changed).rowcount == 1


def _record(session: Session, line: StatementLine, unit_id: int, bill_id: int, recorder: _Recorder) -> None:
    mode = PaymentMode.UPI if "UPI" in line.narration.upper() else PaymentMode.BANK
    payment = record_payment(
        session,
        unit_id=unit_id,
        amount=line.amount,
        paid_on=line.txn_date,
        mode=mode,
        reference=line.reference,
        bill_id=bill_id,
        actor=recorder.actor,
        now=recorder.now,
        settings=recorder.settings,
    )
    line.payment_id = payment.id
    session.add(line)
    session.flush()


def load_book(session: Session, numbers: Collection[str], tz: ZoneInfo) -> BillBook:
    """The issued bills ``numbers`` name, and each unit's latest open bill with what its account owes."""
    # Columns only: a bill's lines and trace (JSON) are not needed to match, and a society has thousands of bills.
    columns = (col(Bill.id), col(Bill.unit_id), col(Bill.bill_number), col(Bill.issued_at), col(Unit.code))
    book = BillBook()
    if numbers:
        for bill_id, unit_id, number, issued_at, code in session.execute(
            sa_select(*columns)
            .join(Unit, col(Unit.id) == col(Bill.unit_id))
            .where(col(Bill.bill_number).in_(sorted(numbers)), col(Bill.status) != BillStatus.DRAFT)
        ):
            book.named[number] = BillFacts(bill_id, unit_id, number, code, _day(issued_at, tz), Decimal(0))
    latest: dict[int, BillFacts] = {}
    for bill_id, unit_id, number, issued_at, code in session.execute(
        sa_select(*columns)
        .join(Unit, col(Unit.id) == col(Bill.unit_id))
        .where(col(Bill.status).in_(OPEN_STATUSES))
        .order_by(col(Bill.period).desc(), col(Bill.id).desc())
    ):
        if unit_id not in latest:
            latest[unit_id] = BillFacts(bill_id, unit_id, number or "", code, _day(issued_at, tz), Decimal(0))
    owed = balances(session, latest)
    for unit_id, bill in latest.items():
        if owed[unit_id] > 0:
            book.open_by_unit[unit_id] = replace(bill, owed=owed[unit_id])
    return book


def _day(issued_at: datetime | None, tz: ZoneInfo) -> date:
    assert issued_at is not None  # an issued bill has its instant
    return issued_at.astimezone(tz).date()


# --- By hand ---


def _line(session: Session, line_id: int) -> StatementLine:
    line = session.get(StatementLine, line_id)
    if line is None:
        raise Problem("statement.line_not_found", f"No statement line {line_id}")
    return line


def _resolved(line: StatementLine) -> Problem:
    return Problem(
        "statement.line_resolved",
        f"Statement line {line.id} is {line.status.value} already",
        {"status": line.status.value, "bill_id": line.bill_id},
    )


def match_by_hand(
    session: Session, line_id: int, bill_id: int, *, actor: User, now: datetime, settings: Settings
) -> StatementLine:
    """The accountant's match of an unmatched credit to an issued bill: its payment recorded; the caller commits."""
    line = _line(session, line_id)
    bill = session.get(Bill, bill_id)
    if bill is None:
        raise Problem("bill.not_found", f"No bill {bill_id}")
    if bill.status == BillStatus.DRAFT:
        raise Problem("bill.not_issued", "A draft bill takes no payment: issue it first")
    recorder = _Recorder(actor, now, settings)
    if not _claim(session, line, MatchRule.MANUAL, bill_id, recorder.actor, recorder.now):
        raise _resolved(line)
    _record(session, line, bill.unit_id, bill_id, recorder)
    _audit(
        session,
        line,
        actor,
        now,
        action="statement.line_matched",
        detail={"bill": bill.bill_number, "amount": str(line.amount)},
    )
    return line


def dismiss_line(session: Session, line_id: int, reason: str, *, actor: User, now: datetime) -> StatementLine:
    """Set an unmatched credit aside as no bill's payment, with the reason; the caller commits."""
    line = _line(session, line_id)
    if not _claim(session, line, None, None, actor, now):
        raise _resolved(line)
    line.reason = reason[:300]
    session.add(line)
    _audit(
        session, line, actor, now, action="statement.line_dismissed", detail={"amount": str(line.amount)}, reason=reason
    )
    session.flush()
    return line


def _audit(
    session: Session,
    line: StatementLine,
    actor: User,
    now: datetime,
    *,
    action: str,
    detail: dict[str, Any],
    reason: str | None = None,
) -> None:
    session.add(
        AuditEvent(
            at=now,
            actor_id=actor.id,
            action=action,
            entity="statement_line",
            entity_id=str(line.id),
            reason=reason,
            detail=detail,
        )
    )
