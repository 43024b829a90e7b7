"""The admin's reports: the month in charts, each with its figures as a table a click away (docs/reports.md).

Consumption over twelve months, blocks compared, the seasonal pattern, billed against collected, overdue ageing and
the engineers' quality. A month and a block narrow them; every figure comes from its ``/api/reports`` endpoint.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import flet as ft
from pydantic import BaseModel

from mobile_app.api.errors import ApiClientError
from mobile_app.console.charts import Series, bar_chart, line_chart, month_label, month_name, whole_rupees
from mobile_app.console.client import AdminClient
from mobile_app.i18n import N_, _
from mobile_app.ui.common import indian_number, push_update, rupees, title
from shared_billing.ageing import AgeBucket
from shared_billing.report_models import (
    AgeingReport,
    BlockComparison,
    CollectionReport,
    ConsumptionReport,
    EngineerReport,
    SeasonalReport,
)

__all__ = ["ReportsView", "percent_text"]

_ALL = "all"
CONSUMPTION_MONTHS = 12
BUCKET_WORDS = {
    AgeBucket.NOT_DUE: N_("Not yet due"),
    AgeBucket.DAYS_1_30: N_("1–30 days"),
    AgeBucket.DAYS_31_60: N_("31–60 days"),
    AgeBucket.DAYS_61_90: N_("61–90 days"),
    AgeBucket.OVER_90: N_("Over 90 days"),
}


def _is_month(text: str) -> bool:
    try:
        date.fromisoformat(f"{text}-01")
    except ValueError:
        return False
    return len(text) == 7


def percent_text(value: Decimal | None) -> str:
    return "—" if value is None else f"{indian_number(value)} %"


def _units(value: Decimal | None) -> str:
    return "—" if value is None else indian_number(value)


@dataclass(frozen=True)
class Figures:
    """A report as the card shows it: the chart, and the table's header and rows (text, already formatted)."""

    chart: ft.Control
    header: Sequence[str]
    rows: Sequence[Sequence[str]]


class ReportCard(ft.Container):
    """One report: its title, the chart or the table (a button switches), and its error when it cannot load."""

    def __init__(self, name: str, heading: str) -> None:
        self.name = name
        self.as_table = False
        self.figures: Figures | None = None
        self.toggle = ft.TextButton(
            _("Table"), icon=ft.Icons.TABLE_ROWS, key=f"report_{name}_toggle", on_click=self._flip
        )
        self.body = ft.Column([ft.ProgressRing(width=24, height=24)], key=f"report_{name}_body")
        super().__init__(
            key=f"report_{name}",
            padding=12,
            border=ft.Border.all(1, ft.Colors.OUTLINE_VARIANT),
            border_radius=8,
            content=ft.Column(
                [ft.Row([ft.Text(heading, weight=ft.FontWeight.BOLD, size=16, expand=True), self.toggle]), self.body]
            ),
        )

    def show(self, figures: Figures) -> None:
        self.figures = figures
        self._draw()

    def fail(self, message: str) -> None:
        self.figures = None
        self.body.controls = [ft.Text(message, color=ft.Colors.RED_700, key=f"report_{self.name}_error")]

    def _draw(self) -> None:
        if self.figures is None:
            return
        self.toggle.content = _("Chart") if self.as_table else _("Table")
        self.toggle.icon = ft.Icons.BAR_CHART if self.as_table else ft.Icons.TABLE_ROWS
        self.body.controls = [self._table(self.figures) if self.as_table else self.figures.chart]

    def _table(self, figures: Figures) -> ft.Control:
        table = ft.DataTable(
            key=f"report_{self.name}_table",
            columns=[
                ft.DataColumn(label=ft.Text(text), numeric=index > 0) for index, text in enumerate(figures.header)
            ],
            rows=[ft.DataRow(cells=[ft.DataCell(content=ft.Text(cell)) for cell in row]) for row in figures.rows],
            heading_row_height=36,
            data_row_min_height=28,
            data_row_max_height=36,
        )
        return ft.Row([table], scroll=ft.ScrollMode.AUTO)

    def _flip(self, _event: ft.Event[Any]) -> None:
        self.as_table = not self.as_table
        self._draw()
        push_update(self)


