"""Meter-room mode: one location for a room of meters, pick them, then read each in turn (docs/field-app.md).

The session, its order and its progress are ``mobile_app.meter_room``'s; each meter is read on the ordinary capture
screen in room mode (the room's fix, "Save & next"), so every rule of a single reading holds here too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import flet as ft

from mobile_app.capture import Fix, distance_warning
from mobile_app.device import DeviceError, Devices
from mobile_app.field_service import FieldService
from mobile_app.i18n import _, ngettext
from mobile_app.meter_room import MeterRoom, RoomOutcome, block_rows, room_blocks, to_read
from mobile_app.route_model import RouteRow
from mobile_app.ui import theme
from mobile_app.ui.capture_view import CaptureView
from mobile_app.ui.common import push_update, title
from shared_billing.protocol import ReadingV3

__all__ = ["MeterRoomView"]


class MeterRoomView(ft.Column):
    def __init__(self, service: FieldService, devices: Devices, *, on_done: Callable[[str | None], None]) -> None:
        self.service = service
        self.devices = devices
        self.on_done = on_done
        self.fix: Fix | None = None
        self.room: MeterRoom | None = None
        self.rows = service.route().rows
        blocks = room_blocks(self.rows)
        first = next((row.meter.block_code for row in self.rows if to_read(row)), blocks[0] if blocks else None)
        self.gps = ft.Text(_("No location for the room yet"), key="room_gps", size=theme.BODY_PX)
        self.gps_warning = ft.Text("", key="room_gps_warning", size=theme.BODY_PX, color=theme.WARNING)
        self.block = ft.Dropdown(
            label=_("Block"),
            key="room_block",
            value=first,
            options=[ft.DropdownOption(key=block, text=block) for block in blocks],
            on_select=self._block,
            width=320,
            text_size=theme.BODY_PX,
        )
        self.picks = ft.Column(spacing=0, key="room_meters")
        self.start = theme.touch(
            ft.FilledButton("", key="room_start", icon=ft.Icons.PLAY_ARROW, expand=True, on_click=self._start)
        )
        self.boxes: dict[int, tuple[RouteRow, ft.Checkbox]] = {}
        self.setup = ft.Column(
            expand=True,
            scroll=ft.ScrollMode.AUTO,
            spacing=12,
            controls=[
                title(_("Meter room")),
                ft.Text(
                    _("Take the room's location once, tick the meters in the room, then read them one by one."),
                    size=theme.BODY_PX,
                ),
                ft.Row(
                    [
                        theme.touch(
                            ft.OutlinedButton(
                                _("Get the room's location"),
                                icon=ft.Icons.MY_LOCATION,
                                key="room_locate",
                                on_click=self._locate,
                            )
                        ),
                        self.gps,
                    ],
                    wrap=True,
                ),
                self.gps_warning,
                self.block,
                self.picks,
            ],
        )
        bar = ft.Row(
            [
                self.start,
                theme.touch(ft.TextButton(_("Cancel"), key="room_cancel", on_click=lambda _e: self.on_done(None))),
            ]
        )
        self._fill(first)
        super().__init__(expand=True, spacing=8, controls=[self.setup, bar])

    # --- picking the room's meters ----------------------------------------------------------------------------------
    def _fill(self, block: str | None) -> None:
        self.boxes = {
            row.meter.meter_id: (
                row,
                ft.Checkbox(
                    label=_("{unit} · meter {number}").format(
                        unit=row.meter.unit_code or row.meter.meter_number, number=row.meter.meter_number
                    ),
                    key=f"room_pick-{row.meter.meter_id}",
                    value=to_read(row),
                    on_change=self._picked,
                    height=theme.MIN_TARGET_PX,
                    label_style=ft.TextStyle(size=theme.BODY_PX),
                ),
            )
            for row in (block_rows(self.rows, block) if block is not None else [])
        }
        self.picks.controls = [box for _row, box in self.boxes.values()]
        self._picked(None)

    def _block(self, _event: ft.Event[Any]) -> None:
        self._fill(self.block.value)

    def _picked(self, _event: ft.Event[Any] | None) -> None:
        count = len(self._chosen())
        self.start.content = ngettext("Start: {count} meter", "Start: {count} meters", count).format(count=count)
        self.start.disabled = count == 0

    def _chosen(self) -> list[RouteRow]:
        return [row for row, box in self.boxes.values() if box.value]

    async def _locate(self, _event: ft.Event[Any]) -> None:
        self.gps.value = _("Locating…")
        self.update()
        try:
            self.fix = await self.devices.locate()
        except DeviceError as error:
            self.fix = None
            self.gps.value = _("No GPS fix")
            self.gps_warning.value = error.message
            push_update(self)
            return
        accuracy = (
            _("±{metres} m").format(metres=f"{self.fix.accuracy_m:.0f}")
            if self.fix.accuracy_m is not None
            else _("accuracy unknown")
        )
        self.gps.value = f"{self.fix.lat:.5f}, {self.fix.lon:.5f} ({accuracy})"
        chosen = self._chosen()
        # Against the first meter picked: the room is one place, and a far fix is a warning, never a block.
        self.gps_warning.value = (
            distance_warning(chosen[0].meter, self.fix, self.service.check_limits()) or "" if chosen else ""
        )
        push_update(self)

    # --- reading them ------------------------------------------------------------------------------------------------
    def _start(self, _event: ft.Event[Any]) -> None:
        chosen = self._chosen()
        if not chosen:
            return
        self.room = MeterRoom.start(chosen, self.fix)
        self._next()

    def _next(self) -> None:
        room = self.room
        assert room is not None
        row = room.current
        if row is None:
            self.on_done(self._summary(room))
            return
        saved: list[ReadingV3] = []
        view = CaptureView(
            self.service,
            self.devices,
            row.meter,
            on_done=lambda: self._after(saved),
            task=row.reread,
            room=room.step(),
            on_saved=saved.append,
        )
        finish = theme.touch(
            ft.TextButton(
                _("Finish the room"),
                key="room_finish",
                icon=ft.Icons.DONE_ALL,
                tooltip=_("Back to the route; the meters not reached stay to read"),
                on_click=self._finish,
            )
        )
        self.controls = [ft.Row([finish], alignment=ft.MainAxisAlignment.END), view]
        push_update(self)

    def _after(self, saved: list[ReadingV3]) -> None:
        assert self.room is not None
        self.room.done(saved[0] if saved else None)
        self._next()

    def _finish(self, _event: ft.Event[Any]) -> None:
        assert self.room is not None
        self.room.finish()
        self.on_done(self._summary(self.room))

    @staticmethod
    def _summary(room: MeterRoom) -> str:
        return _("Meter room: {read} read, {skipped} skipped, {later} left to read").format(
            read=room.count(RoomOutcome.READ),
            skipped=room.count(RoomOutcome.SKIPPED),
            later=room.count(RoomOutcome.PASSED),
        )
