"""The opening position: each meter's last reading and each unit's balance in the system Fieldmeter replaces, so
the first month bills from real history and carries real arrears (docs/operations.md "Opening position").

- **Opening readings** (columns ``meter`` — the meter's number —, ``date``, ``value``): each becomes an approved
  reading (source ``import``) captured at the start of that day in the society's zone. Billing measures a period from
  the latest approved reading of an earlier period (sync_server/billing/compute.py), so the first bill after it
  measures from it. The value must fit the meter's register (shared_billing/readings.py).
- **Opening balances** (``unit``, ``amount``, optional ``date``, by default today): one ledger entry of kind
  ``opening`` per unit; arrears are the ledger balance (sync_server/billing/ledger.py), so the first bill issued
  carries it. Negative is a credit.

A row is quarantined, with its line and why, when it names an unknown (or retired) meter or an unknown unit, has a
date or value that does not read, is dated after today, or names a meter or unit another row of the file names
too (every such row: never first-wins). Importing the same file again changes nothing. A different date or value
for a meter that has its opening reading, or a different amount or date for a unit that has its opening balance,
corrects it in place (audited, old and new) while nothing has been billed from it; afterwards the row is
quarantined and the correction is a credit or debit note. An opening reading is refused for a meter with an
approved reading on or after its date, or whose unit (for a shared meter: any unit that ever shared it) has a
bill, draft or issued: it would sit under history billing has already measured. An opening balance is refused for
a unit with an issued bill (its arrears went into that bill).

One transaction per file, every write audited with its line; a dry run rolls it back and reports the same.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, String
from sqlmodel import Session, col, select

from shared_billing.errors import BillingError
from shared_billing.readings import format_register_value, parse_register_value
from sync_server.db_guard import allow_long_transactions
from sync_server.events import record_meter_event
from sync_server.imports.cells import CellError, parse_amount, parse_day
from sync_server.imports.master_apply import IMPORT_STATEMENT_LIMIT_S
from sync_server.imports.report import ImportReport, Progress, RowIssue, no_progress
from sync_server.imports.tabular import Row, Table, TabularError, read_table
from sync_server.models import (
    AuditEvent,
    Bill,
    BillStatus,
    LedgerEntry,
    LedgerEntryKind,
    Meter,
    MeterStatus,
    Reading,
    ReadingSource,
    ReadingStatus,
    ReadType,
    SharedMeterMember,
    SyncEventKind,
    Unit,
    User,
)
from sync_server.periods import period_of
from sync_server.premises import apply_changes, record_change
from sync_server.problems import Problem
from sync_server.sql import one_of

__all__ = [
    "BALANCE_COLUMNS",
    "BALANCE_COUNTS",
    "READING_COLUMNS",
    "READING_COUNTS",
    "import_opening_balances",
    "import_opening_readings",
    "opening_instant",
]

#: The columns each file needs, each with the headers it is known by (compared ignoring case and spaces).
READING_COLUMNS: dict[str, tuple[str, ...]] = {
    "meter": ("meter", "meter no", "meter no.", "meter number"),
    "date": ("date", "reading date"),
    "value": ("value", "reading"),
}
BALANCE_COLUMNS: dict[str, tuple[str, ...]] = {
    "unit": ("unit", "unit id", "unit code"),
    "amount": ("amount", "balance", "opening balance"),
}
_BALANCE_OPTIONAL: dict[str, tuple[str, ...]] = {"date": ("date", "as of")}
READING_COUNTS = ("readings_imported", "readings_updated", "readings_unchanged")
BALANCE_COUNTS = ("balances_imported", "balances_updated", "balances_unchanged")

# A meter number a spreadsheet stored as a float ("40012000.0") is the number without its fraction.
_FLOAT_NUMBER = re.compile(r"(\d+)\.0+")
_OPENING_BALANCE = "Opening balance brought forward"


class _Quarantine(Exception):
    """The row is not imported; the message is why."""


def opening_instant(day: date, tz: ZoneInfo) -> datetime:
    """When an opening reading of ``day`` is stamped: the start of the society's day, in UTC. Never in the future
    (a day after today is refused), so a reading the engineer takes later that same day is measured from it: stamped
    at noon, an opening imported in the morning was nobody's previous reading until noon."""
    return datetime.combine(day, time(0), tz).astimezone(UTC)