def consumption_figures(report: ConsumptionReport) -> Figures:
    labels = [month_label(period) for period in report.months]
    chart = bar_chart("report_consumption_chart", labels, [Series(_("Units"), report.totals)], indian_number)
    header = [_("Unit") if report.block_id else _("Block"), *labels, _("Total")]
    rows = [
        [row.label, *map(indian_number, row.values), indian_number(sum(row.values, Decimal(0)))] for row in report.rows
    ]
    rows.append([_("All"), *map(indian_number, report.totals), indian_number(sum(report.totals, Decimal(0)))])
    return Figures(chart, header, rows)


def block_figures(report: BlockComparison) -> Figures:
    labels = [row.block_code for row in report.rows]
    series = [
        Series(_("Per unit, {month}").format(month=month_label(report.period)), [row.average for row in report.rows]),
        Series(_("The month before"), [row.previous_average for row in report.rows]),
    ]
    header = [_("Block"), _("Units read"), _("Units used"), _("Per unit"), _("Month before"), _("Change")]
    rows = [
        [row.block_code, indian_number(row.metered_units), indian_number(row.units), _units(row.average),
         _units(row.previous_average), percent_text(row.change_percent)]
        for row in report.rows
    ]  # fmt: skip
    return Figures(bar_chart("report_blocks_chart", labels, series, indian_number), header, rows)


def seasonal_figures(report: SeasonalReport) -> Figures:
    labels = [month_name(month.month) for month in report.months]
    series = [Series(_("Units per unit"), [month.average for month in report.months])]
    header = [_("Month"), _("Units per unit"), _("Readings"), _("Years")]
    rows = [
        [label, _units(month.average), indian_number(month.unit_months), indian_number(month.years)]
        for label, month in zip(labels, report.months, strict=True)
    ]
    return Figures(line_chart("report_seasonal_chart", labels, series, indian_number), header, rows)


def collection_figures(report: CollectionReport) -> Figures:
    labels = [month_label(month.period) for month in report.months]
    series = [
        Series(_("Billed"), [month.billed for month in report.months]),
        Series(_("Collected"), [month.collected for month in report.months]),
    ]
    header = [_("Month"), _("Billed"), _("Collected"), _("Collected of billed")]
    rows = [
        [label, rupees(month.billed), rupees(month.collected), percent_text(month.collected_percent)]
        for label, month in zip(labels, report.months, strict=True)
    ]
    rows.append([_("All"), rupees(report.billed), rupees(report.collected), ""])
    return Figures(bar_chart("report_collection_chart", labels, series, whole_rupees), header, rows)


def ageing_figures(report: AgeingReport) -> Figures:
    labels = [_(BUCKET_WORDS[row.bucket]) for row in report.rows]
    series = [Series(_("Owed"), [row.amount for row in report.rows])]
    header = [_("Due for"), _("Owed"), _("Accounts")]
    rows = [
        [label, rupees(row.amount), indian_number(row.accounts)] for label, row in zip(labels, report.rows, strict=True)
    ]
    rows.append([_("All"), rupees(report.total), indian_number(report.accounts)])
    return Figures(bar_chart("report_ageing_chart", labels, series, whole_rupees), header, rows)


