"""Defaulters and payment plans in a headless console session (issue 16): per block a stacked bar of what is owed
past the due day in each age bucket, the accounts below it filtered by block and by their oldest bucket; from an
account's row its payment plans, one refused by the server (the form keeping what was typed), one agreed and then
cancelled after a confirmation.

The society's ledger is seeded here with charges of known ages (the pinned clock's today is 20 November 2026), and
the figures expected are worked out from that seed, not by the server's ageing.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import flet_charts as fch
import httpx
import pytest
from sqlmodel import Session, select

from mobile_app.console.app import console_main
from mobile_app.console.charts import PALETTE
from shared_billing.protocol import LedgerEntryKind
from sync_server.models import Block, LedgerEntry, Unit
from tests.support.flet_driver import FletDriver, run_app
from tests.ui.ui_fixtures import Server, select_option, sign_in, value_of, wait_key

TIMEOUT = 60.0
CENT = Decimal("0.01")
TODAY = date(2026, 11, 20)
WORDS = {"1-30": "1–30 days", "31-60": "31–60 days", "61-90": "61–90 days", "over_90": "Over 90 days"}
# unit → its charges (amount, days since their due day), and a payment since; the buckets they fall in.
SEED: dict[str, tuple[list[tuple[str, int]], str]] = {
    "2BHK-B1-GF": ([("1200.00", 100), ("300.50", 40)], "0.00"),  # 90+ 1,200 · 31–60 300.50
    "2BHK-B1-FF": ([("850.00", 70), ("450.00", 10)], "200.00"),  # the payment settles the oldest: 61–90 650 · 1–30 450
    "2BHK-C1-GF": ([("1999.99", 35)], "0.00"),  # 31–60 1,999.99
    "VILLA-A1": ([("5000.00", 5)], "5000.00"),  # paid: no defaulter
    "SCO-1": ([("720.00", -3)], "0.00"),  # due in three days: owes, but no defaulter
}
EXPECTED_ROWS = {  # unit → (overdue, oldest bucket), the longest overdue first
    "2BHK-B1-GF": (Decimal("1500.50"), "over_90"),
    "2BHK-B1-FF": (Decimal("1100.00"), "61-90"),
    "2BHK-C1-GF": (Decimal("1999.99"), "31-60"),
}
EXPECTED_BLOCKS = {  # block → owed per bucket, youngest first
    "B": [Decimal("450.00"), Decimal("300.50"), Decimal("650.00"), Decimal("1200.00")],
    "C": [Decimal(0), Decimal("1999.99"), Decimal(0), Decimal(0)],
    "V": [Decimal(0)] * 4,
    "S": [Decimal(0)] * 4,
}


def run(server: Server, scenario: Any) -> None:
    def http_factory() -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=server.app), base_url="http://t")

    run_app(console_main(http_factory), scenario, timeout=TIMEOUT)


def _seed(server: Server) -> tuple[dict[str, int], dict[str, int]]:
    """The charges and payments of ``SEED`` in the ledger (no bill: a charge falls due the day it is booked); the
    units' ids and the blocks' ids, by code."""
    now = server.clock()
    ids: dict[str, int] = {}
    blocks: dict[str, int] = {}
    with Session(server.app.state.context.engine) as session:
        for code, (charges, paid) in SEED.items():
            unit = session.exec(select(Unit).where(Unit.code == code)).one()
            assert unit.id is not None
            ids[code] = unit.id
            for amount, days in charges:
                session.add(_entry(unit.id, LedgerEntryKind.DEBIT_NOTE, Decimal(amount), TODAY - timedelta(days), now))
            if Decimal(paid):
                session.add(_entry(unit.id, LedgerEntryKind.PAYMENT, -Decimal(paid), TODAY, now))
        for block in session.exec(select(Block)).all():
            assert block.id is not None
            blocks[block.code] = block.id
        session.commit()
    return ids, blocks


def _entry(unit_id: int, kind: LedgerEntryKind, amount: Decimal, booked_on: date, now: Any) -> LedgerEntry:
    return LedgerEntry(
        unit_id=unit_id, kind=kind, amount=amount, booked_on=booked_on, description="seeded", created_at=now
    )


def _stacks(driver: FletDriver) -> dict[str, list[Decimal]]:
    """The chart's bars: block → the height of each stacked part, by the bucket its colour stands for in the
    legend (the charts' palette in the buckets' order, youngest first), 0 where the bar has no such part."""
    chart = driver.find("defaulters_chart")
    assert isinstance(chart, fch.BarChart)
    labels = [str(label.label.value) for label in chart.bottom_axis.labels]
    stacks: dict[str, list[Decimal]] = {}
    for label, group in zip(labels, chart.groups, strict=True):
        (rod,) = group.rods
        parts = {item.color: Decimal(str(item.to_y - item.from_y)).quantize(CENT) for item in rod.stack_items}
        assert set(parts) <= set(PALETTE[:4])
        assert Decimal(str(rod.to_y)).quantize(CENT) == sum(parts.values(), Decimal(0))
        stacks[label] = [parts.get(colour, Decimal(0)) for colour in PALETTE[:4]]
    return stacks


def _listed(driver: FletDriver) -> list[str]:
    return [
        str(c.key).removeprefix("defaulter-unit-") for c in driver.walk() if str(c.key).startswith("defaulter-unit-")
    ]


def test_defaulters_chart_list_and_a_payment_plan(server: Server) -> None:
    ids, blocks = _seed(server)
    codes = {unit_id: code for code, unit_id in ids.items()}
    flat = ids["2BHK-B1-FF"]

    async def scenario(driver: FletDriver) -> None:
        await sign_in(driver, "accountant")
        await wait_key(driver, "section-defaulters")
        await driver.click("section-defaulters")
        await wait_key(driver, "defaulters_chart")

        # The chart: a stacked bar per block of the society, the parts the seed's buckets, a legend naming them.
        assert _stacks(driver) == EXPECTED_BLOCKS
        assert set(WORDS.values()) <= set(driver.texts())
        total = sum(overdue for overdue, _ in EXPECTED_ROWS.values())
        assert value_of(driver, "defaulters_summary") == f"3 accounts owe ₹{total:,} past the due day"

        # The list: the longest overdue first, each with what it owes past its day and its oldest bucket.
        await driver.wait_for(lambda: len(_listed(driver)) == 3, message="three defaulters")
        assert [codes[int(key)] for key in _listed(driver)] == list(EXPECTED_ROWS)
        for code, (overdue, bucket) in EXPECTED_ROWS.items():
            assert value_of(driver, f"defaulter-owed-{ids[code]}") == f"Owes ₹{overdue:,}"
            assert value_of(driver, f"defaulter-oldest-{ids[code]}") == f"Oldest: {WORDS[bucket]}"
        assert value_of(driver, f"defaulter-buckets-{flat}") == "61–90 days ₹650.00 · 1–30 days ₹450.00"

        # By bucket (the oldest), then by block (the chart follows the block).
        await select_option(driver, "defaulters_bucket", "31-60")
        await driver.wait_for(lambda: _listed(driver) == [str(ids["2BHK-C1-GF"])], message="block C's account")
        await select_option(driver, "defaulters_bucket", "all")
        await select_option(driver, "defaulters_block", str(blocks["B"]))
        await driver.wait_for(lambda: len(_listed(driver)) == 2, message="block B's two accounts")
        assert _stacks(driver) == {"B": EXPECTED_BLOCKS["B"]}

        # The flat's payment plans: none yet.
        await driver.click(f"plans-open-{flat}")
        await wait_key(driver, "no_plans")
        assert value_of(driver, "plans_owed") == "Owes ₹1,100.00 in all, ₹1,100.00 of it past the due day"
        assert value_of(driver, "plan_first_due_on") == TODAY.isoformat()

        # Refused: a first instalment before today. The server's words beside the date; nothing typed is lost.
        await driver.type_text("plan_instalments", "4")
        await driver.type_text("plan_first_due_on", "2026-11-01")
        await driver.click("plan_save")
        await driver.wait_for(lambda: driver.find("plan_first_due_on").error is not None, message="the refusal")
        assert driver.find("plan_first_due_on").error == "The first instalment cannot fall before today (2026-11-20)"
        assert (value_of(driver, "plan_instalments"), value_of(driver, "plan_first_due_on")) == ("4", "2026-11-01")

        # A count the server does not take: its message beside the field.
        await driver.type_text("plan_instalments", "30")
        await driver.type_text("plan_first_due_on", "2026-12-05")
        await driver.click("plan_save")
        await driver.wait_for(lambda: driver.find("plan_instalments").error, message="the count refused")
        assert "24" in driver.find("plan_instalments").error

        # Agreed: four monthly instalments of the balance from 5 December.
        await driver.type_text("plan_instalments", "4")
        await driver.click("plan_save")
        await driver.wait_for(lambda: _plan_ids(driver), message="the plan")
        (plan_id,) = _plan_ids(driver)
        assert value_of(driver, "plan_notice") == f"Plan {plan_id} agreed: ₹1,100.00 in 4 instalments"
        assert value_of(driver, f"plan-standing-{plan_id}") == "On track"
        assert [value_of(driver, f"instalment-{plan_id}-{n}") for n in range(1, 5)] == [
            f"Instalment {n} · {day} · ₹275.00 · to pay"
            for n, day in enumerate(["05 Dec 2026", "05 Jan 2027", "05 Feb 2027", "05 Mar 2027"], start=1)
        ]
        assert value_of(driver, f"plan-paid-{plan_id}") == "Paid ₹0.00 of ₹1,100.00 · next ₹275.00 by 05 Dec 2026"

        # A second plan while this one runs: the server's 409, said on the form.
        await driver.click("plan_save")
        await driver.wait_for(lambda: driver.find("plan_error").visible, message="the second plan refused")
        assert value_of(driver, "plan_error") == "The account has a payment plan already: cancel it first"

        # Back on the list: the account still owes, marked as keeping to its plan.
        await driver.click("plans_back")
        await driver.wait_for(lambda: _has(driver, f"defaulter-plan-{flat}"), message="the plan on the row")
        assert value_of(driver, f"defaulter-plan-{flat}") == "Payment plan: On track"
        await driver.click(f"plans-open-{flat}")
        await wait_key(driver, f"plan-cancel-{plan_id}")

        # Cancelled, after a confirmation that can be turned down.
        await driver.click(f"plan-cancel-{plan_id}")
        await driver.click(f"plan-keep-{plan_id}")
        assert value_of(driver, f"plan-standing-{plan_id}") == "On track"
        await driver.click(f"plan-cancel-{plan_id}")
        await driver.click(f"plan-cancel-confirm-{plan_id}")
        await driver.wait_for(
            lambda: str(value_of(driver, f"plan-standing-{plan_id}") or "").startswith("Cancelled"),
            message="the plan cancelled",
        )
        assert value_of(driver, "plans_notice") == f"Plan {plan_id} cancelled"
        with pytest.raises(LookupError):
            driver.find(f"plan-cancel-{plan_id}")

        await driver.click("plans_back")
        await driver.wait_for(lambda: len(_listed(driver)) == 2, message="back to block B's defaulters")
        await driver.wait_for(lambda: not _has(driver, f"defaulter-plan-{flat}"), message="the plan gone from the row")
        assert driver.crashes() == []

    run(server, scenario)
    answer = server.http.get(f"/api/units/{flat}/payment-plans", headers=server.headers("accountant"))
    [plan] = answer.json()
    assert (plan["cancelled_at"] is not None, plan["total"], len(plan["instalments"])) == (True, "1100.00", 4)


def _has(driver: FletDriver, key: str) -> bool:
    return any(str(control.key) == key for control in driver.walk())


def _plan_ids(driver: FletDriver) -> list[int]:
    return [
        int(str(c.key).removeprefix("plan-standing-")) for c in driver.walk() if str(c.key).startswith("plan-standing-")
    ]


def test_the_admin_has_defaulters_too_and_a_society_owing_nothing_says_so(server: Server) -> None:
    async def scenario(driver: FletDriver) -> None:
        await sign_in(driver, "admin")
        await wait_key(driver, "section-defaulters")
        await driver.click("section-defaulters")
        await wait_key(driver, "defaulters_chart")
        assert _stacks(driver) == {code: [Decimal(0)] * 4 for code in EXPECTED_BLOCKS}
        assert value_of(driver, "defaulters_summary") == "0 accounts owe ₹0.00 past the due day"
        await driver.wait_for_text("Nobody owes past the due day")
        assert driver.crashes() == []

    run(server, scenario)
