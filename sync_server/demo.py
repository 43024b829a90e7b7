"""A synthetic society shaped like Blessings City (docs/domain.md), seeded into an *empty* database only.

The walk-through: engineer1 reads flat 5BHK-B17-FF at *previous + 77*; with MOTOR-B (210 units this month) shared
with three flats that used 110, 110 and 111 units, its share is 39.63 units and the bill is ₹3,711.
"This month" follows the server clock, so the walk-through works on any date (``FIELDMETER_NOW`` pins it).
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlmodel import Session, select

from shared_billing.tariffs import blessings_tariff
from sync_server.auth import hash_password
from sync_server.directory import start_assignment
from sync_server.events import record_events
from sync_server.models import (
    AuditEvent,
    Block,
    Meter,
    MeterKind,
    Reading,
    ReadingSource,
    ReadingStatus,
    ReadType,
    Role,
    SharedMeterMember,
    SyncEvent,
    SyncEventKind,
    TariffRecord,
    Unit,
    UnitCategory,
    User,
)
from sync_server.periods import period_of

__all__ = ["DEMO_PASSWORD", "DEMO_USERS", "WALKTHROUGH_UNIT", "seed_demo"]

DEMO_PASSWORD = "fieldmeter-demo"  # noqa: S105 - demo data only, printed by `serve --demo`
DEMO_USERS = {
    "engineer1": Role.ENGINEER,
    "engineer2": Role.ENGINEER,
    "supervisor": Role.SUPERVISOR,
    "admin": Role.ADMIN,
    "accountant": Role.ACCOUNTANT,
}
WALKTHROUGH_UNIT = "5BHK-B17-FF"
MOTOR_LABEL = "MOTOR-B"
# Units used this month by the motor and three of its flats (the fourth is read in the walk-through).
THIS_MONTH_USE = {MOTOR_LABEL: 210, "4BHK-B5-FF": 110, "4BHK-B6-FF": 110, "2BHK-B18-FF": 111}
MOTOR_MEMBERS = ("4BHK-B5-FF", "4BHK-B6-FF", "2BHK-B18-FF", WALKTHROUGH_UNIT)

# (code, block, category, unit type, engineer, special rate ₹9 with no fixed charge)
_FLAT, _VILLA, _SHOP = UnitCategory.FLAT, UnitCategory.VILLA, UnitCategory.SHOP
_UNITS: list[tuple[str, str, UnitCategory, str, str, bool]] = [
    *[(f"2BHK-B{n}-{f}", "B", _FLAT, "2BHK", "engineer1", False) for n in (1, 2) for f in ("GF", "FF", "SF")],
    ("4BHK-B5-GF", "B", _FLAT, "4BHK", "engineer1", False),
    ("4BHK-B5-FF", "B", _FLAT, "4BHK", "engineer1", False),
    ("4BHK-B6-GF", "B", _FLAT, "4BHK", "engineer1", False),
    ("4BHK-B6-FF", "B", _FLAT, "4BHK", "engineer1", False),
    (WALKTHROUGH_UNIT, "B", _FLAT, "5BHK", "engineer1", False),
    ("2BHK-B18-FF", "B", _FLAT, "2BHK", "engineer1", False),
    *[(f"2BHK-C{n}-{f}", "C", _FLAT, "2BHK", "engineer2", False) for n in (1, 2) for f in ("GF", "FF", "SF")],
    ("2BHK-C3-GF", "C", _FLAT, "2BHK", "engineer2", True),
    *[(f"4BHK-C8-{f}", "C", _FLAT, "4BHK", "engineer2", False) for f in ("GF", "FF", "SF")],
    *[(f"VILLA-A{n}", "V", _VILLA, "VILLA", "engineer1", False) for n in (1, 2, 3, 4)],
    *[(f"SCO-{n}", "S", _SHOP, "SCO", "engineer2", False) for n in (1, 2, 3, 4)],
]
_BLOCKS = {"B": "Block B", "C": "Block C", "V": "Villas", "S": "Shops (SCO)"}
# A synthetic site near Ludhiana; each block a few dozen metres from the next.
_ORIGIN = (30.9010, 75.8573)
_BLOCK_OFFSET = {"B": (0.0, 0.0), "C": (0.0006, 0.0), "V": (0.0, 0.0007), "S": (0.0006, 0.0007)}


@dataclass(frozen=True)
class DemoTimes:
    last_month_at: datetime
    this_month_at: datetime


def demo_times(now: datetime, tz: ZoneInfo) -> DemoTimes:
    local = now.astimezone(tz)
    month_start = datetime.combine(local.date().replace(day=1), time(), tz)
    previous_start = datetime.combine((month_start.date() - timedelta(days=1)).replace(day=1), time(), tz)
    # Halfway between the month's start and now: always this month, never in the future.
    this_month_at = month_start + (local - month_start) / 2
    return DemoTimes(last_month_at=previous_start + timedelta(days=24, hours=10), this_month_at=this_month_at)


def _is_empty(session: Session) -> bool:
    return session.exec(select(User.id)).first() is None


def _seed_reading(meter: Meter, value: int, at: datetime, tz: ZoneInfo, supervisor: User, engineer_id: int) -> Reading:
    return Reading(
        uuid=uuid.uuid4(),
        meter_id=meter.id or 0,
        engineer_id=engineer_id,
        read_type=ReadType.ACTUAL,
        value_text=str(value),
        value=Decimal(value),
        captured_at=at,
        received_at=at,
        period=period_of(at, tz),
        photo_required=False,  # seeded history is exempt from the photo rule
        source=ReadingSource.SEED,
        status=ReadingStatus.APPROVED,
        decided_by_id=supervisor.id,
        decided_at=at,
    )


def seed_demo(engine: Engine, *, now: datetime, tz: ZoneInfo) -> bool:
    """Seed the demo society; returns False (and writes nothing) when the database already has users."""
    with Session(engine, expire_on_commit=False) as session:
        if not _is_empty(session):
            return False
        users = {
            name: User(
                username=name,
                full_name=name.title(),
                role=role,
                password_hash=hash_password(DEMO_PASSWORD),
                created_at=now,
            )
            for name, role in DEMO_USERS.items()
        }
        session.add_all(users.values())
        cfg = blessings_tariff()
        tariff = TariffRecord(code=cfg.code, name=cfg.name, valid_from=date(2020, 1, 1), config=cfg.to_dict())
        blocks = {code: Block(code=code, name=name) for code, name in _BLOCKS.items()}
        session.add(tariff)
        session.add_all(blocks.values())
        session.flush()
        rng = random.Random(20251101)  # noqa: S311 - fixed seed: the same synthetic society every time
        units: dict[str, Unit] = {}
        meters: dict[str, tuple[Meter, str]] = {}
        for index, (code, block, category, unit_type, engineer, special) in enumerate(_UNITS):
            unit = Unit(
                code=code,
                block_id=blocks[block].id or 0,
                category=category,
                unit_type=unit_type,
                floor=code.rsplit("-", 1)[1] if category == UnitCategory.FLAT else None,
                consumer_name=f"Resident {index + 1:02d}",
                tariff_id=tariff.id,
                rate_override=Decimal(9) if special else None,
                fixed_charge_waived=special,
            )
            session.add(unit)
            session.flush()
            units[code] = unit
            d_lat, d_lon = _BLOCK_OFFSET[block]
            meter = Meter(
                number=f"{40012000 + index * 17}",
                block_id=unit.block_id,
                unit_id=unit.id,
                kind=MeterKind.UNIT,
                dials=6,
                lat=round(_ORIGIN[0] + d_lat + index * 0.00004, 6),
                lon=round(_ORIGIN[1] + d_lon + (index % 3) * 0.00004, 6),
            )
            meters[code] = (meter, engineer)
        motor = Meter(
            number="40019999",
            block_id=blocks["B"].id or 0,
            kind=MeterKind.SHARED,
            label=MOTOR_LABEL,
            dials=6,
            lat=_ORIGIN[0] - 0.0001,
            lon=_ORIGIN[1],
        )
        meters[MOTOR_LABEL] = (motor, "engineer1")
        session.add_all(meter for meter, _ in meters.values())
        session.flush()
        first_of_year = date(now.astimezone(tz).year - 1, 1, 1)
        session.add_all(
            SharedMeterMember(meter_id=motor.id or 0, unit_id=units[code].id or 0, valid_from=first_of_year)
            for code in MOTOR_MEMBERS
        )
        times = demo_times(now, tz)
        supervisor = users["supervisor"]
        assignment_events: list[SyncEvent] = []
        route_ends: dict[int, int] = {}
        for code, (meter, engineer) in meters.items():
            engineer_id = users[engineer].id or 0
            route_ends[engineer_id] = walk_order = route_ends.get(engineer_id, 0) + 1
            start_assignment(session, meter_id=meter.id or 0, engineer_id=engineer_id, walk_order=walk_order, now=now)
            assignment_events.append(
                SyncEvent(engineer_id=engineer_id, kind=SyncEventKind.ASSIGNED, meter_id=meter.id, created_at=now)
            )
            previous = rng.randrange(1_000, 60_000)
            session.add(_seed_reading(meter, previous, times.last_month_at, tz, supervisor, engineer_id))
            if code in THIS_MONTH_USE:
                current = previous + THIS_MONTH_USE[code]
                session.add(_seed_reading(meter, current, times.this_month_at, tz, supervisor, engineer_id))
        record_events(session, assignment_events)
        session.add(AuditEvent(at=now, action="demo.seeded", entity="society", entity_id="demo"))
        session.commit()
        return True
