"""A bill's usage history in the console's Bills (headless): its row's Usage opens six months of billed units
under it, as small bars and as figures, from the bill's API detail; a month without a bill says so."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import flet_charts as fch
import httpx
from sqlmodel import Session, select

from mobile_app.console.app import console_main
from sync_server.models import Unit
from tests.support.flet_driver import FletDriver, run_app
from tests.sync_server.test_bill_history import _earlier_bill, _energy
from tests.ui.ui_fixtures import FLAT, Server, sign_in, value_of, wait_key

TIMEOUT = 30.0
# The console's month axis ("MMM yy", English): the pinned clock bills November 2026.
MONTHS = ["Jun 26", "Jul 26", "Aug 26", "Sep 26", "Oct 26", "Nov 26"]


def run(server: Server, scenario: Any) -> None:
    def http_factory() -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=server.app), base_url="http://t")

    run_app(console_main(http_factory), scenario, timeout=TIMEOUT)


def _earlier_bills(server: Server) -> None:
    """The flat's issued bills of August (two slab lines, 95.5 units) and October (140); none in between."""
    with Session(server.app.state.context.engine) as session:
        unit = session.exec(select(Unit).where(Unit.code == FLAT)).one()
        session.add(_earlier_bill(session, unit, "2026-08", _energy("60", "35.5"), "T/0001"))
        session.add(_earlier_bill(session, unit, "2026-10", _energy("140"), "T/0002"))
        session.commit()


def test_a_bills_usage_opens_under_its_row(server: Server) -> None:
    _earlier_bills(server)
    server.walkthrough_approved()
    bill = next(b for b in server.issued_block_b() if b["unit_code"] == FLAT)
    bill_id = bill["id"]

    async def scenario(driver: FletDriver) -> None:
        await sign_in(driver, "accountant")
        await wait_key(driver, f"usage-{bill_id}")
        await driver.click(f"usage-{bill_id}")
        chart = await wait_key(driver, f"usage-chart-{bill_id}")
        assert isinstance(chart, fch.BarChart)
        assert [[rod.to_y for rod in group.rods] for group in chart.groups] == [[0], [0], [95.5], [0], [140], [77]]
        assert [str(label.label.value) for label in chart.bottom_axis.labels] == MONTHS
        figures = [value_of(driver, f"usage-units-{bill_id}-2026-{month:02d}") for month in range(6, 12)]
        assert figures == ["no bill", "no bill", "95.5", "no bill", "140", "77"]
        # A month without a bill is not a month of zero units, even in the tooltip.
        assert chart.groups[0].rods[0].tooltip == "Units: —"
        assert Decimal(str(chart.groups[5].rods[0].to_y)) == Decimal(77)

        # Usage again closes it.
        await driver.click(f"usage-{bill_id}")
        await driver.wait_for(lambda: value_of(driver, f"usage-units-{bill_id}-2026-11") is None, message="closed")
        assert driver.crashes() == []

    run(server, scenario)
