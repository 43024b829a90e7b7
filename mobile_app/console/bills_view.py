"""Bills per block with their status; PDFs; payments (accountant) and marking many bills paid at once."""

from __future__ import annotations

from datetime import tzinfo
from decimal import Decimal, InvalidOperation
from functools import partial
from typing import Any

import flet as ft

from mobile_app.api.errors import ApiClientError
from mobile_app.console.charts import Series, bar_chart, month_label
from mobile_app.console.client import BillingClient
from mobile_app.i18n import _
from mobile_app.ui.common import (
    day,
    indian_number,
    mounted_page,
    push_update,
    rupees,
    show_message,
    society_time,
    title,
)
from shared_billing.api_models import BillMonthUnits, BillOut, ExportRequest
from shared_billing.protocol import BillStatus, ExportFile, PaymentMode

__all__ = ["BillsView"]

STATUS_COLORS = {
    BillStatus.DRAFT: ft.Colors.GREY_600,
    BillStatus.ISSUED: ft.Colors.BLUE_700,
    BillStatus.PARTLY_PAID: ft.Colors.AMBER_800,
    BillStatus.PAID: ft.Colors.GREEN_700,
    BillStatus.OVERDUE: ft.Colors.RED_700,
}
MODES = (PaymentMode.UPI, PaymentMode.CASH, PaymentMode.CHEQUE, PaymentMode.BANK)  # the dropdown's order
# Bills that take no payment: not issued yet, or settled.
_NOT_PAYABLE = frozenset({BillStatus.DRAFT, BillStatus.PAID})
_USAGE_CHART_HEIGHT = 120  # small: the chart opens inside the list, under its bill's row


