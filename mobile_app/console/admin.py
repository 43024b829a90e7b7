"""The admin's console: approved readings to bill, the bills produced, and the directory of meters."""

from __future__ import annotations

from datetime import tzinfo
from functools import partial
from typing import Any
from uuid import UUID

import flet as ft

from mobile_app.api.errors import ApiClientError
from mobile_app.console.client import ConsoleClient
from mobile_app.i18n import _
from mobile_app.ui.common import day, mounted_page, push_update, rupees, show_message, society_time, title
from shared_billing.api_models import BillOut, ReviewItem
from shared_billing.protocol import MeterKind

__all__ = ["AdminView"]


class AdminView(ft.Column):
    def __init__(self, client: ConsoleClient) -> None:
        self.client = client
        self.readings = ft.Column(spacing=6)
        self.bills = ft.Column(spacing=6)
        self.meters = ft.Column(spacing=2)
        super().__init__(
            expand=True,
            scroll=ft.ScrollMode.AUTO,
            controls=[
                ft.Row(
                    [
                        title(_("Billing")),
                        ft.IconButton(ft.Icons.REFRESH, key="refresh", tooltip=_("Refresh"), on_click=self._refresh),
                    ]
                ),
                ft.Text(_("Approved readings"), weight=ft.FontWeight.BOLD),
                self.readings,
                ft.Text(_("Bills"), weight=ft.FontWeight.BOLD),
                self.bills,
                ft.Text(_("Meters and units"), weight=ft.FontWeight.BOLD),
                self.meters,
            ],
        )

    async def _refresh(self, _event: ft.Event[Any] | None = None) -> None:
        await self.load()

    async def load(self) -> None:
        try:
            readings, bills, meters, units, society = (
                await self.client.approved_readings(),
                await self.client.bills(),
                await self.client.meters(),
                await self.client.units(),
                await self.client.society_time(),
            )
        except ApiClientError as error:
            self.readings.controls = [ft.Text(error.message, color=ft.Colors.RED_700)]
            push_update(self)
            return
        billed = {bill.reading_uuid for bill in bills}
        # Billable: a unit's own meter with a consumption (an earlier approved reading to measure from).
        field_readings = [r for r in readings if r.meter_kind == MeterKind.UNIT and r.consumption is not None]
        self.readings.controls = [self._reading_row(r, r.uuid in billed) for r in field_readings[:50]] or [
            ft.Text(_("No approved readings"))
        ]
        self.bills.controls = [self._bill_row(bill, society.zone) for bill in bills] or [
            ft.Text(_("No bills yet"), key="no_bills")
        ]
        unit_names: dict[int | None, str] = {unit.id: unit.code for unit in units}
        self.meters.controls = [
            ft.Text(
                _("{number} · {unit} · {dials} dials · engineer {engineer}").format(
                    number=meter.number,
                    unit=unit_names.get(meter.unit_id, meter.label or _("shared")),
                    dials=meter.dials,
                    engineer=meter.engineer_id or "—",
                ),
                size=12,
            )
            for meter in meters
        ]
        push_update(self)

    def _reading_row(self, reading: ReviewItem, billed: bool) -> ft.Control:
        uuid = reading.uuid
        button: ft.Control = (
            ft.Text(_("billed"), color=ft.Colors.GREEN_700)
            if billed
            else ft.FilledButton(
                _("Bill {unit}").format(unit=reading.unit_code), key=f"bill-{uuid}", on_click=partial(self._bill, uuid)
            )
        )
        return ft.Row(
            [
                ft.Text(
                    _("{unit} · {period} · {value} ({consumption} units)").format(
                        unit=reading.unit_code,
                        period=reading.period,
                        value=reading.value,
                        consumption=reading.consumption or "—",
                    ),
                    expand=True,
                ),
                button,
            ],
            key=f"approved-{uuid}",
        )

    def _bill_row(self, bill: BillOut, zone: tzinfo) -> ft.Control:
        lines = ", ".join(f"{line.description} {rupees(line.amount)}" for line in bill.lines)
        return ft.Container(
            key=f"billrow-{bill.id}",
            padding=8,
            border=ft.Border.all(1, ft.Colors.GREY_300),
            border_radius=8,
            content=ft.Column(
                [
                    ft.Text(f"{bill.bill_number} · {bill.unit_code} · {bill.period}", weight=ft.FontWeight.BOLD),
                    ft.Text(
                        _("Payable {amount}").format(amount=rupees(bill.payable)), size=18, key=f"payable-{bill.id}"
                    ),
                    ft.Text(
                        _("Issued {issued} · due {due}").format(
                            issued=society_time(bill.issued_at, zone), due=day(bill.due_on)
                        ),
                        size=12,
                        key=f"issued-at-{bill.id}",
                    ),
                    ft.Text(lines, size=12),
                ]
            ),
        )

    async def _bill(self, reading_uuid: UUID, _event: ft.Event[Any] | None = None) -> None:
        try:
            bill = await self.client.create_bill(reading_uuid)
        except ApiClientError as error:
            if (page := mounted_page(self)) is not None:
                show_message(page, error.message, error=True)
            return
        if (page := mounted_page(self)) is not None:
            show_message(
                page, _("Bill {number}: {amount}").format(number=bill.bill_number, amount=rupees(bill.payable))
            )
        await self.load()
