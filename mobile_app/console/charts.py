"""Charts for the console's reports (flet-charts): bars in groups or stacked, and lines over a shared axis, each
with a legend, tooltips in the console's number formats and a left axis that ends on a round number.

A chart takes its figures as ``Decimal``; flet-charts draws with floats, which is fine for a picture: the exact
figures are in the report's table and its tooltips.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import flet as ft
import flet_charts as fch
from babel.dates import format_date

from mobile_app.i18n import current_date_locale
from mobile_app.ui.common import indian_number

__all__ = [
    "Series",
    "bar_chart",
    "legend",
    "line_chart",
    "month_label",
    "month_name",
    "round_top",
    "stacked_bar_chart",
    "whole_rupees",
]

CHART_HEIGHT = 260
PALETTE = (ft.Colors.INDIGO_400, ft.Colors.TEAL_400, ft.Colors.AMBER_700, ft.Colors.RED_400, ft.Colors.PURPLE_300)


@dataclass(frozen=True)
class Series:
    """One set of bars (or one line): its name in the legend and a value per label, None where there is none."""

    name: str
    values: Sequence[Decimal | None]


Formatter = Callable[[Decimal], str]


def month_label(period: str) -> str:
    """A period as the axis writes it: "Nov 25" in the session's language."""
    return format_date(date.fromisoformat(f"{period}-01"), "MMM yy", locale=current_date_locale())


def month_name(month: int) -> str:
    """A calendar month's short name in the session's language: "Nov"."""
    return format_date(date(2000, month, 1), "MMM", locale=current_date_locale())


def round_top(highest: Decimal) -> Decimal:
    """The axis' top: the next 1, 2 or 5 × 10ⁿ at or above ``highest`` (1 for nothing to show)."""
    if highest <= 0:
        return Decimal(1)
    scale = Decimal(10) ** (len(str(int(highest))) - 1)
    for step in (1, 2, 5, 10):
        if highest <= step * scale:
            return step * scale
    return 10 * scale


def _highest(series: Sequence[Series]) -> Decimal:
    return max((value for s in series for value in s.values if value is not None), default=Decimal(0))


def _axes(labels: Sequence[str], top: Decimal, formatter: Formatter) -> dict[str, fch.ChartAxis]:
    ticks = [top * step / 4 for step in range(5)]
    return {
        "left_axis": fch.ChartAxis(
            label_size=72,
            label_spacing=float(top / 4),
            labels=[fch.ChartAxisLabel(value=float(tick), label=ft.Text(formatter(tick), size=11)) for tick in ticks],
        ),
        "bottom_axis": fch.ChartAxis(
            label_size=28,
            labels=[
                fch.ChartAxisLabel(value=index, label=ft.Text(label, size=11)) for index, label in enumerate(labels)
            ],
        ),
    }


def whole_rupees(value: Decimal) -> str:
    """An axis' money: whole rupees, Indian grouping ("₹20,000")."""
    return "₹" + indian_number(value.quantize(Decimal(1)))


def legend(series: Sequence[Series]) -> ft.Row:
    return ft.Row(
        [
            ft.Row([ft.Container(width=12, height=12, bgcolor=PALETTE[index % len(PALETTE)]), ft.Text(s.name)])
            for index, s in enumerate(series)
        ],
        wrap=True,
    )