@dataclass
class _Run:
    session: Session
    actor: User
    now: datetime
    tz: ZoneInfo
    kind: str
    report: ImportReport

    @property
    def today(self) -> date:
        return self.now.astimezone(self.tz).date()

    def reason(self, line: int) -> str:
        return f"{self.kind.replace('_', ' ')} import, line {line}"

    def day(self, text: str) -> date:
        try:
            day = parse_day(text)
        except CellError as error:
            raise _Quarantine(str(error)) from None
        if day > self.today:
            raise _Quarantine(f"date {day.isoformat()} is after today ({self.today.isoformat()})")
        return day


def _table(
    data: bytes, required: Mapping[str, Sequence[str]], optional: Mapping[str, Sequence[str]] | None = None
) -> tuple[Table, dict[str, int | None]]:
    if not data.strip():
        raise Problem("import.empty_file", "The file is empty: choose the file again")
    try:
        table = read_table(data)
        return table, table.columns(required, optional)
    except TabularError as error:
        raise Problem("import.unreadable", str(error)) from None


def _repeated(rows: Iterable[tuple[Row, str]], what: str) -> dict[int, str]:
    """The lines whose key another line of the file has too, each with the reason naming the others."""
    lines: dict[str, list[int]] = {}
    for row, key in rows:
        if key:
            lines.setdefault(key.casefold(), []).append(row.line)
    reasons: dict[int, str] = {}
    for found in lines.values():
        for line in found if len(found) > 1 else ():
            others = ", ".join(str(other) for other in found if other != line)
            reasons[line] = (
                f"is on line{'s' if len(found) > 2 else ''} {others} too: a file gives each {what} once "
                "(every such row is left out)"
            )
    return reasons


def _apply(
    run: _Run,
    rows: Sequence[tuple[Row, str]],
    what: str,
    apply_row: Callable[[Row, str], str],
    progress: Progress,
) -> None:
    """Each row applied (its count key counted) or quarantined; rows naming the same key are all quarantined."""
    repeated = _repeated(rows, what)
    progress(0, len(rows))
    for done, (row, key) in enumerate(rows, start=1):
        try:
            if not key:
                raise _Quarantine(f"no {what}")
            if row.line in repeated:
                raise _Quarantine(f"{what} {key} {repeated[row.line]}")
            run.report.counts[apply_row(row, key)] += 1
        except _Quarantine as issue:
            run.report.quarantined.append(RowIssue(row.line, key or None, str(issue)))
        progress(done, len(rows))


def _finish(session: Session, report: ImportReport) -> ImportReport:
    if report.dry_run:
        session.rollback()
    else:
        session.commit()
    report.quarantined.sort(key=lambda issue: issue.line)
    return report


# --- Opening readings ---


def _meter_number(text: str) -> str:
    whole = _FLOAT_NUMBER.fullmatch(text)
    return whole[1] if whole else text


def _without_spare_zeros(text: str, decimals: int) -> str:
    """A value with trailing fraction zeros beyond the meter's decimals dropped (``5000.0`` on a meter without
    decimals is 5000): a spreadsheet's number format, not a misread dial, unlike the same zeros typed at the meter."""
    whole, dot, fraction = text.partition(".")
    if not dot or len(fraction) <= decimals:
        return text
    kept = fraction[:decimals] + fraction[decimals:].rstrip("0")
    return f"{whole}.{kept}" if kept else whole


def _meters(session: Session, numbers: Collection[str]) -> dict[str, Meter]:
    # Locked (without blocking the readings and bills that point at them) so two imports of one meter queue.
    query = select(Meter).where(one_of(session, Meter.number, numbers, String)).with_for_update(key_share=True)
    return {meter.number: meter for meter in session.exec(query).all()}


def _opening_reading(session: Session, meter_id: int) -> Reading | None:
    return session.exec(
        select(Reading)
        .where(
            Reading.meter_id == meter_id,
            Reading.source == ReadingSource.IMPORT,
            Reading.status == ReadingStatus.APPROVED,
        )
        .order_by(col(Reading.id).desc())
    ).first()


