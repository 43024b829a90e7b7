"""The master-data file applied to the directory: blocks, units, their meters, and the motors as shared meters
with their members, in ONE transaction, each change audited as the admin's screens audit it
(``sync_server/premises.py``); a dry run rolls the transaction back and reports the same counts.

Rows the database contradicts are quarantined too (a meter number that is another unit's meter); a row whose
change would re-divide a billed month's shares keeps its membership and is warned about
(docs/operations.md "Importing master data").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ValidationError
from sqlalchemy import Engine
from sqlmodel import Session, col, or_, select

from shared_billing.api_models import BlockIn, MeterIn, UnitIn
from shared_billing.tariffs import Tariff
from sync_server.db_guard import allow_long_transactions
from sync_server.imports.master_file import (
    SHOP_BLOCK,
    VILLA_BLOCK,
    MasterFileUnreadable,
    MotorRow,
    UnitRow,
    parse_master,
)
from sync_server.imports.master_rules import Terms, common_rate, motor_members, terms_for
from sync_server.imports.report import ImportReport, Progress, RowIssue, no_progress
from sync_server.models import (
    Block,
    Meter,
    MeterKind,
    MeterStatus,
    Reading,
    SharedMeterMember,
    TariffRecord,
    Unit,
    User,
)
from sync_server.premises import apply_changes, record_change, refuse_billed
from sync_server.problems import Problem

__all__ = ["COUNT_KEYS", "import_master"]

COUNT_KEYS = ("units_imported", "units_updated", "units_unchanged", "meters_created", "shared_meters")
IMPORT_STATEMENT_LIMIT_S = 120.0  # per statement or lock wait (requests get a few seconds)
_BLOCK_NAMES = {VILLA_BLOCK: "Villas", SHOP_BLOCK: "Shops (SCO)"}


class _Quarantine(Exception):
    """The database contradicts the row: nothing of it is written."""


@dataclass
class _Run:
    session: Session
    actor: User
    now: datetime
    members_from: date
    tariff: tuple[int, Tariff] | None
    report: ImportReport
    blocks: dict[str, Block] = field(default_factory=dict)
    units: dict[str, Unit] = field(default_factory=dict)  # the file's units as written, by code

    def reason(self, line: int) -> str:
        return f"master-data import, line {line}"

    def save(
        self,
        row: Meter | Unit | Block | SharedMeterMember,
        values: dict[str, object],
        line: int,
        *,
        entity: str,
        action: str,
    ) -> bool:
        """Set ``values`` and audit the change; False when nothing changed."""
        changes = apply_changes(row, values)
        if not changes:
            return False
        record_change(
            self.session,
            row,
            entity=entity,
            action=action,
            changes=changes,
            reason=self.reason(line),
            actor=self.actor,
            now=self.now,
        )
        return True

    def count(self, key: str) -> None:
        self.report.counts[key] += 1

    def warn(self, line: int, unit_id: str, reason: str) -> None:
        self.report.warnings.append(RowIssue(line, unit_id, reason))


def _checked(model: type[BaseModel], values: dict[str, object]) -> None:
    """The directory's own bounds (the admin's forms check the same), or the row is quarantined."""
    try:
        model.model_validate(values)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise _Quarantine(f"{where}: {first['msg']}") from None


def _block(run: _Run, code: str, line: int) -> Block:
    if code not in run.blocks:
        block = run.session.exec(select(Block).where(Block.code == code)).first()
        if block is None:
            values: dict[str, object] = {"code": code, "name": _BLOCK_NAMES.get(code, f"Block {code}")}
            _checked(BlockIn, values)
            block = Block(code=code, name=str(values["name"]))
            run.save(block, values, line, entity="block", action="block.created")
        run.blocks[code] = block
    return run.blocks[code]


def _has_readings(session: Session, meter: Meter) -> bool:
    return session.exec(select(Reading.id).where(Reading.meter_id == meter.id).limit(1)).first() is not None


def _meter_by_number(session: Session, number: str) -> Meter | None:
    return session.exec(select(Meter).where(Meter.number == number)).first()


def _owner(session: Session, meter: Meter) -> str:
    if meter.unit_id is None:
        return f"shared meter {meter.label or meter.id}"
    unit = session.get(Unit, meter.unit_id)
    return f"unit {unit.code if unit else meter.unit_id}'s meter"


def _unit_values(run: _Run, row: UnitRow, existing: Unit | None, terms: Terms) -> dict[str, object]:
    values: dict[str, object] = {
        "code": row.unit_id,
        "category": row.category,
        "unit_type": row.unit_type,
        "floor": row.floor,
        "consumer_name": row.consumer_name,
        "phone": row.phone,
        "email": row.email,
        "rate_override": terms.rate_override,
        "fixed_charge_waived": terms.fixed_charge_waived,
    }
    # A tariff given to the import is for units that have none; a unit's own tariff is the admin's to change.
    if run.tariff is not None and (existing is None or existing.tariff_id is None):
        values["tariff_id"] = run.tariff[0]
    return values


def _import_unit(run: _Run, row: UnitRow, common: Decimal | None) -> None:
    """Every check that can quarantine the row runs before its first write: a quarantined row writes nothing."""
    session = run.session
    existing = session.exec(select(Unit).where(Unit.code == row.unit_id)).first()
    current = None
    if existing is not None:
        current = session.exec(
            select(Meter).where(
                Meter.unit_id == existing.id, Meter.kind == MeterKind.UNIT, Meter.status == MeterStatus.ACTIVE
            )
        ).first()
    numbered = _meter_by_number(session, row.meter_number) if row.meter_number else None
    if numbered is not None and (existing is None or numbered.unit_id != existing.id):
        raise _Quarantine(f"meter number {row.meter_number} is {_owner(session, numbered)} in the directory")
    terms = terms_for(row, run.tariff[1] if run.tariff else None, common)
    values = _unit_values(run, row, existing, terms)
    # The block may not exist yet: any id stands in for it in the bounds check.
    _checked(UnitIn, {**values, "block_id": 1})
    if row.meter_number is not None:
        _checked(MeterIn, {"number": row.meter_number, "block_id": 1})
    for warning in terms.warnings:
        run.warn(row.line, row.unit_id, warning)
    if row.meter_number is None and current is None:
        run.warn(row.line, row.unit_id, "no meter number: imported, needs a meter")
    block = _block(run, row.block, row.line)
    values["block_id"] = block.id
    unit = existing or Unit(code=row.unit_id, block_id=block.id or 0, category=row.category, unit_type=row.unit_type)
    changed = run.save(unit, values, row.line, entity="unit", action="unit.updated" if existing else "unit.created")
    run.units[row.unit_id] = unit
    if row.meter_number is not None:
        changed = _unit_meter(run, row, unit, numbered or current) or changed
    run.count("units_imported" if existing is None else "units_updated" if changed else "units_unchanged")


def _unit_meter(run: _Run, row: UnitRow, unit: Unit, meter: Meter | None) -> bool:
    """The unit's meter as the file numbers it: created, renumbered while it has no readings, else left (a swapped
    meter is a replacement, recorded with its reads). True when something changed."""
    assert row.meter_number is not None
    if meter is None:
        values: dict[str, object] = {"number": row.meter_number, "block_id": unit.block_id, "unit_id": unit.id}
        meter = Meter(number=row.meter_number, block_id=unit.block_id, unit_id=unit.id, kind=MeterKind.UNIT)
        run.save(meter, {**values, "kind": MeterKind.UNIT}, row.line, entity="meter", action="meter.created")
        run.count("meters_created")
        return True
    if meter.number != row.meter_number and _has_readings(run.session, meter):
        run.warn(
            row.line,
            row.unit_id,
            f"the unit's meter {meter.number} has readings: meter number {row.meter_number} not recorded "
            "(if the meter was swapped, record a meter replacement)",
        )
        return False
    values = {"number": row.meter_number, "block_id": unit.block_id}
    return run.save(meter, values, row.line, entity="meter", action="meter.updated")


def _motor_meter(run: _Run, motor: MotorRow) -> Meter:
    session = run.session
    meter = _meter_by_number(session, motor.meter_number)
    if meter is not None and meter.kind != MeterKind.SHARED:
        raise _Quarantine(f"meter number {motor.meter_number} is {_owner(session, meter)} in the directory")
    _checked(MeterIn, {"number": motor.meter_number, "block_id": 1, "label": motor.unit_id})
    block = _block(run, motor.block, motor.line)
    if meter is None:
        meter = session.exec(
            select(Meter).where(
                Meter.label == motor.unit_id, Meter.kind == MeterKind.SHARED, Meter.status == MeterStatus.ACTIVE
            )
        ).first()
        if meter is not None and _has_readings(session, meter):
            run.warn(
                motor.line,
                motor.unit_id,
                f"the motor's meter {meter.number} has readings: meter number {motor.meter_number} not recorded",
            )
            return meter
    values: dict[str, object] = {"number": motor.meter_number, "block_id": block.id, "label": motor.unit_id}
    if meter is None:
        meter = Meter(number=motor.meter_number, block_id=block.id or 0, kind=MeterKind.SHARED)
        run.save(meter, {**values, "kind": MeterKind.SHARED}, motor.line, entity="meter", action="meter.created")
        run.count("meters_created")
    else:
        run.save(meter, values, motor.line, entity="meter", action="meter.updated")
    return meter


def _membership_refused(run: _Run, meter: Meter, unit: Unit, day: date) -> str | None:
    try:
        refuse_billed(run.session, meter.id or 0, unit.id or 0, day)
    except Problem as problem:
        return problem.message
    return None


def _members(run: _Run, motor: MotorRow, meter: Meter, wanted: list[str]) -> None:
    """Members as the motor's line lists them, from ``members_from``: flats of this file join, flats of this file
    no longer listed leave; units the file does not carry (or quarantined) are left as they are."""
    session, day = run.session, run.members_from
    running = session.exec(
        select(SharedMeterMember).where(
            SharedMeterMember.meter_id == meter.id,
            or_(col(SharedMeterMember.valid_to).is_(None), col(SharedMeterMember.valid_to) > day),
        )
    ).all()
    by_unit = {member.unit_id: member for member in running}
    wanted_units = [run.units[code] for code in wanted if code in run.units]
    for unit in wanted_units:
        if unit.id in by_unit:
            continue
        refused = _membership_refused(run, meter, unit, day)
        if refused is not None:
            run.warn(motor.line, motor.unit_id, f"{unit.code} not added: {refused}")
            continue
        member = SharedMeterMember(meter_id=meter.id or 0, unit_id=unit.id or 0, valid_from=day)
        values: dict[str, object] = {"meter_id": meter.id, "unit_id": unit.id, "valid_from": day}
        run.save(member, values, motor.line, entity="shared_meter_member", action="membership.added")
    keep = {unit.id for unit in wanted_units}
    file_units = {unit.id: unit for unit in run.units.values()}
    for unit_id, member in by_unit.items():
        if unit_id in keep or unit_id not in file_units:
            continue
        code = file_units[unit_id].code
        refused = _membership_refused(run, meter, file_units[unit_id], day)
        if refused is None and member.valid_from >= day:
            refused = f"it joined on {member.valid_from.isoformat()}, not before {day.isoformat()}"
        if refused is not None:
            run.warn(motor.line, motor.unit_id, f"{code} no longer listed but not removed: {refused}")
            continue
        run.save(member, {"valid_to": day}, motor.line, entity="shared_meter_member", action="membership.ended")


def _tariff(session: Session, code: str | None, on: date) -> tuple[int, Tariff] | None:
    """The stored tariff ``code`` names: the version of that exact code, or of ``code@date`` the one in force on
    ``on`` (the earliest when none is yet)."""
    if code is None:
        return None
    rows = session.exec(
        select(TariffRecord).where(
            or_(TariffRecord.code == code, col(TariffRecord.code).startswith(f"{code}@", autoescape=True))
        )
    ).all()
    exact = [row for row in rows if row.code == code]
    versions = sorted(rows, key=lambda row: row.valid_from)
    in_force = [row for row in versions if row.valid_from <= on]
    chosen = exact[0] if exact else (in_force[-1] if in_force else versions[0] if versions else None)
    if chosen is None or chosen.id is None:
        raise Problem(
            "import.unknown_tariff",
            f"No tariff {code!r} is stored: import its file first (POST /api/tariffs)",
            {"tariff_code": code},
        )
    return chosen.id, Tariff.from_dict(chosen.config)


def import_master(
    engine: Engine,
    data: bytes,
    *,
    actor: User,
    now: datetime,
    tz: ZoneInfo,
    dry_run: bool = False,
    progress: Progress = no_progress,
    members_from: date | None = None,
    tariff_code: str | None = None,
) -> ImportReport:
    """Import a master-data file (``Problem`` ``import.unreadable`` when it is not UTF-8, ``import.unknown_tariff``
    for a tariff not stored). Motors join their flats from ``members_from`` (default: the society's today)."""
    try:
        parsed = parse_master(data)
    except MasterFileUnreadable as error:
        raise Problem("import.unreadable", str(error)) from None
    report = ImportReport(
        kind="master",
        dry_run=dry_run,
        counts=dict.fromkeys(COUNT_KEYS, 0),
        quarantined=list(parsed.quarantined),
        warnings=list(parsed.warnings),
    )
    day = members_from or now.astimezone(tz).date()
    total = len(parsed.units) + len(parsed.motors)
    progress(0, total)
    with Session(engine, expire_on_commit=False) as session:
        # Run from a job or the shell, not a request: a request's writer holding the lock for the few seconds that
        # bound a request (sync_server/db_guard.py) must not fail the whole file.
        allow_long_transactions(session, IMPORT_STATEMENT_LIMIT_S)
        run = _Run(session, actor, now, day, _tariff(session, tariff_code, day), report)
        common = common_rate(parsed.units)
        imported: list[UnitRow] = []
        for done, row in enumerate(parsed.units, start=1):
            try:
                _import_unit(run, row, common)
                imported.append(row)
            except _Quarantine as error:
                report.quarantined.append(RowIssue(row.line, row.unit_id, str(error)))
            progress(done, total)
        members, disagreements = motor_members(imported, parsed.motors)
        report.warnings.extend(disagreements)
        for done, motor in enumerate(parsed.motors, start=len(parsed.units) + 1):
            try:
                meter = _motor_meter(run, motor)
                _members(run, motor, meter, members[motor.unit_id])
                run.count("shared_meters")
            except _Quarantine as error:
                report.quarantined.append(RowIssue(motor.line, motor.unit_id, str(error)))
            progress(done, total)
        if dry_run:
            session.rollback()
        else:
            session.commit()
    report.quarantined.sort(key=lambda issue: issue.line)
    report.warnings.sort(key=lambda issue: issue.line)
    return report
