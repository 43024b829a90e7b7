"""What a bill charges, two quantities with one definition each (shared_billing.bill_lines):

- ``ledger_charge``: every line but the arrears (payable − arrears): the ledger entry, ``Bill.charges`` and the
  invoice's "payable for this bill";
- ``tariff_charges``: the lines without arrears, adjustments and round-off: what a true-up nets an estimate off.

Pinned on a bill that has all of arrears, a true-up adjustment and a round-off, after an estimate whose own
round-off makes the two quantities differ.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from fastapi import FastAPI
from sqlmodel import Session, select

from shared_billing.bill_lines import Adjustment, BillLine, LineCode, ledger_charge, tariff_charges
from shared_billing.billing import compute_bill
from shared_billing.tariffs import blessings_tariff
from sync_server.billing.compute import bill_lines
from sync_server.billing.documents import invoice_for
from sync_server.clock import FixedClock
from sync_server.models import Bill, LedgerEntry, LedgerEntryKind
from tests.sync_server.test_estimated_bills import _add_read, _flat_with_history, _run_and_issue

RATE, FIXED = Decimal(12), Decimal(1890)  # the tariff of test_estimated_bills.FLAT (4BHK)


def _amount(lines: list[BillLine], code: LineCode) -> Decimal:
    return sum((line.amount for line in lines if line.code == code), Decimal("0.00"))


def test_compute_bill_lines_sum_to_both_quantities() -> None:
    result = compute_bill(
        blessings_tariff(),
        unit_type="2BHK",
        own_units=Decimal("10.37"),
        arrears=Decimal("250.40"),
        adjustments=[Adjustment("True-up of estimated bills", Decimal("-36.12"))],
    )
    lines = result.lines
    assert result.round_off != 0
    assert ledger_charge(lines) == result.payable - Decimal("250.40")
    assert tariff_charges(lines) == result.total - Decimal("250.40") - Decimal("-36.12")
    assert ledger_charge(lines) - tariff_charges(lines) == Decimal("-36.12") + result.round_off
    # A levy's code carries the tariff's own code after a colon: still a tariff charge.
    levy = BillLine(f"{LineCode.LEVY.value}:duty", "Duty", Decimal(1), None, Decimal("5.00"))
    assert tariff_charges([*lines, levy]) == tariff_charges(lines) + Decimal("5.00")


def _book(session: Session, unit_id: int, kind: LedgerEntryKind, amount: str, at: datetime) -> None:
    session.add(
        LedgerEntry(
            unit_id=unit_id, kind=kind, amount=Decimal(amount), booked_on=at.date(), description=kind, created_at=at
        )
    )


def _issue(session: Session, app: FastAPI, clock: FixedClock, period: str, unit_id: int) -> Bill:
    return next(bill for bill in _run_and_issue(session, app, clock, period) if bill.unit_id == unit_id)


def test_ledger_invoice_and_true_up_agree_on_what_a_bill_charges(demo_app: FastAPI, clock: FixedClock) -> None:
    context = demo_app.state.context
    with Session(context.engine, expire_on_commit=False) as session:
        meter, october = _flat_with_history(session)  # 100, 120, 140 units: November is estimated at 120
        assert october.value is not None
        unit_id = meter.unit_id or 0
        # Paise in the arrears, so November has a round-off and its two charges differ.
        _book(session, unit_id, LedgerEntryKind.DEBIT_NOTE, "100.30", clock())
        session.commit()

        november = _issue(session, demo_app, clock, "2025-11", unit_id)
        assert november.estimated_units == Decimal("120")
        assert november.round_off == Decimal("-0.30")  # 120 × 12 + 1890 + 100.30 → 3430
        assert tariff_charges(bill_lines(november)) == 120 * RATE + FIXED
        assert november.charges == ledger_charge(bill_lines(november)) == 120 * RATE + FIXED - Decimal("0.30")

        _book(session, unit_id, LedgerEntryKind.PAYMENT, "-1000.25", clock())
        clock.advance(timedelta(days=30))
        _add_read(session, meter, october.value + 260, clock() - timedelta(hours=1), "2025-12")
        session.commit()
        december = _issue(session, demo_app, clock, "2025-12", unit_id)
        lines = bill_lines(december)
        arrears = _amount(lines, LineCode.ARREARS)
        assert arrears == Decimal("100.30") + november.charges - Decimal("1000.25")
        assert _amount(lines, LineCode.ADJUSTMENT) != 0
        assert december.round_off != 0

        # The ledger: charged every line but the arrears, which were on it already.
        [entry] = session.exec(select(LedgerEntry).where(LedgerEntry.bill_id == december.id)).all()
        assert entry.amount == december.charges == ledger_charge(lines) == december.payable - arrears

        # The invoice prints the same figure as this bill's payable, and the arrears on their own row.
        invoice = invoice_for(session, december, context.settings)
        assert invoice.payable == december.charges
        assert invoice.total == december.charges - december.round_off
        assert invoice.arrears == arrears
        assert invoice.amount_due == december.payable

        # The true-up nets off November's tariff charges (3330), not what November charged the ledger (3329.70).
        december_units = next(line.quantity for line in lines if line.code == LineCode.ENERGY)
        rerated_november = (260 - december_units) * RATE + FIXED
        expected = (rerated_november - tariff_charges(bill_lines(november))).quantize(Decimal("0.01"), ROUND_HALF_UP)
        assert _amount(lines, LineCode.ADJUSTMENT) == expected
