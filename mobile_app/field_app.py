"""The field engineer's app: sign-in, route, meter detail, capture, sync — one Flet session on the FieldService.

The route view is built once per signed-in session and kept: returning from a meter re-shows it as it was
(filter, search, scroll), and it redraws only when the service's data changed (docs/field-app.md).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

import flet as ft

from mobile_app.capture import CaptureDraft
from mobile_app.device import Devices
from mobile_app.field_service import FieldService, SignInError
from mobile_app.i18n import DEFAULT_LANGUAGE, LANGUAGES, _, ngettext, set_default_language
from mobile_app.route_model import RereadTask, RouteRow
from mobile_app.store import ReadingRecord, get_state, set_state
from mobile_app.ui import theme
from mobile_app.ui.capture_view import CaptureView
from mobile_app.ui.common import show_message
from mobile_app.ui.fonts import register_fonts
from mobile_app.ui.languages import language_of, set_language
from mobile_app.ui.meter_detail import MeterDetailView
from mobile_app.ui.meter_room import MeterRoomView
from mobile_app.ui.route import RouteView
from mobile_app.ui.sign_in import SignInView
from mobile_app.ui.sync_screen import SyncView
from mobile_app.ui.token_storage import page_token_store
from shared_billing.protocol import MeterAssignment

__all__ = ["FieldApp", "field_main"]

log = logging.getLogger(__name__)
REFRESH_S = 1.0
LANGUAGE_KEY = "field.language"  # one person per phone: the choice is the phone's (docs/languages.md)


class FieldApp:
    def __init__(self, page: ft.Page, service: FieldService) -> None:
        self.page = page
        self.service = service
        self.devices = Devices()  # kept for the session: Flet drops services nobody references
        stored = get_state(store=service.store, key=LANGUAGE_KEY)
        self._use_language(stored if stored in LANGUAGES else DEFAULT_LANGUAGE)  # before any text is made
        self.screens = ft.Column(expand=True, spacing=0)
        self.body = ft.Container(expand=True, padding=16, content=self.screens)
        self.nav = ft.NavigationBar(
            key="nav",
            destinations=[
                ft.NavigationBarDestination(icon=ft.Icons.LIST, label=_("Route")),
                ft.NavigationBarDestination(icon=ft.Icons.SYNC, label=_("Sync")),
            ],
            on_change=self._nav,
            visible=False,
        )
        self.current: ft.Control | None = None
        self.route_view: RouteView | None = None  # one per signed-in session, see the module docstring
        self.dialog: ft.AlertDialog | None = None
        # Shown when the server no longer accepts this phone's session: the route and saving go on meanwhile.
        self.sign_in_again = theme.touch(
            ft.TextButton(
                _("Sign in"),
                key="sign_in_again",
                tooltip=_("Your session has ended: sign in again to upload. Readings on this phone are kept."),
                on_click=lambda _e: self.show_sign_in(
                    _("Your session has ended: sign in again. Readings on this phone are kept.")
                ),
                visible=False,
            )
        )

    def start(self) -> None:
        self.page.title = "Fieldmeter"
        self.page.theme = theme.app_theme()
        self.page.theme_mode = ft.ThemeMode.LIGHT  # the contrast is measured against the light surfaces
        register_fonts(self.page)  # after the theme: Hindi and Punjabi drawn from the bundled fonts
        self.page.navigation_bar = self.nav
        self.page.add(self.body)
        if self.service.profile() is None:
            self.show_sign_in()
        else:
            self.show_route()
        self.page.run_task(self._use_device_keystore)
        self.page.run_task(self._refresh_loop)

    # --- screens --------------------------------------------------------------------------------------------------
    def _show(self, view: ft.Control, *, nav: int | None, footer: ft.Control | None = None) -> None:
        self.current = view
        shown = view if footer is None else ft.Column([view, footer], expand=True, spacing=16)
        # The kept route stays in the page, hidden, while another screen shows: coming back flips its visibility
        # instead of sending all its rows again (a 2,000-meter route is tens of KB per return otherwise).
        kept = self.route_view
        if kept is not None and view is kept:
            kept.visible = True
            self.screens.controls = [kept]
        else:
            if kept is not None:
                kept.visible = False
            self.screens.controls = [c for c in (kept, shown) if c is not None]
        self.nav.visible = nav is not None
        if nav is not None:
            self.nav.selected_index = nav
        self.page.update()

    def show_sign_in(self, hint: str | None = None) -> None:
        self.page.appbar = None
        self.route_view = None  # the next engineer's route is theirs, not a leftover
        text = hint if hint is not None else _("Field engineers sign in once; the app then works offline.")
        footer: ft.Control = self._language_row()
        if self.service.profile() is not None:
            # Signing in again after the session ended: still signed in on the phone, so the route is one tap away
            # (out of reach, the engineer keeps reading and signs in later).
            back = theme.touch(ft.TextButton(_("Back to the route"), key="back_to_route", on_click=self._back))
            footer = ft.Column([back, footer], spacing=8)
        self._show(SignInView(heading="Fieldmeter", hint=text, sign_in=self._sign_in), nav=None, footer=footer)

    def _back(self, _event: ft.Event[Any]) -> None:
        self.show_route()

    def show_route(self) -> None:
        profile = self.service.profile()
        self.page.appbar = ft.AppBar(
            title=ft.Text(
                _("Fieldmeter · {name}").format(name=profile.username) if profile else "Fieldmeter",
                size=theme.TITLE_PX,
            ),
            actions=[
                self.sign_in_again,
                theme.touch(
                    ft.TextButton(
                        _("Sign out"), key="sign_out", tooltip=_("Sign out of this phone"), on_click=self._sign_out
                    )
                ),
            ],
        )
        self.sign_in_again.visible = self.service.needs_sign_in()
        if self.route_view is None:
            self.route_view = RouteView(self.service, open_meter=self.show_detail, meter_room=self.show_meter_room)
        else:
            self.route_view.tick()  # only what changed meanwhile; nothing when nothing did
        self._show(self.route_view, nav=0)

    def show_sync(self) -> None:
        self._show(SyncView(self.service, record_again=self._record_again, footer=self._language_row()), nav=1)

    def show_detail(self, row: RouteRow) -> None:
        fresh = self.service.route_row(row.meter.meter_id) or row
        self._show(MeterDetailView(self.service, fresh, read=self._read, back=self.show_route), nav=None)

    def _read(self, row: RouteRow) -> None:
        self.show_capture(row.meter, task=row.reread)

    def show_capture(
        self,
        meter: MeterAssignment,
        replaces: UUID | None = None,
        task: RereadTask | None = None,
        carried: CaptureDraft | None = None,
    ) -> None:
        view = CaptureView(
            self.service,
            self.devices,
            meter,
            on_done=self.show_route,
            replaces=replaces,
            task=task,
            on_switch=self._switch_meter,
            carried=carried,
        )
        self._show(view, nav=None)

    def _switch_meter(self, meter: MeterAssignment, carried: CaptureDraft) -> None:
        """The label named another meter of the route: read that one, with what was already done."""
        row = self.service.route_row(meter.meter_id)
        self.show_capture(meter, task=row.reread if row is not None else None, carried=carried)

    def show_meter_room(self) -> None:
        self._show(MeterRoomView(self.service, self.devices, on_done=self._room_done), nav=None)

    def _room_done(self, message: str | None) -> None:
        self.show_route()
        if message:
            show_message(self.page, message)

    # --- language -------------------------------------------------------------------------------------------------
    def _use_language(self, code: str) -> None:
        set_language(self.page, code)
        # The sync thread's words (its status, its problems) have no session to ask: the phone's default follows.
        set_default_language(code)

    def _language_row(self) -> ft.Row:
        """One button per language, each named in its own script: whoever cannot read the current one finds theirs."""
        current = language_of(self.page)
        return ft.Row(
            [
                theme.touch(
                    ft.TextButton(
                        name,
                        key=f"language-{code}",
                        tooltip=_("Language"),
                        disabled=code == current,
                        on_click=lambda _e, c=code: self._change_language(c),
                    )
                )
                for code, name in LANGUAGES.items()
            ],
            key="language",
            wrap=True,
        )

    def _change_language(self, code: str) -> None:
        self._use_language(code)
        set_state(store=self.service.store, key=LANGUAGE_KEY, value=code)
        # Views are built in the language of their making: build this screen (and the kept route) again.
        self.route_view = None
        route, sync = self.nav.destinations
        route.label, sync.label = _("Route"), _("Sync")
        if isinstance(self.current, SignInView):
            self.show_sign_in()
        else:
            self.show_sync()

    # --- events ---------------------------------------------------------------------------------------------------
    async def _sign_in(self, username: str, password: str) -> str | None:
        try:
            await asyncio.to_thread(self.service.sign_in, username, password)
        except SignInError as error:
            return error.message
        self.show_route()
        return None

    def _sign_out(self, _event: ft.Event[Any]) -> None:
        waiting = self.service.status().waiting
        if waiting == 0:
            self._signed_out()
            return
        profile = self.service.profile()
        name = profile.username if profile else ""
        dialog = ft.AlertDialog(
            modal=True,
            title=ft.Text(_("Sign out with readings waiting?")),
            content=ft.Text(
                ngettext(
                    "{count} reading has not uploaded yet. It stays on this phone, nothing is deleted, and it"
                    " uploads when {name} signs in again.",
                    "{count} readings have not uploaded yet. They stay on this phone, nothing is deleted, and they"
                    " upload when {name} signs in again.",
                    waiting,
                ).format(count=waiting, name=name),
                key="sign_out_warning",
                size=theme.BODY_PX,
            ),
            actions=[
                theme.touch(ft.TextButton(_("Stay signed in"), key="cancel_sign_out", on_click=self._close_dialog)),
                theme.touch(ft.FilledButton(_("Sign out"), key="confirm_sign_out", on_click=self._confirm_sign_out)),
            ],
        )
        self.dialog = dialog
        self.page.show_dialog(dialog)

    def _close_dialog(self, _event: ft.Event[Any] | None = None) -> None:
        # Closed by itself, not ``pop_dialog``: that pops the newest dialog, which may be the "Saved" snack bar.
        if self.dialog is not None:
            self.dialog.open = False
            self.dialog = None

    def _confirm_sign_out(self, _event: ft.Event[Any]) -> None:
        self._close_dialog()
        self._signed_out()

    def _signed_out(self) -> None:
        # Readings stay on the phone; they upload once this engineer signs in again.
        self.service.sign_out()
        self.show_sign_in()

    def _nav(self, event: ft.Event[Any]) -> None:
        (self.show_route if self.nav.selected_index == 0 else self.show_sync)()

    def _record_again(self, record: ReadingRecord) -> None:
        meter = self.service.meter(record.reading.meter_id)
        if meter is None:
            return
        row = self.service.route_row(meter.meter_id)
        task = row.reread if row is not None and row.reread is not None else None
        if task is not None and task.reading_uuid != record.reading.uuid:
            task = None
        self.show_capture(meter, replaces=record.reading.uuid, task=task)

    async def _use_device_keystore(self) -> None:
        # On a phone the tokens live in the platform keystore; in browser mode the phone store keeps them.
        try:
            tokens = await page_token_store(self.page, self.service.store)
        except Exception:  # a keystore that fails (locked, reset): the tokens stay where they were, still usable
            log.warning("device keystore unavailable; tokens stay in the phone store", exc_info=True)
            return
        if tokens is not None:
            self.service.use_tokens(tokens)

    async def _refresh_loop(self) -> None:
        # The sync thread changes the store; lists on screen follow it (capture forms are left alone). A tick that
        # finds nothing changed sends nothing: the idle route costs no bytes.
        # An ended session never takes the screen away: the engineer keeps reading (saved on the phone) and the
        # app bar offers "Sign in" until they do.
        while True:
            await asyncio.sleep(REFRESH_S)
            expired = self.service.needs_sign_in() and self.page.appbar is not None
            if expired != self.sign_in_again.visible:
                self.sign_in_again.visible = expired
                self.page.update()
            if isinstance(self.current, RouteView | SyncView) and self.current.tick():
                self.current.update()


def field_main(service: FieldService) -> Callable[[ft.Page], Awaitable[None]]:
    async def main(page: ft.Page) -> None:
        FieldApp(page, service).start()

    return main
