"""One meter before it is read: the supervisor's re-read reason, the last reads, usual use and today's window.

All of it comes with the pull (``MeterAssignment.history``, ``usage``), so it works offline. The window is the
shared rule's (``FieldService.window``), the same the server judges the reading by; without history there is none,
and the screen says so rather than inventing one.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import flet as ft

from mobile_app.field_service import FieldService
from mobile_app.i18n import _
from mobile_app.route_model import RereadTask, RouteRow
from mobile_app.ui import theme
from mobile_app.ui.common import day, local_time, title
from mobile_app.ui.route import state_words
from shared_billing.protocol import MeterAssignment

__all__ = ["MeterDetailView", "reread_banner", "window_line"]

OpenCapture = Callable[[RouteRow], None]


def window_line(service: FieldService, meter: MeterAssignment) -> str:
    """Today's expected register values in words, or plainly that there is no history to expect anything from."""
    window = service.window(meter)
    if window is None:
        return _("No history yet: no expected range")
    return _("Expected today: {low} to {high}").format(low=window.low, high=window.high)


def reread_banner(task: RereadTask, key: str) -> ft.Control:
    """The supervisor's reason and due date, at the top of the detail and capture screens of a re-read task."""
    lines: list[ft.Control] = [
        ft.Text(_("Re-read requested"), size=18, weight=ft.FontWeight.BOLD, color=theme.ERROR),
        ft.Text(
            _("Supervisor's reason: {reason}").format(reason=task.reason or _("no reason given")),
            key=f"{key}_reason",
            size=theme.BODY_PX,
            color=theme.TEXT,
        ),
        ft.Text(
            _("Due {date}").format(date=day(task.due_on)) if task.due_on else _("No due date"),
            key=f"{key}_due",
            size=theme.BODY_PX,
            color=theme.TEXT,
        ),
        ft.Text(_("The new reading replaces the earlier one."), size=theme.BODY_PX, color=theme.MUTED),
    ]
    return ft.Container(
        key=key,
        bgcolor=theme.WARNING_SURFACE,
        border_radius=8,
        padding=12,
        content=ft.Column(lines, spacing=4, tight=True),
    )


def _daily_use(meter: MeterAssignment) -> str | None:
    if meter.usage is None:
        return None
    # Units a day as billed: register units × the multiplying factor, to one place (an average, not a reading).
    units = (Decimal(meter.usage.daily_use) * Decimal(meter.multiplier)).quantize(Decimal("0.1"))
    return _("Average daily use: {units} units").format(units=units)


class MeterDetailView(ft.Column):
    def __init__(self, service: FieldService, row: RouteRow, *, read: OpenCapture, back: Callable[[], None]) -> None:
        self.row = row
        meter = row.meter
        name = meter.unit_code or _("Meter")
        top: list[ft.Control] = [title(_("{unit} · {number}").format(unit=name, number=meter.meter_number))]
        if row.reread is not None:
            top.append(reread_banner(row.reread, "detail_reread"))
        if row.value is not None or row.skip_reason is not None:
            what = row.value if row.value is not None else _("skipped")
            top.append(
                ft.Text(
                    _("This period: {value} ({state})").format(value=what, state=state_words(row)),
                    key="detail_period",
                    size=theme.BODY_PX,
                )
            )
        top.append(ft.Text(window_line(service, meter), key="detail_window", size=18, weight=ft.FontWeight.W_600))
        daily = _daily_use(meter)
        if daily is not None:
            top.append(ft.Text(daily, key="detail_daily_use", size=theme.BODY_PX))
        top.append(ft.Text(_("Last reads"), size=18, weight=ft.FontWeight.BOLD))
        if meter.history:
            top.extend(
                ft.Text(
                    _("{date}: {value}").format(date=local_time(past.captured_at), value=past.value),
                    key=f"history-{index}",
                    size=theme.BODY_PX,
                )
                for index, past in enumerate(meter.history[:6])
            )
        else:
            top.append(ft.Text(_("No approved reads yet."), key="history_none", size=theme.BODY_PX, color=theme.MUTED))
        super().__init__(
            expand=True,
            spacing=8,
            controls=[
                ft.Column(top, spacing=8, expand=True, scroll=ft.ScrollMode.AUTO),
                ft.Row(
                    [
                        theme.touch(
                            ft.FilledButton(
                                _("Read meter"),
                                icon=ft.Icons.EDIT,
                                key="read_meter",
                                height=56,
                                expand=True,
                                tooltip=_("Record this meter's reading"),
                                on_click=self._read,
                            )
                        ),
                        theme.touch(ft.TextButton(_("Back"), key="detail_back", on_click=lambda _e: back())),
                    ]
                ),
            ],
        )
        self._open = read

    def _read(self, _event: ft.Event[Any]) -> None:
        self._open(self.row)