def bar_chart(
    key: str,
    labels: Sequence[str],
    series: Sequence[Series],
    formatter: Formatter,
    *,
    height: float = CHART_HEIGHT,
) -> ft.Control:
    """A group of bars per label, one bar per series; a missing value draws no bar and its tooltip a dash.
    ``height`` is smaller where the chart sits inside a row of a list (a bill's usage) rather than on its own."""
    top = round_top(_highest(series))
    width = max(4, min(22, 320 // max(1, len(labels) * len(series))))
    groups = [
        fch.BarChartGroup(
            x=index,
            rods=[
                fch.BarChartRod(
                    from_y=0,
                    to_y=float(s.values[index] or 0),
                    width=width,
                    color=PALETTE[number % len(PALETTE)],
                    border_radius=2,
                    tooltip=f"{s.name}: {_shown(s.values[index], formatter)}",
                )
                for number, s in enumerate(series)
            ],
        )
        for index in range(len(labels))
    ]
    chart = fch.BarChart(
        key=key,
        groups=groups,
        max_y=float(top),
        min_y=0,
        height=height,
        horizontal_grid_lines=fch.ChartGridLines(interval=float(top / 4), color=ft.Colors.GREY_300, width=1),
        **_axes(labels, top, formatter),
    )
    return ft.Column([chart, legend(series)]) if len(series) > 1 else chart


def _shown(value: Decimal | None, formatter: Formatter) -> str:
    # A month without a figure is not a month of zero: "0" would tell the reader something that did not happen.
    return "—" if value is None else formatter(value)


def line_chart(key: str, labels: Sequence[str], series: Sequence[Series], formatter: Formatter) -> ft.Control:
    """A line per series across the labels; a missing value leaves a gap in the points."""
    top = round_top(_highest(series))
    lines = [
        fch.LineChartData(
            points=[
                fch.LineChartDataPoint(
                    x=index, y=float(value), tooltip=f"{labels[index]} · {s.name}: {formatter(value)}"
                )
                for index, value in enumerate(s.values)
                if value is not None
            ],
            color=PALETTE[number % len(PALETTE)],
            stroke_width=3,
            curved=True,
            prevent_curve_over_shooting=True,
            point=True,
        )
        for number, s in enumerate(series)
    ]
    chart = fch.LineChart(
        key=key,
        data_series=lines,
        min_x=0,
        max_x=max(0, len(labels) - 1),
        min_y=0,
        max_y=float(top),
        height=CHART_HEIGHT,
        horizontal_grid_lines=fch.ChartGridLines(interval=float(top / 4), color=ft.Colors.GREY_300, width=1),
        **_axes(labels, top, formatter),
    )
    return ft.Column([chart, legend(series)]) if len(series) > 1 else chart


def stacked_bar_chart(
    key: str,
    labels: Sequence[str],
    series: Sequence[Series],
    formatter: Formatter,
    *,
    axis_formatter: Formatter | None = None,
) -> ft.Control:
    """One bar per label, the series stacked in it from the bottom up, with the legend; the tooltip names the
    label's total and each part in ``formatter``, the left axis its round figures in ``axis_formatter``."""
    totals = [sum((s.values[index] or Decimal(0) for s in series), Decimal(0)) for index in range(len(labels))]
    top = round_top(max(totals, default=Decimal(0)))
    width = max(8, min(40, 480 // max(1, len(labels))))
    groups = []
    for index, label in enumerate(labels):
        items, bottom = [], Decimal(0)
        for number, s in enumerate(series):
            value = s.values[index] or Decimal(0)
            if value:
                items.append(
                    fch.BarChartRodStackItem(
                        from_y=float(bottom), to_y=float(bottom + value), color=PALETTE[number % len(PALETTE)]
                    )
                )
            bottom += value
        parts = [f"{s.name}: {formatter(s.values[index] or Decimal(0))}" for s in series if s.values[index]]
        groups.append(
            fch.BarChartGroup(
                x=index,
                rods=[
                    fch.BarChartRod(
                        from_y=0,
                        to_y=float(totals[index]),
                        width=width,
                        stack_items=items,
                        border_radius=2,
                        tooltip="\n".join([f"{label}: {formatter(totals[index])}", *parts]),
                    )
                ],
            )
        )
    chart = fch.BarChart(
        key=key,
        groups=groups,
        max_y=float(top),
        min_y=0,
        height=CHART_HEIGHT,
        horizontal_grid_lines=fch.ChartGridLines(interval=float(top / 4), color=ft.Colors.GREY_300, width=1),
        **_axes(labels, top, axis_formatter or formatter),
    )
    return ft.Column([chart, legend(series)])