def _refuse_history(run: _Run, meter: Meter, since: date, own: Reading | None) -> None:
    """Quarantine when billing has measured, or will measure, past ``since`` already: any bill of a unit the meter
    is billed to, or an approved reading of the meter on or after that day."""
    assert meter.id is not None
    session = run.session
    units = (
        [meter.unit_id]
        if meter.unit_id is not None
        else session.exec(select(SharedMeterMember.unit_id).where(SharedMeterMember.meter_id == meter.id)).all()
    )
    bill = session.exec(
        select(Bill, Unit)
        .join(Unit, col(Unit.id) == col(Bill.unit_id))
        .where(col(Bill.unit_id).in_(units))
        .order_by(col(Bill.period))
    ).first()
    if bill is not None:
        billed, unit = bill
        raise _Quarantine(
            f"unit {unit.code} has a bill for {billed.period} ({billed.bill_number or 'draft'}): an opening reading "
            "comes before a unit's first bill (already billed)"
        )
    later = select(Reading).where(
        Reading.meter_id == meter.id,
        Reading.status == ReadingStatus.APPROVED,
        col(Reading.value).is_not(None),
        col(Reading.captured_at) >= datetime.combine(since, time(), run.tz).astimezone(UTC),
    )
    if own is not None:
        later = later.where(Reading.id != own.id)
    found = session.exec(later.order_by(col(Reading.captured_at).desc())).first()
    if found is not None:
        on = found.captured_at.astimezone(run.tz).date().isoformat()
        raise _Quarantine(
            f"meter {meter.number} has an approved reading of {on} ({found.value_text}): "
            f"an opening reading comes before the meter's readings in Fieldmeter"
        )


def _read_opening(run: _Run, row: Row, meter: Meter, columns: Mapping[str, int | None]) -> str:
    assert meter.id is not None
    if meter.status is MeterStatus.RETIRED:
        raise _Quarantine(f"meter {meter.number} is retired (replaced): give its replacement's opening reading")
    day = run.day(row.cell(columns["date"]))
    try:
        written = _without_spare_zeros(row.cell(columns["value"]), meter.decimals)
        value = parse_register_value(written, dials=meter.dials, decimals=meter.decimals)
    except BillingError as error:
        raise _Quarantine(f"value: {error.message}") from None
    instant = opening_instant(day, run.tz)
    text = format_register_value(value, decimals=meter.decimals)
    existing = _opening_reading(run.session, meter.id)
    if existing is not None and existing.captured_at == instant and existing.value == value:
        return "readings_unchanged"
    since = day if existing is None else min(day, existing.captured_at.astimezone(run.tz).date())
    _refuse_history(run, meter, since, existing)
    if existing is None:
        reading = Reading(
            uuid=uuid.uuid4(),
            meter_id=meter.id,
            read_type=ReadType.ACTUAL,
            received_at=run.now,
            photo_required=False,  # the older system kept no photos
            source=ReadingSource.IMPORT,
            status=ReadingStatus.APPROVED,
            captured_at=instant,
            period="",
        )
        detail: dict[str, object] = {"meter": meter.number, "date": day.isoformat(), "value": text}
        action = "reading.opening_imported"
        counted = "readings_imported"
    else:
        reading = existing
        old_day = existing.captured_at.astimezone(run.tz).date().isoformat()
        action, counted = "reading.opening_updated", "readings_updated"
        detail = {
            "meter": meter.number,
            "date": {"old": old_day, "new": day.isoformat()},
            "value": {"old": existing.value_text, "new": text},
        }
    reading.value, reading.value_text = value, text
    reading.captured_at, reading.period = instant, period_of(instant, run.tz)
    reading.decided_by_id, reading.decided_at = run.actor.id, run.now
    run.session.add(reading)
    run.session.add(
        AuditEvent(
            at=run.now,
            actor_id=run.actor.id,
            action=action,
            entity="reading",
            entity_id=str(reading.uuid),
            reason=run.reason(row.line),
            detail=detail,
        )
    )
    # The meter's previous approved reading changed: its engineer's phone learns it on the next pull.
    record_meter_event(run.session, meter_id=meter.id, kind=SyncEventKind.PREVIOUS, now=run.now)
    run.session.flush()
    return counted


def import_opening_readings(
    engine: Engine,
    data: bytes,
    *,
    actor: User,
    now: datetime,
    tz: ZoneInfo,
    dry_run: bool = False,
    progress: Progress = no_progress,
) -> ImportReport:
    """Import a CSV or XLSX of opening readings (``meter``, ``date``, ``value``); ``Problem`` ``import.empty_file``
    or ``import.unreadable`` (not a CSV or workbook, a column missing) when the file as a whole cannot be used."""
    table, columns = _table(data, READING_COLUMNS)
    report = ImportReport(kind="opening_readings", dry_run=dry_run, counts=dict.fromkeys(READING_COUNTS, 0))
    rows = [(row, _meter_number(row.cell(columns["meter"]))) for row in table.rows]
    with Session(engine, expire_on_commit=False) as session:
        # Run from a job or the shell, like the master import: a request's short statement limit must not fail it.
        allow_long_transactions(session, IMPORT_STATEMENT_LIMIT_S)
        run = _Run(session, actor, now, tz, report.kind, report)
        meters = _meters(session, {number for _, number in rows if number})

        def apply_row(row: Row, number: str) -> str:
            meter = meters.get(number)
            if meter is None:
                raise _Quarantine(f"no meter {number} in the directory")
            return _read_opening(run, row, meter, columns)

        _apply(run, rows, "meter", apply_row, progress)
        return _finish(session, report)


