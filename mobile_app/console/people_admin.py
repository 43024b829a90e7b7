"""The admin's people: the society's users with their role, and switching an account off and on again (every
session of a deactivated user ends at once), new accounts and temporary passwords (changed at the next sign-in).
A resident's account names their unit by its code (docs/residents.md). Each change of an account carries the reason
typed above the list: it is audited."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

import flet as ft

from mobile_app.api.errors import ApiClientError
from mobile_app.console.client import AdminClient
from mobile_app.console.forms import Form, Notice
from mobile_app.console.paged_list import PagedList
from mobile_app.i18n import _
from mobile_app.ui.common import push_update, title
from shared_billing.api_models import AccountRole, PasswordReset, UserIn, UserOut
from shared_billing.protocol import Role

__all__ = ["PeopleView"]


ROLES: dict[str, AccountRole] = {
    r.value: r for r in (Role.ENGINEER, Role.SUPERVISOR, Role.ADMIN, Role.ACCOUNTANT, Role.RESIDENT)
}


class PeopleView(ft.Column):
    def __init__(self, client: AdminClient) -> None:
        self.client = client
        self.notice = Notice()
        role = ft.Dropdown(
            label=_("Role"),
            key="user_role",
            width=180,
            value=Role.ENGINEER.value,
            options=[ft.DropdownOption(key=key, text=key) for key in ROLES],
        )
        self.unit = ft.TextField(label=_("Unit code (residents only)"), key="user_unit", width=220)
        self.form = Form(
            "user",
            {
                "username": ft.TextField(label=_("Username"), key="user_username", width=200),
                "full_name": ft.TextField(label=_("Full name"), key="user_full_name", width=260),
                "role": role,
                # The unit by its code, as the office knows it; the server gets its id (``unit_id``).
                "unit_id": self.unit,
                "password": ft.TextField(
                    label=_("Temporary password"),
                    key="user_password",
                    width=220,
                    password=True,
                    can_reveal_password=True,
                ),
            },
            save_label=_("Create account"),
        )
        self.form.on_save(self._create)
        self.reason = ft.TextField(label=_("Reason (audited)"), key="people_reason", width=420)
        self.temporary = ft.TextField(
            label=_("New temporary password"), key="people_new_password", width=260, password=True
        )
        self.list = PagedList("users", client.user_page, self._row, hint=_("Search people"), empty=_("No users yet"))
        super().__init__(
            spacing=12,
            controls=[
                title(_("People")),
                self.notice,
                ft.Text(
                    _("New account (the password must be changed at the first sign-in)"), weight=ft.FontWeight.BOLD
                ),
                self.form,
                ft.Text(_("Accounts"), weight=ft.FontWeight.BOLD),
                ft.Row([self.reason, self.temporary], wrap=True),
                self.list,
            ],
        )

    async def load(self) -> None:
        await self.list.load()

    def _row(self, user: UserOut) -> ft.Control:
        state = _("active") if user.active else _("deactivated")
        action, label = (
            (self.client.deactivate_user, _("Deactivate"))
            if user.active
            else (self.client.reactivate_user, _("Reactivate"))
        )
        return ft.Row(
            [
                ft.Text(
                    " · ".join(
                        part
                        for part in (user.username, user.full_name, user.role, user.unit_code, state)
                        if part is not None
                    ),
                    key=f"user-{user.id}",
                ),
                ft.OutlinedButton(_("Reset password"), key=f"reset-{user.id}", on_click=partial(self._reset, user)),
                ft.OutlinedButton(
                    label, key=f"{label.lower()}-{user.id}", on_click=partial(self._switch, action, user)
                ),
            ],
            key=f"userrow-{user.id}",
        )

    async def _unit_id(self, code: str | None) -> int | None:
        """The id of the unit whose code is exactly ``code``; None (the server then says a resident needs one)
        when nothing is typed. A code that names no unit is said beside the field."""
        if code is None:
            return None
        try:
            page = await self.client.unit_page(code, 20, 0)
        except ApiClientError as error:
            self.form.show_error(error)
            push_update(self)
            return None
        found = next((unit.id for unit in page.items if unit.code.casefold() == code.casefold()), None)
        if found is None:
            self.unit.error = _("No unit has this code")
            push_update(self)
        return found

    async def _create(self, _event: ft.Event[Any]) -> None:
        self.form.clear_errors()
        code = self.form.text("unit_id")
        unit_id = await self._unit_id(code)
        if code is not None and unit_id is None:
            return
        request = UserIn.model_construct(
            username=self.form.text("username") or "",
            full_name=self.form.text("full_name") or "",
            role=ROLES[self.form.text("role") or Role.ENGINEER.value],
            password=self.form.fields["password"].value or "",
            unit_id=unit_id,
        )
        created = await self.form.submit(lambda: self.client.create_user(request))
        if created is None:
            return
        for name in ("username", "full_name", "password", "unit_id"):
            self.form.fields[name].value = ""
        self.form.notice.say(
            _("Account {username} created ({role})").format(username=created.username, role=created.role)
        )
        await self.list.load()

    def _reason(self) -> str | None:
        reason = (self.reason.value or "").strip()
        self.reason.error = None if reason else _("Say why: the change is audited")
        push_update(self)
        return reason or None

    async def _switch(
        self, action: Callable[[int, str], Awaitable[UserOut]], user: UserOut, _event: ft.Event[Any] | None = None
    ) -> None:
        if (reason := self._reason()) is None:
            return
        try:
            changed = await action(user.id, reason)
        except ApiClientError as error:
            self._tell(error.message, error=True)
            return
        self._tell(f"{changed.username} is {'active' if changed.active else 'deactivated'}")
        await self.list.load()

    async def _reset(self, user: UserOut, _event: ft.Event[Any] | None = None) -> None:
        if (reason := self._reason()) is None:
            return
        password = self.temporary.value or ""
        try:
            await self.client.reset_password(user.id, PasswordReset.model_construct(password=password, reason=reason))
        except ApiClientError as error:
            self.temporary.error = error.message
            push_update(self)
            return
        self.temporary.value = ""
        self.temporary.error = None
        self._tell(f"{user.username} signs in with the temporary password and must change it")
        push_update(self)

    def _tell(self, text: str, *, error: bool = False) -> None:
        self.notice.say(text, error=error)
