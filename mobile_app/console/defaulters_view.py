"""Defaulters, for the admin and the accountant (docs/reports.md "Money in"): per block, a stacked bar of what its
accounts owe past their due day in each age bucket, and below it the accounts themselves, the longest overdue first,
each opening the unit's payment plans (``payment_plans_view``).

Every figure is the server's ``GET /api/reports/defaulters``. The block narrows the report on the server; the bucket
narrows the list here (the report has no such filter, and it comes whole, not a page at a time).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from functools import partial
from typing import Any

import flet as ft

from mobile_app.api.errors import ApiClientError
from mobile_app.console.charts import Series, stacked_bar_chart, whole_rupees
from mobile_app.console.client import BillingClient
from mobile_app.console.forms import Notice, chosen, filter_dropdown
from mobile_app.console.paged_list import PagedList
from mobile_app.console.payment_plans_view import STANDING_COLOURS, STANDING_WORDS, PaymentPlansView
from mobile_app.console.reports_view import BUCKET_WORDS
from mobile_app.i18n import _, ngettext
from mobile_app.ui.common import indian_number, push_update, rupees, title
from shared_billing.ageing import AgeBucket
from shared_billing.api_models import Page
from shared_billing.report_models import DefaulterRow, DefaultersReport

__all__ = ["OVERDUE_BUCKETS", "DefaultersView", "block_buckets"]

# The buckets past the due day, youngest first: the chart's stack from the bottom up.
OVERDUE_BUCKETS = (AgeBucket.DAYS_1_30, AgeBucket.DAYS_31_60, AgeBucket.DAYS_61_90, AgeBucket.OVER_90)


def block_buckets(rows: Sequence[DefaulterRow], blocks: Sequence[str]) -> dict[str, dict[AgeBucket, Decimal]]:
    """What each block's defaulters owe per overdue bucket (every block given, with zeros where nobody owes)."""
    sums = {block: dict.fromkeys(OVERDUE_BUCKETS, Decimal(0)) for block in blocks}
    for row in rows:
        block = sums.setdefault(row.block_code, dict.fromkeys(OVERDUE_BUCKETS, Decimal(0)))
        for bucket in OVERDUE_BUCKETS:
            block[bucket] += row.owed.get(bucket, Decimal(0))
    return sums


