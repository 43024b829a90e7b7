"""Sign-in, shared by the field app and the browser console (each passes its own way to sign in)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import flet as ft

from mobile_app.i18n import _
from mobile_app.ui.common import push_update

__all__ = ["SignInView"]

SignIn = Callable[[str, str], Awaitable[str | None]]  # returns an error message, or None when signed in


class SignInView(ft.Column):
    def __init__(self, *, heading: str, sign_in: SignIn, hint: str = "") -> None:
        self._sign_in = sign_in
        self.username = ft.TextField(label=_("Username"), key="username", autofocus=True, on_submit=self._submit)
        self.password = ft.TextField(
            label=_("Password"), key="password", password=True, can_reveal_password=True, on_submit=self._submit
        )
        self.error = ft.Text("", key="sign_in_error", color=ft.Colors.RED_700)
        self.button = ft.FilledButton(_("Sign in"), key="sign_in", on_click=self._submit)
        super().__init__(
            controls=[
                ft.Text(heading, size=24, weight=ft.FontWeight.BOLD),
                ft.Text(hint, color=ft.Colors.GREY_700) if hint else ft.Container(),
                self.username,
                self.password,
                self.button,
                self.error,
            ],
            spacing=16,
            width=360,
        )

    async def _submit(self, _event: ft.Event[Any] | None = None) -> None:
        if not (self.username.value or "").strip() or not self.password.value:
            self.error.value = _("Enter your username and password")
            return
        self.button.disabled = True
        self.error.value = _("Signing in…")
        self.update()
        try:
            failure = await self._sign_in(self.username.value or "", self.password.value or "")
        finally:
            self.button.disabled = False
        self.error.value = failure or ""
        push_update(self)