class BillsView(ft.Column):
    def __init__(self, client: BillingClient, *, can_record_payments: bool) -> None:
        self.client = client
        self.can_pay = can_record_payments
        self.block = ft.Dropdown(label=_("Block"), key="bills_block", width=220, on_select=self._refresh)
        # Filled in by load() with the society's current month from the server, never this process's clock.
        self.period = ft.TextField(
            label=_("Month (YYYY-MM)"), key="bills_period", width=180, value="", on_submit=self._refresh
        )
        self._default_period = ""
        self.zone: tzinfo | None = None  # the society's, from the server; times are shown in it
        self.summary = ft.Row(key="bills_summary", wrap=True)
        self.list = ft.Column(spacing=8)
        self.selected: set[int] = set()
        self.usage: dict[int, ft.Column] = {}  # each bill row's slot for its usage history, empty until asked
        self.launcher = ft.UrlLauncher()  # kept: Flet drops services nobody references
        actions: list[ft.Control] = [
            ft.OutlinedButton(_("Show"), key="bills_show", on_click=self._refresh),
            ft.OutlinedButton(_("Block PDF"), icon=ft.Icons.PICTURE_AS_PDF, key="block_pdf", on_click=self._block_pdf),
        ]
        if can_record_payments:
            actions.append(ft.FilledButton(_("Mark selected paid"), key="mark_paid", on_click=self._mark_paid))
        self.export_file = ft.Dropdown(
            label=_("Export"),
            tooltip=_("Export"),
            key="export_file",
            width=200,
            value=ExportFile.BILLS_XLSX.value,
            options=[ft.DropdownOption(key=file.value, text=file.value) for file in ExportFile],
        )
        self.export_all = ft.Checkbox(label=_("All blocks"), key="export_all", value=True)
        exports = ft.Row(
            [
                self.export_file,
                self.export_all,
                ft.OutlinedButton(_("Download"), icon=ft.Icons.DOWNLOAD, key="export_download", on_click=self._export),
            ],
            wrap=True,
        )
        super().__init__(
            spacing=12,
            controls=[
                title(_("Bills")),
                ft.Row([self.block, self.period, *actions], wrap=True),
                exports,
                self.summary,
                self.list,
            ],
        )

    async def load(self) -> None:
        try:
            blocks = await self.client.blocks()
            society = await self.client.society_time()
        except ApiClientError as error:
            self.list.controls = [ft.Text(error.message, color=ft.Colors.RED_700)]
            push_update(self)
            return
        self.zone = society.zone
        # Follow the month as it turns (a console stays open for days) unless someone typed another one.
        if (self.period.value or "") in ("", self._default_period):
            self.period.value = self._default_period = society.period
        self.block.options = [ft.DropdownOption(key=str(b.id), text=f"{b.code} · {b.name}") for b in blocks]
        if blocks and self.block.value is None:
            self.block.value = str(blocks[0].id)
        await self._refresh()

    async def _refresh(self, _event: ft.Event[Any] | None = None) -> None:
        if not self.block.value:
            return
        try:
            bills = await self.client.find_bills(block_id=int(self.block.value), period=self.period.value or None)
        except ApiClientError as error:
            self.list.controls = [ft.Text(error.message, color=ft.Colors.RED_700)]
            push_update(self)
            return
        self.selected &= {b.id for b in bills}
        self.usage = {b.id: ft.Column(key=f"usage-box-{b.id}", spacing=4) for b in bills}
        counts: dict[BillStatus, int] = {}
        for bill in bills:
            counts[bill.status] = counts.get(bill.status, 0) + 1
        # A bar per status, as wide as its share: the month's collection at a glance.
        self.summary.controls = [
            ft.Container(
                content=ft.Text(f"{status.replace('_', ' ')} {count}", color=ft.Colors.WHITE, size=12),
                bgcolor=STATUS_COLORS.get(status),
                padding=ft.Padding.symmetric(horizontal=8, vertical=4),
                width=max(90, 600 * count // max(len(bills), 1)),
                key=f"summary-{status}",
            )
            for status, count in sorted(counts.items())
        ] or [ft.Text(_("No bills for this block and month"), key="no_bills")]
        self.list.controls = [ft.Column([self._row(bill), self.usage[bill.id]], spacing=4) for bill in bills]
        push_update(self)

    def _row(self, bill: BillOut) -> ft.Control:
        bill_id = bill.id
        status = bill.status
        parts: list[ft.Control] = []
        if self.can_pay and status not in _NOT_PAYABLE:
            parts.append(
                ft.Checkbox(
                    key=f"select-{bill_id}", value=bill_id in self.selected, on_change=partial(self._toggle, bill_id)
                )
            )
        parts += [
            self._heading(bill),
            ft.Text(rupees(bill.payable), width=120, key=f"payable-{bill_id}"),
            ft.Text(status.replace("_", " "), color=STATUS_COLORS.get(status), width=100, key=f"status-{bill_id}"),
        ]
        if status != BillStatus.DRAFT:
            parts.append(ft.TextButton(_("PDF"), key=f"pdf-{bill_id}", on_click=partial(self._open_pdf, bill_id)))
        parts.append(
            ft.TextButton(
                _("Usage"),
                icon=ft.Icons.BAR_CHART,
                tooltip=_("Units billed, last six months"),
                key=f"usage-{bill_id}",
                on_click=partial(self._toggle_usage, bill_id),
            )
        )
        if self.can_pay and status not in _NOT_PAYABLE:
            amount = ft.TextField(label=_("Amount ₹"), key=f"amount-{bill_id}", width=130)
            mode = ft.Dropdown(
                key=f"mode-{bill_id}",
                width=120,
                value=PaymentMode.UPI,
                options=[ft.DropdownOption(key=m, text=m.upper()) for m in MODES],
            )
            parts += [
                amount,
                mode,
                ft.OutlinedButton(
                    _("Record payment"), key=f"pay-{bill_id}", on_click=partial(self._pay, bill, amount, mode)
                ),
            ]
        return ft.Row(parts, key=f"bills-row-{bill_id}", vertical_alignment=ft.CrossAxisAlignment.CENTER)

    def _heading(self, bill: BillOut) -> ft.Control:
        """Number and unit; under them when and until when (the society's calendar), within the same width."""
        lines: list[ft.Control] = [
            ft.Text(f"{bill.bill_number or 'draft'} · {bill.unit_code}", weight=ft.FontWeight.BOLD)
        ]
        if bill.issued_at is not None and self.zone is not None:
            lines.append(
                ft.Text(
                    _("issued {issued} · due {due}").format(
                        issued=society_time(bill.issued_at, self.zone), due=day(bill.due_on)
                    ),
                    size=12,
                    key=f"issued-at-{bill.id}",
                )
            )
        return ft.Column(lines, spacing=2, width=260)

    async def _toggle_usage(self, bill_id: int, _event: ft.Event[Any]) -> None:
        """Open (asking the server) or close the bill's usage history under its row."""
        slot = self.usage.get(bill_id)
        if slot is None:
            return
        if slot.controls:
            slot.controls = []
            push_update(self)
            return
        try:
            history = (await self.client.bill(bill_id)).history or []
        except ApiClientError as error:
            self._complain(error)
            return
        slot.controls = [_usage(bill_id, history)]
        push_update(self)

    def _toggle(self, bill_id: int, event: ft.Event[Any]) -> None:
        if event.control.value:
            self.selected.add(bill_id)
        else:
            self.selected.discard(bill_id)

    async def _open_pdf(self, bill_id: int, _event: ft.Event[Any]) -> None:
        # A short-lived signed link: the browser opens it in a new tab without our bearer token.
        try:
            url = await self.client.pdf_link(bill_id)
        except ApiClientError as error:
            self._complain(error)
            return
        await self.launcher.launch_url(url, web_only_window_name="_blank")

    async def _block_pdf(self, _event: ft.Event[Any]) -> None:
        if self.block.value and self.period.value:
            try:
                url = await self.client.block_pdf_link(int(self.block.value), self.period.value)
            except ApiClientError as error:
                self._complain(error)
                return
            await self.launcher.launch_url(url, web_only_window_name="_blank")

    async def _export(self, _event: ft.Event[Any]) -> None:
        """The month's export file (this block's, or the society's), through a short-lived signed link."""
        block_id = None if self.export_all.value or not self.block.value else int(self.block.value)
        try:
            request = ExportRequest(
                file=ExportFile(self.export_file.value or ExportFile.BILLS_XLSX),
                period=(self.period.value or "").strip() or self._default_period,
                block_id=block_id,
            )
        except ValueError:
            self.period.error = _("Write the month as YYYY-MM, or leave it empty")
            push_update(self)
            return
        self.period.error = None
        try:
            url = await self.client.export_link(request)
        except ApiClientError as error:
            self._complain(error)
            return
        await self.launcher.launch_url(url, web_only_window_name="_blank")

    def _complain(self, error: ApiClientError) -> None:
        if (page := mounted_page(self)) is not None:
            show_message(page, error.message, error=True)

    async def _pay(self, bill: BillOut, amount: ft.TextField, mode: ft.Dropdown, _event: ft.Event[Any]) -> None:
        try:
            paying = Decimal((amount.value or "").strip())
        except InvalidOperation:
            amount.error = _("Enter the amount in rupees, e.g. 1250.50")
            push_update(self)
            return
        try:
            # Paid today in the society's calendar (late fees count its days), asked now: the tab may be days old.
            today = (await self.client.society_time()).today
            paid = await self.client.record_payment(
                unit_id=bill.unit_id,
                bill_id=bill.id,
                amount=paying,
                paid_on=today,
                mode=PaymentMode(mode.value or PaymentMode.UPI),
            )
        except ApiClientError as error:
            amount.error = error.message
            push_update(self)
            return
        if (page := mounted_page(self)) is not None:
            show_message(page, _("Payment recorded; balance {amount}").format(amount=rupees(paid.balance)))
        await self._refresh()

    async def _mark_paid(self, _event: ft.Event[Any]) -> None:
        if not self.selected:
            return
        try:
            today = (await self.client.society_time()).today
            result = await self.client.mark_paid(sorted(self.selected), today, PaymentMode.BANK)
        except ApiClientError as error:
            self._complain(error)
            return
        self.selected.clear()
        if (page := mounted_page(self)) is not None:
            show_message(page, _("Marked {count} paid").format(count=len(result.paid)))
        await self._refresh()


def _usage(bill_id: int, history: list[BillMonthUnits]) -> ft.Control:
    """A bill's six months as small bars, and the same figures in a row under them (a month without a bill says
    so rather than showing a zero)."""
    labels = [month_label(month.period) for month in history]
    series = Series(_("Units"), [month.units for month in history])
    chart = bar_chart(f"usage-chart-{bill_id}", labels, [series], indian_number, height=_USAGE_CHART_HEIGHT)
    figures = ft.Row(
        [
            ft.Column(
                [
                    ft.Text(label, size=11),
                    ft.Text(
                        _("no bill") if month.units is None else indian_number(month.units),
                        size=12,
                        key=f"usage-units-{bill_id}-{month.period}",
                    ),
                ],
                spacing=0,
                width=64,
            )
            for label, month in zip(labels, history, strict=True)
        ],
        key=f"usage-months-{bill_id}",
    )
    heading = ft.Text(_("Units billed, last six months"), size=12, weight=ft.FontWeight.BOLD)
    return ft.Container(
        ft.Column([heading, chart, figures], spacing=6),
        width=440,
        padding=ft.Padding.only(left=24, bottom=8),
    )