def engineer_figures(report: EngineerReport) -> Figures:
    labels = [row.name for row in report.rows]
    series = [
        Series(_("Skipped"), [row.skip_percent for row in report.rows]),
        Series(_("Zero"), [row.zero_percent for row in report.rows]),
        Series(_("Rejected"), [row.rejected_percent for row in report.rows]),
        Series(_("At the expected value"), [row.at_expected_percent for row in report.rows]),
    ]
    header = [_("Engineer"), _("Readings"), _("Skipped"), _("Zero"), _("Rejected"), _("At the expected value"),
              _("Minutes per meter")]  # fmt: skip
    rows = [
        [row.name, indian_number(row.readings), percent_text(row.skip_percent), percent_text(row.zero_percent),
         percent_text(row.rejected_percent), percent_text(row.at_expected_percent), _units(row.minutes_per_meter)]
        for row in report.rows
    ]  # fmt: skip
    return Figures(bar_chart("report_engineers_chart", labels, series, percent_text), header, rows)


Shaper = Callable[[Any], Figures]


class ReportsView(ft.Column):
    def __init__(self, client: AdminClient) -> None:
        self.client = client
        self.period = ft.TextField(label=_("Month (YYYY-MM)"), key="reports_period", width=170, dense=True)
        self.block = ft.Dropdown(
            label=_("Block"),
            tooltip=_("Block"),
            key="reports_block",
            width=200,
            value=_ALL,
            options=[ft.DropdownOption(key=_ALL, text=_("All blocks"))],
        )
        self.cards = {
            "consumption": ReportCard("consumption", _("Units used, twelve months")),
            "blocks": ReportCard("blocks", _("Blocks compared")),
            "seasonal": ReportCard("seasonal", _("Seasonal pattern")),
            "collection": ReportCard("collection", _("Billed and collected")),
            "ageing": ReportCard("ageing", _("What is owed, by age")),
            "engineers": ReportCard("engineers", _("Engineers")),
        }
        super().__init__(
            expand=True,
            controls=[
                title(_("Reports")),
                ft.Row(
                    [self.period, self.block, ft.FilledButton(_("Show"), key="reports_show", on_click=self._show)],
                    wrap=True,
                ),
                ft.ResponsiveRow(
                    [ft.Container(card, col={"md": 12, "lg": 6}) for card in self.cards.values()], spacing=12
                ),
            ],
        )

    async def load(self) -> None:
        try:
            if not self.period.value:
                self.period.value = (await self.client.society_time()).period
            blocks = await self.client.blocks()
        except ApiClientError as error:
            self.period.error = error.message
            push_update(self)
            return
        self.block.options = [ft.DropdownOption(key=_ALL, text=_("All blocks"))] + [
            ft.DropdownOption(key=str(block.id), text=block.code) for block in blocks
        ]
        await self._fill()

    async def _show(self, _event: ft.Event[Any]) -> None:
        await self._fill()

    async def _fill(self) -> None:
        period = (self.period.value or "").strip() or None
        if period is not None and not _is_month(period):
            self.period.error = _("Write the month as YYYY-MM, or leave it empty")
            push_update(self)
            return
        block_id = None if self.block.value in (None, _ALL) else int(self.block.value)
        requests: list[tuple[str, type[BaseModel], Shaper, dict[str, str | int | None]]] = [
            ("consumption", ConsumptionReport, consumption_figures,
             {"until": period, "months": CONSUMPTION_MONTHS, "block_id": block_id}),
            ("blocks", BlockComparison, block_figures, {"period": period}),
            ("seasonal", SeasonalReport, seasonal_figures, {"until": period, "block_id": block_id}),
            ("collection", CollectionReport, collection_figures,
             {"until": period, "months": CONSUMPTION_MONTHS, "block_id": block_id}),
            ("ageing", AgeingReport, ageing_figures, {"block_id": block_id}),
            ("engineers", EngineerReport, engineer_figures, {"period": period}),
        ]  # fmt: skip
        self.period.error = None
        for name, kind, shape, params in requests:
            card = self.cards[name]
            try:
                card.show(shape(await self.client.report(kind, name, **params)))
            except ApiClientError as error:
                card.fail(error.message)
            push_update(card)
        push_update(self)
