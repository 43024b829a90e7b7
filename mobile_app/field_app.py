"""The field engineer's app: sign-in, route, capture, sync — one Flet session on top of the FieldService."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

import flet as ft

from mobile_app.device import Devices
from mobile_app.field_service import FieldService, SignInError
from mobile_app.store import ReadingRecord
from mobile_app.ui.capture_view import CaptureView
from mobile_app.ui.route import RouteView
from mobile_app.ui.sign_in import SignInView
from mobile_app.ui.sync_screen import SyncView
from shared_billing.protocol import MeterAssignment

__all__ = ["field_main"]

REFRESH_S = 1.0


class FieldApp:
    def __init__(self, page: ft.Page, service: FieldService) -> None:
        self.page = page
        self.service = service
        self.devices = Devices()  # kept for the session: Flet drops services nobody references
        self.body = ft.Container(expand=True, padding=16)
        self.nav = ft.NavigationBar(
            key="nav",
            destinations=[
                ft.NavigationBarDestination(icon=ft.Icons.LIST, label="Route"),
                ft.NavigationBarDestination(icon=ft.Icons.SYNC, label="Sync"),
            ],
            on_change=self._nav,
            visible=False,
        )
        self.current: ft.Control | None = None
        self.seen_version = -1

    def start(self) -> None:
        self.page.title = "Fieldmeter"
        self.page.navigation_bar = self.nav
        self.page.add(self.body)
        if self.service.profile() is None:
            self.show_sign_in()
        else:
            self.show_route()
        self.page.run_task(self._refresh_loop)

    # --- screens --------------------------------------------------------------------------------------------------
    def _show(self, view: ft.Control, *, nav: int | None) -> None:
        self.current = view
        self.body.content = view
        self.nav.visible = nav is not None
        if nav is not None:
            self.nav.selected_index = nav
        self.page.update()

    def show_sign_in(self, hint: str = "Field engineers sign in once; the app then works offline.") -> None:
        self.page.appbar = None
        self._show(SignInView(heading="Fieldmeter", hint=hint, sign_in=self._sign_in), nav=None)

    def show_route(self) -> None:
        profile = self.service.profile()
        self.page.appbar = ft.AppBar(
            title=ft.Text(f"Fieldmeter · {profile.username}" if profile else "Fieldmeter"),
            actions=[ft.TextButton("Sign out", key="sign_out", on_click=self._sign_out)],
        )
        self._show(RouteView(self.service, open_meter=self.show_capture), nav=0)

    def show_sync(self) -> None:
        self._show(SyncView(self.service, record_again=self._record_again), nav=1)

    def show_capture(self, meter: MeterAssignment, replaces: UUID | None = None) -> None:
        self._show(CaptureView(self.service, self.devices, meter, on_done=self.show_route, replaces=replaces), nav=None)

    # --- events ---------------------------------------------------------------------------------------------------
    async def _sign_in(self, username: str, password: str) -> str | None:
        try:
            await asyncio.to_thread(self.service.sign_in, username, password)
        except SignInError as error:
            return error.message
        self.show_route()
        return None

    def _sign_out(self, _event: ft.Event[Any]) -> None:
        # Readings stay on the phone and keep syncing once someone signs in again.
        self.service.sign_out()
        self.show_sign_in()

    def _nav(self, event: ft.Event[Any]) -> None:
        (self.show_route if self.nav.selected_index == 0 else self.show_sync)()

    def _record_again(self, record: ReadingRecord) -> None:
        meter = self.service.meter(record.reading.meter_id)
        if meter is not None:
            self.show_capture(meter, replaces=record.reading.uuid)

    async def _refresh_loop(self) -> None:
        # The sync thread changes the store; lists on screen follow it (capture forms are left alone).
        while True:
            await asyncio.sleep(REFRESH_S)
            if self.service.needs_sign_in() and not isinstance(self.current, SignInView):
                self.show_sign_in("Your session has ended: sign in again. Readings on this phone are kept.")
                continue
            if self.service.version != self.seen_version and isinstance(self.current, RouteView | SyncView):
                self.seen_version = self.service.version
                self.current.refresh()
                self.page.update()


def field_main(service: FieldService) -> Callable[[ft.Page], Awaitable[None]]:
    async def main(page: ft.Page) -> None:
        FieldApp(page, service).start()

    return main