class DefaultersView(ft.Column):
    """The chart and the list; a row's *Payment plans* puts the unit's plans in their place until *Back*."""

    def __init__(self, client: BillingClient) -> None:
        self.client = client
        self.report: DefaultersReport | None = None
        self.block_codes: list[str] = []
        self.block = filter_dropdown("defaulters_block", _("Block"), _("All blocks"), {}, self._change_block)
        self.bucket = filter_dropdown(
            "defaulters_bucket",
            _("Longest overdue"),
            _("Any age"),
            {bucket.value: BUCKET_WORDS[bucket] for bucket in OVERDUE_BUCKETS},
            self._change_bucket,
        )
        self.notice = Notice("defaulters_notice")
        self.summary = ft.Text("", key="defaulters_summary", weight=ft.FontWeight.BOLD)
        self.chart = ft.Container(key="defaulters_chart_area")
        self.accounts = PagedList(
            "defaulters", self._page, self._row, hint=_("Unit or consumer"), empty=_("Nobody owes past the due day")
        )
        self.overview = ft.Column(
            [
                ft.Row([self.block, self.bucket, self.notice], wrap=True),
                self.summary,
                self.chart,
                ft.Divider(),
                self.accounts,
            ],
            spacing=12,
        )
        self.area = ft.Container(content=self.overview)
        super().__init__(expand=True, controls=[title(_("Defaulters")), self.area])

    async def load(self) -> None:
        """The overview again (also after another section): the blocks for the filter, then the report."""
        self.area.content = self.overview
        try:
            blocks = await self.client.blocks()
        except ApiClientError as error:
            self.notice.say(error.message, error=True)
            return
        self.block_codes = [block.code for block in blocks]
        every = self.block.options[:1]  # "All blocks", as filter_dropdown made it
        self.block.options = every + [ft.DropdownOption(key=str(block.id), text=block.code) for block in blocks]
        await self._fetch()

    async def _fetch(self) -> None:
        block = chosen(self.block)
        block_id = None if block is None else int(block)
        try:
            self.report = await self.client.defaulters(block_id)
        except ApiClientError as error:
            self.report = None
            self.notice.say(error.message, error=True)
            self.summary.value, self.chart.content = "", None
            self.accounts.items.controls, self.accounts.range.value = [], ""
            push_update(self)
            return
        self.notice.value = ""
        code_shown = self._block_text()
        shown = [code for code in self.block_codes if block_id is None or code == code_shown]
        self._draw(self.report, shown)
        self.accounts.start = 0
        await self.accounts.load()

    def _block_text(self) -> str | None:
        return next((option.text for option in self.block.options if option.key == self.block.value), None)

    def _draw(self, report: DefaultersReport, blocks: list[str]) -> None:
        self.summary.value = ngettext(
            "{count} account owes {amount} past the due day", "{count} accounts owe {amount} past the due day",
            len(report.rows),
        ).format(count=indian_number(len(report.rows)), amount=rupees(report.overdue))  # fmt: skip
        sums = block_buckets(report.rows, blocks)
        labels = list(sums)
        series = [
            Series(_(BUCKET_WORDS[bucket]), [sums[block][bucket] for block in labels]) for bucket in OVERDUE_BUCKETS
        ]
        self.chart.content = stacked_bar_chart("defaulters_chart", labels, series, rupees, axis_formatter=whole_rupees)
        push_update(self)

    def _rows(self, q: str | None) -> list[DefaulterRow]:
        rows = self.report.rows if self.report is not None else []
        bucket = chosen(self.bucket)
        if bucket is not None:
            rows = [row for row in rows if row.oldest == bucket]
        if q:
            needle = q.casefold()
            rows = [row for row in rows if needle in f"{row.unit_code} {row.consumer_name or ''}".casefold()]
        return rows

    async def _page(self, q: str | None, limit: int, offset: int) -> Page[DefaulterRow]:
        rows = self._rows(q)
        return Page[DefaulterRow](items=rows[offset : offset + limit], total=len(rows), limit=limit, offset=offset)

    async def _change_block(self, _event: ft.Event[Any] | None = None) -> None:
        await self._fetch()

    async def _change_bucket(self, _event: ft.Event[Any] | None = None) -> None:
        self.accounts.start = 0
        await self.accounts.load()

    def _row(self, row: DefaulterRow) -> ft.Control:
        unit = row.unit_id
        older = [
            f"{_(BUCKET_WORDS[bucket])} {rupees(row.owed[bucket])}"
            for bucket in reversed(OVERDUE_BUCKETS)
            if bucket in row.owed
        ]
        return ft.Container(
            key=f"defaulter-{unit}",
            padding=8,
            border=ft.Border.all(1, ft.Colors.OUTLINE_VARIANT),
            border_radius=8,
            content=ft.Row(
                [
                    ft.Column(
                        [
                            ft.Text(
                                " · ".join((row.unit_code, row.consumer_name or "—")),
                                key=f"defaulter-unit-{unit}",
                                weight=ft.FontWeight.BOLD,
                            ),
                            ft.Text(" · ".join(older), key=f"defaulter-buckets-{unit}", size=12),
                            *self._plan(row),
                        ],
                        spacing=2,
                        expand=True,
                    ),
                    ft.Text(
                        _("Owes {amount}").format(amount=rupees(row.overdue)), key=f"defaulter-owed-{unit}", width=170
                    ),
                    ft.Text(
                        _("Oldest: {age}").format(age=_(BUCKET_WORDS[row.oldest])),
                        key=f"defaulter-oldest-{unit}",
                        width=170,
                        color=ft.Colors.RED_700 if row.oldest == AgeBucket.OVER_90 else None,
                    ),
                    ft.OutlinedButton(
                        _("Payment plans"), key=f"plans-open-{unit}", on_click=partial(self._open_plans, row)
                    ),
                ],
                wrap=True,
            ),
        )

    @staticmethod
    def _plan(row: DefaulterRow) -> list[ft.Control]:
        """An account keeping to a plan is still listed (it owes), marked so that nobody chases it."""
        if row.plan is None:
            return []
        words = _("Payment plan: {standing}").format(standing=_(STANDING_WORDS[row.plan]))
        return [ft.Text(words, key=f"defaulter-plan-{row.unit_id}", size=12, color=STANDING_COLOURS[row.plan])]

    async def _open_plans(self, row: DefaulterRow, _event: ft.Event[Any] | None = None) -> None:
        plans = PaymentPlansView(self.client, row, back=self._back)
        self.area.content = plans
        push_update(self)
        await plans.load()

    async def _back(self) -> None:
        """The overview, its figures fetched again: a plan changes no amount owed, but a payment meanwhile may."""
        self.area.content = self.overview
        push_update(self)
        await self._fetch()
