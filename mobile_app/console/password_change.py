"""Choosing one's own password after signing in with one an admin set (a new account, a reset): the server answers
nothing else until then (403 ``auth.password_change_required``), so the console asks before any screen."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import flet as ft

from mobile_app.api.errors import ApiClientError
from mobile_app.console.client import ConsoleClient
from mobile_app.i18n import _
from mobile_app.ui.common import push_update

__all__ = ["PasswordChangeView"]


class PasswordChangeView(ft.Column):
    def __init__(self, client: ConsoleClient, current: str, done: Callable[[], Awaitable[None]]) -> None:
        self.client = client
        self._current = current  # typed at sign-in a moment ago: not asked twice
        self._done = done
        self.new = ft.TextField(
            label=_("New password"), key="new_password", password=True, can_reveal_password=True, autofocus=True
        )
        self.again = ft.TextField(
            label=_("Type it again"), key="new_password_again", password=True, on_submit=self._submit
        )
        self.error = ft.Text("", key="new_password_error", color=ft.Colors.RED_700)
        self.button = ft.FilledButton(_("Set my password"), key="set_password", on_click=self._submit)
        super().__init__(
            controls=[
                ft.Text(_("Choose your password"), size=24, weight=ft.FontWeight.BOLD),
                ft.Text(
                    _("The office set the password you signed in with. Choose your own, at least 10 characters."),
                    color=ft.Colors.GREY_700,
                ),
                self.new,
                self.again,
                self.button,
                self.error,
            ],
            spacing=16,
            width=400,
        )

    async def _submit(self, _event: ft.Event[Any] | None = None) -> None:
        new = self.new.value or ""
        if new != (self.again.value or ""):
            self.error.value = _("The two passwords differ")
            push_update(self)
            return
        self.button.disabled = True
        push_update(self)
        try:
            await self.client.change_password(self._current, new)
        except ApiClientError as error:
            self.error.value = error.message
            self.button.disabled = False
            push_update(self)
            return
        await self._done()