# --- Opening balances ---


def _units(session: Session, codes: Collection[str]) -> dict[str, Unit]:
    """The units named, by their code case-folded (codes are matched as written or in capitals)."""
    wanted = {variant for code in codes for variant in (code, code.upper())}
    query = select(Unit).where(one_of(session, Unit.code, wanted, String)).with_for_update(key_share=True)
    return {unit.code.casefold(): unit for unit in session.exec(query).all()}


def _book_opening(run: _Run, row: Row, unit: Unit, columns: Mapping[str, int | None]) -> str:
    assert unit.id is not None
    session = run.session
    try:
        amount = parse_amount(row.cell(columns["amount"]))
    except CellError as error:
        raise _Quarantine(str(error)) from None
    written = row.cell(columns["date"])
    day = run.day(written) if written else run.today
    existing = session.exec(
        select(LedgerEntry)
        .where(LedgerEntry.unit_id == unit.id, LedgerEntry.kind == LedgerEntryKind.OPENING)
        .order_by(col(LedgerEntry.id).desc())
    ).first()
    # A row without a date re-imported on another day is the same opening balance, not a new date.
    if existing is not None and existing.amount == amount and (existing.booked_on == day or not written):
        return "balances_unchanged"
    issued = session.exec(
        select(Bill).where(Bill.unit_id == unit.id, Bill.status != BillStatus.DRAFT).order_by(col(Bill.period))
    ).first()
    if issued is not None:
        raise _Quarantine(
            f"unit {unit.code} has an issued bill ({issued.bill_number}, {issued.period}) that carried its balance "
            "as arrears: correct it with a credit or debit note (already billed)"
        )
    values: dict[str, object] = {"amount": amount, "booked_on": day}
    if existing is None:
        entry = LedgerEntry(
            unit_id=unit.id,
            kind=LedgerEntryKind.OPENING,
            description=_OPENING_BALANCE,
            amount=amount,
            booked_on=day,
            created_at=run.now,
        )
        changes = apply_changes(entry, {"unit_id": unit.id, "kind": LedgerEntryKind.OPENING, **values})
        action, counted = "ledger.opening_imported", "balances_imported"
    else:
        entry = existing
        changes = apply_changes(entry, values if written else {"amount": amount})
        action, counted = "ledger.opening_updated", "balances_updated"
    record_change(
        session,
        entry,
        entity="ledger_entry",
        action=action,
        changes={**changes, "unit": {"old": None, "new": unit.code}} if existing is None else changes,
        reason=run.reason(row.line),
        actor=run.actor,
        now=run.now,
    )
    return counted


def import_opening_balances(
    engine: Engine,
    data: bytes,
    *,
    actor: User,
    now: datetime,
    tz: ZoneInfo,
    dry_run: bool = False,
    progress: Progress = no_progress,
) -> ImportReport:
    """Import a CSV or XLSX of opening balances (``unit``, ``amount``, optional ``date``); ``Problem``
    ``import.empty_file`` or ``import.unreadable`` when the file as a whole cannot be used."""
    table, columns = _table(data, BALANCE_COLUMNS, _BALANCE_OPTIONAL)
    report = ImportReport(kind="opening_balances", dry_run=dry_run, counts=dict.fromkeys(BALANCE_COUNTS, 0))
    rows = [(row, row.cell(columns["unit"])) for row in table.rows]
    with Session(engine, expire_on_commit=False) as session:
        # Run from a job or the shell, like the master import: a request's short statement limit must not fail it.
        allow_long_transactions(session, IMPORT_STATEMENT_LIMIT_S)
        run = _Run(session, actor, now, tz, report.kind, report)
        units = _units(session, {code for _, code in rows if code})

        def apply_row(row: Row, code: str) -> str:
            unit = units.get(code.casefold())
            if unit is None:
                raise _Quarantine(f"no unit {code} in the directory")
            return _book_opening(run, row, unit, columns)

        _apply(run, rows, "unit", apply_row, progress)
        return _finish(session, report)
