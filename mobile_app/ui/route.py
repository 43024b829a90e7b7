"""The engineer's route: assigned meters from the last pull, searchable, with what was read this month."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import flet as ft

from mobile_app.field_service import FieldService
from mobile_app.ui.common import local_time, plural, title
from shared_billing.protocol import MeterAssignment

__all__ = ["RouteView"]


class RouteView(ft.Column):
    def __init__(self, service: FieldService, *, open_meter: Callable[[MeterAssignment], None]) -> None:
        self.service = service
        self.open_meter = open_meter
        self.search = ft.TextField(
            label="Search unit or meter number", key="search", prefix_icon=ft.Icons.SEARCH, on_change=self._search
        )
        self.summary = ft.Text("", key="route_summary")
        self.list = ft.ListView(expand=True, spacing=4)
        super().__init__(controls=[title("Route"), self.search, self.summary, self.list], expand=True)
        self.refresh()

    def _search(self, _event: ft.Event[Any]) -> None:
        self.refresh()

    def _read_this_month(self) -> set[int]:
        now = self.service.clock().astimezone()
        return {
            record.reading.meter_id
            for record in self.service.readings()
            if (at := record.reading.captured_at.astimezone()).year == now.year and at.month == now.month
        }

    def refresh(self) -> None:
        meters = self.service.meters(self.search.value or None)
        done = self._read_this_month()
        self.summary.value = (
            f"{plural(len(meters), 'meter')} · {len(done & {m.meter_id for m in meters})} read this month"
        )
        self.list.controls = [self._tile(meter, meter.meter_id in done) for meter in meters]
        if not meters:
            self.list.controls = [ft.Text("No meters yet: sync when online to fetch your route.", key="no_meters")]

    def _tile(self, meter: MeterAssignment, read: bool) -> ft.ListTile:
        previous = (
            f"Previous {meter.previous.value} on {local_time(meter.previous.captured_at)}"
            if meter.previous
            else "No previous reading"
        )
        return ft.ListTile(
            key=f"meter-{meter.meter_id}",
            leading=ft.Icon(
                ft.Icons.CHECK_CIRCLE if read else ft.Icons.ELECTRIC_METER, color=ft.Colors.GREEN_700 if read else None
            ),
            title=ft.Text(f"{meter.unit_code or meter.meter_number} · meter {meter.meter_number}"),
            subtitle=ft.Text(previous),
            on_click=lambda _e, m=meter: self.open_meter(m),
        )
