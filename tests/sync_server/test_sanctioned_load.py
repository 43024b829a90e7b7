"""A tariff's fixed charge per kW bills the unit's sanctioned load (docs/domain.md "Fixed and minimum charges")."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from fastapi import FastAPI
from sqlmodel import Session, col, select

from shared_billing.tariffs import blessings_tariff
from sync_server.clock import FixedClock
from sync_server.models import Bill, Meter, Reading, TariffRecord, Unit
from tests.sync_server.test_estimated_bills import FLAT, _add_read, _run_only

PER_KW = Decimal(150)


def _per_kw_flat(session: Session, load_kw: Decimal | None) -> Unit:
    """FLAT on a per-kW copy of the demo tariff, with ``load_kw`` sanctioned, and a November read approved."""
    config = {
        **blessings_tariff().to_dict(),
        "code": "KW-TEST",
        "fixed_basis": "kw",
        "fixed_by_unit_type": {"*": "150"},
    }
    tariff = TariffRecord(code="KW-TEST", name="Per kW", valid_from=date(2020, 1, 1), config=config)
    session.add(tariff)
    session.flush()
    unit = session.exec(select(Unit).where(Unit.code == FLAT)).one()
    unit.tariff_id, unit.sanctioned_load_kw = tariff.id, load_kw
    session.add(unit)
    meter = session.exec(select(Meter).where(col(Meter.unit_id) == unit.id)).one()
    october = session.exec(select(Reading).where(Reading.meter_id == meter.id)).one()
    assert october.value is not None
    _add_read(session, meter, october.value + 100, october.captured_at + timedelta(days=30), "2025-11")
    session.commit()
    return unit


def test_the_fixed_charge_per_kw_bills_the_sanctioned_load(demo_app: FastAPI, clock: FixedClock) -> None:
    with Session(demo_app.state.context.engine, expire_on_commit=False) as session:
        unit = _per_kw_flat(session, Decimal("4.5"))
        skipped = _run_only(session, demo_app, clock, "2025-11")
        assert FLAT not in skipped
        bill = session.exec(select(Bill).where(Bill.unit_id == unit.id, Bill.period == "2025-11")).one()
    fixed = next(line for line in bill.lines if line["code"] == "fixed")
    assert Decimal(fixed["amount"]) == PER_KW * Decimal("4.5")
    assert "4.50 kW" in fixed["description"]


def test_without_a_sanctioned_load_a_per_kw_tariff_cannot_bill(demo_app: FastAPI, clock: FixedClock) -> None:
    with Session(demo_app.state.context.engine, expire_on_commit=False) as session:
        _per_kw_flat(session, None)
        skipped = _run_only(session, demo_app, clock, "2025-11")
    assert skipped[FLAT]["code"] == "bill.no_sanctioned_load"
