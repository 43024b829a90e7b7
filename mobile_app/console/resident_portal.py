"""A resident's portal (docs/residents.md): their unit's balance, twelve months of billed units as bars, their
issued bills with each one's PDF, and their payments. Every figure is the server's, asked through the ``/api/me``
routes, which answer for the resident's own unit only; the console computes nothing of its own.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import flet as ft

from mobile_app.api.errors import ApiClientError
from mobile_app.console.bills_view import STATUS_COLORS
from mobile_app.console.charts import Series, bar_chart, month_label
from mobile_app.console.client import ConsoleClient
from mobile_app.console.paged_list import PagedList
from mobile_app.i18n import _
from mobile_app.ui.common import day, indian_number, mounted_page, push_update, rupees, show_message, title
from shared_billing.api_models import BillMonthUnits, BillOut, ResidentAccount, ResidentPayment

__all__ = ["CHART_MONTHS", "ResidentPortal"]

CHART_MONTHS = 12
_CARD_BORDER = ft.Colors.OUTLINE_VARIANT


def _card(key: str, heading: str, body: ft.Control) -> ft.Container:
    return ft.Container(
        key=key,
        padding=12,
        border=ft.Border.all(1, _CARD_BORDER),
        border_radius=8,
        content=ft.Column([ft.Text(heading, weight=ft.FontWeight.BOLD, size=16), body], spacing=8),
    )


class ResidentPortal(ft.Column):
    def __init__(self, client: ConsoleClient) -> None:
        self.client = client
        self.launcher = ft.UrlLauncher()  # kept: Flet drops services nobody references
        self.heading = title(_("My account"))
        self.balance = ft.Column([ft.ProgressRing(width=24, height=24)], key="resident_balance", spacing=4)
        self.usage = ft.Column([ft.ProgressRing(width=24, height=24)], key="resident_usage", spacing=4)
        self.bills = PagedList(
            "my_bills", client.my_bill_page, self._bill_row, hint=_("Search bills"), empty=_("No bills yet")
        )
        self.payments = PagedList(
            "my_payments",
            client.my_payment_page,
            _payment_row,
            hint=_("Search payments"),
            empty=_("No payments yet"),
        )
        super().__init__(
            spacing=16,
            scroll=ft.ScrollMode.AUTO,
            expand=True,
            controls=[
                self.heading,
                ft.Row(
                    [
                        _card("resident_balance_card", _("Balance"), self.balance),
                        _card("resident_usage_card", _("Units billed, last 12 months"), self.usage),
                    ],
                    wrap=True,
                    vertical_alignment=ft.CrossAxisAlignment.START,
                ),
                _card("resident_bills_card", _("Bills"), self.bills),
                _card("resident_payments_card", _("Payments"), self.payments),
            ],
        )

    async def load(self) -> None:
        try:
            account = await self.client.my_account()
            consumption = await self.client.my_consumption(CHART_MONTHS)
        except ApiClientError as error:
            self.balance.controls = [ft.Text(error.message, color=ft.Colors.RED_700, key="resident_error")]
            self.usage.controls = []
            push_update(self)
            return
        self.heading.value = _("My account · {unit}").format(unit=account.unit_code)
        self.balance.controls = _balance(account)
        self.usage.controls = [_usage(consumption.months)]
        push_update(self)
        await self.bills.load()
        await self.payments.load()

    def _bill_row(self, bill: BillOut) -> ft.Control:
        return ft.Row(
            [
                ft.Text(f"{bill.bill_number} · {month_label(bill.period)}", weight=ft.FontWeight.BOLD, width=220),
                ft.Text(rupees(bill.payable), width=120, key=f"my-payable-{bill.id}"),
                ft.Text(_("due {due}").format(due=day(bill.due_on)), width=150),
                ft.Text(
                    bill.status.replace("_", " "),
                    color=STATUS_COLORS.get(bill.status),
                    width=100,
                    key=f"my-status-{bill.id}",
                ),
                ft.TextButton(
                    _("PDF"),
                    icon=ft.Icons.PICTURE_AS_PDF,
                    key=f"my-pdf-{bill.id}",
                    on_click=partial(self._open_pdf, bill.id),
                ),
            ],
            key=f"my-bill-{bill.id}",
            vertical_alignment=ft.CrossAxisAlignment.CENTER,
        )

    async def _open_pdf(self, bill_id: int, _event: ft.Event[Any]) -> None:
        # A short-lived signed link: the browser opens it in a new tab without the bearer token.
        try:
            url = await self.client.my_bill_pdf_link(bill_id)
        except ApiClientError as error:
            if (page := mounted_page(self)) is not None:
                show_message(page, error.message, error=True)
            return
        await self.launcher.launch_url(url, web_only_window_name="_blank")


def _balance(account: ResidentAccount) -> list[ft.Control]:
    """What the unit owes (or its credit) in large figures, and whether a bill is overdue."""
    if account.balance > 0:
        words = _("You owe {amount}").format(amount=rupees(account.balance))
    elif account.balance < 0:
        words = _("Credit {amount}").format(amount=rupees(-account.balance))
    else:
        words = _("Nothing owed")
    overdue = (
        ft.Text(
            _("Overdue since {day}").format(day=day(account.overdue_since)),
            color=ft.Colors.RED_700,
            key="resident_overdue",
        )
        if account.overdue
        else ft.Text(_("Nothing overdue"), color=ft.Colors.GREEN_800, key="resident_overdue")
    )
    return [
        ft.Text(words, size=24, weight=ft.FontWeight.BOLD, key="resident_balance_amount"),
        overdue,
        ft.Text(f"{account.unit_code} · {account.block_code}", color=ft.Colors.GREY_700),
    ]


def _usage(months: list[BillMonthUnits]) -> ft.Control:
    """The months as bars (a month without a bill draws none and says so in its tooltip)."""
    labels = [month_label(month.period) for month in months]
    series = Series(_("Units"), [month.units for month in months])
    chart = bar_chart("resident_usage_chart", labels, [series], indian_number)
    return ft.Container(chart, width=640)


def _payment_row(payment: ResidentPayment) -> ft.Control:
    towards = payment.bill_number or _("the account")
    return ft.Row(
        [
            ft.Text(day(payment.paid_on), width=120),
            ft.Text(rupees(payment.amount), width=120, weight=ft.FontWeight.BOLD, key=f"my-paid-{payment.id}"),
            ft.Text(payment.mode.upper(), width=80),
            ft.Text(_("towards {what}").format(what=towards), width=220),
            ft.Text(payment.reference or "", color=ft.Colors.GREY_700),
        ],
        key=f"my-payment-{payment.id}",
    )
