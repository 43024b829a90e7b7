"""Browser mode: the same app, served by the sync server at ``/`` for supervisors and admins.

Sign-in picks the views by role. Each browser tab is a session with its own signed-in client, which refreshes its
tokens by itself (a tab stays open all day); when the server refuses the refresh, the tab shows sign-in again.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any, TypeAlias

import flet as ft
import httpx

from mobile_app.api.errors import ApiClientError, AuthExpired
from mobile_app.console.admin import AdminView
from mobile_app.console.audit_view import AuditView
from mobile_app.console.bill_runs import BillRunView
from mobile_app.console.bills_view import BillsView
from mobile_app.console.client import AdminClient
from mobile_app.console.defaulters_view import DefaultersView
from mobile_app.console.deliveries_view import DeliveriesView
from mobile_app.console.escalation_view import EscalationView
from mobile_app.console.imports_admin import ImportsView
from mobile_app.console.meters_admin import MetersView
from mobile_app.console.password_change import PasswordChangeView
from mobile_app.console.people_admin import PeopleView
from mobile_app.console.premises_admin import PremisesView
from mobile_app.console.reconciliation import ReconciliationView
from mobile_app.console.reports_view import ReportsView
from mobile_app.console.resident_portal import ResidentPortal
from mobile_app.console.review import ReviewView
from mobile_app.console.routes_admin import RoutesView
from mobile_app.console.schedules_admin import SchedulesView
from mobile_app.console.tariffs_admin import TariffsView
from mobile_app.i18n import LANGUAGES, _
from mobile_app.ui.common import push_update
from mobile_app.ui.fonts import register_fonts
from mobile_app.ui.languages import language_of, set_language
from mobile_app.ui.sign_in import SignInView
from shared_billing.protocol import Role

__all__ = ["LANGUAGE_KEY", "console_main"]

LANGUAGE_KEY = "fieldmeter.console.language"  # the browser's SharedPreferences (its local storage)

HttpFactory = Callable[[], httpx.AsyncClient]
# Given the browser's address (Flet's ``page.client_ip``, the websocket's peer), a client whose requests carry it as
# their ASGI client address: sign-ins from the console are throttled per browser, not all as the server itself.
# The address travels in the in-process transport, not in a header, so nobody can forge it from outside.
ClientHttpFactory = Callable[[str], httpx.AsyncClient]


class ConsoleApp:
    def __init__(self, page: ft.Page, client: AdminClient) -> None:
        self.page = page
        self.client = client
        client.on_session_expired = self._session_expired
        self.device_id = f"browser-{secrets.token_hex(6)}"
        self.body = ft.Container(expand=True, padding=16)
        # Built inside main, so it registers with this page; kept here, because a service must stay referenced.
        self.prefs = ft.SharedPreferences()
        self.signed_in: tuple[str, Role] | None = None  # who, to redraw their views in another language

    async def restore_language(self) -> None:
        """The language this browser chose last time (kept in the browser, not on the server: it is the
        browser's, whoever signs in on it)."""
        try:
            stored = await self.prefs.get(LANGUAGE_KEY)
        except (RuntimeError, TimeoutError):  # a browser that keeps nothing: the default language
            return
        if isinstance(stored, str) and stored in LANGUAGES:
            set_language(self.page, stored)

    def start(self) -> None:
        register_fonts(self.page)
        self.page.title = _("Fieldmeter console")
        self.page.add(self.body)
        self.show_sign_in()

    def _language_menu(self) -> ft.Row:
        """One button per language, each named in its own script: someone who cannot read the current language
        still finds theirs. Plain buttons, not a dropdown: the browser tests open dropdowns by their order."""
        current = language_of(self.page)
        return ft.Row(
            [
                ft.TextButton(
                    name,
                    key=f"language-{code}",
                    tooltip=_("Language"),
                    disabled=code == current,
                    on_click=partial(self._change_language, code),
                )
                for code, name in LANGUAGES.items()
            ],
            spacing=0,
            key="language",
        )

    async def _change_language(self, code: str, _event: ft.Event[Any] | None = None) -> None:
        if code not in LANGUAGES or code == language_of(self.page):
            return
        set_language(self.page, code)
        self.page.title = _("Fieldmeter console")
        # Shown in the new language all the same when the browser keeps nothing; the next visit starts in English.
        with contextlib.suppress(RuntimeError, TimeoutError):
            await self.prefs.set(LANGUAGE_KEY, code)
        # Every view is built in the language current when it is made: draw the screen again.
        if self.signed_in is None:
            self.show_sign_in()
        else:
            await self._show_views(*self.signed_in)

    def show_sign_in(self, notice: str = "") -> None:
        self.signed_in = None
        self.page.appbar = ft.AppBar(actions=[self._language_menu()])
        view = SignInView(
            heading=_("Fieldmeter console"),
            hint=_("Supervisors review readings; admins bill them."),
            sign_in=self._sign_in,
        )
        view.error.value = notice
        self.body.content = view
        self.page.update()

    def _session_expired(self) -> None:
        # Called by the client while a view's call fails; that view is taken off the screen here.
        self.show_sign_in(AuthExpired().message)

    async def _sign_in(self, username: str, password: str) -> str | None:
        try:
            role = await self.client.sign_in(username.strip(), password, self.device_id)
        except ApiClientError as error:
            return _("Wrong username or password") if error.status == 401 else error.message
        if self.client.must_change_password:
            # The office chose this password: the server answers nothing else until the user picks their own.
            self.body.content = PasswordChangeView(
                self.client, password, partial(self._show_views, username.strip(), role)
            )
            self.page.update()
            return None
        await self._show_views(username.strip(), role)
        return None

    async def _show_views(self, username: str, role: Role) -> None:
        self.signed_in = (username, role)
        view: ft.Control
        if role == Role.SUPERVISOR:
            view = ReviewView(self.client)
        elif role == Role.ADMIN:
            view = AdminShell(self.client)
        elif role == Role.ACCOUNTANT:
            view = AccountantShell(self.client)
        elif role == Role.RESIDENT:
            view = ResidentPortal(self.client)  # their own unit, and nothing else to navigate to
        else:
            view = ft.Text(_("Field engineers use the Fieldmeter app on their phone."), key="wrong_role")
        self.page.appbar = ft.AppBar(
            title=ft.Text(_("Fieldmeter · {user} ({role})").format(user=username, role=role)),
            actions=[
                self._language_menu(),
                ft.TextButton(_("Sign out"), key="sign_out", on_click=self._sign_out),
            ],
        )
        self.body.content = view
        self.page.update()
        if isinstance(view, ReviewView | AdminShell | AccountantShell | ResidentPortal):
            await view.load()

    async def _sign_out(self, _event: ft.Event[Any]) -> None:
        await self.client.log_out()  # the server ends the session too: its tokens stop working at once
        self.show_sign_in()


# The admin's sections: each loads its data when shown.
AdminSection: TypeAlias = (
    AdminView
    | BillRunView
    | BillsView
    | PremisesView
    | MetersView
    | PeopleView
    | RoutesView
    | TariffsView
    | ImportsView
    | ReconciliationView
    | SchedulesView
    | AuditView
    | DeliveriesView
    | ReportsView
    | DefaultersView
    | EscalationView
)


class SectionShell(ft.Column):
    """Sections behind a row of buttons; the first is shown and loaded first, each is loaded when shown."""

    def __init__(self, sections: dict[str, AdminSection], labels: dict[str, str]) -> None:
        self.sections = sections
        self.first = next(iter(sections))
        self.body = ft.Container(content=sections[self.first], expand=True)
        nav = ft.Row(
            [
                ft.TextButton(label, key=f"section-{name}", on_click=partial(self._show, name))
                for name, label in labels.items()
            ],
            wrap=True,
        )
        super().__init__([nav, self.body], expand=True, scroll=ft.ScrollMode.AUTO)

    async def load(self) -> None:
        await self.sections[self.first].load()

    async def _show(self, name: str, _event: ft.Event[Any]) -> None:
        self.body.content = self.sections[name]
        push_update(self)
        await self.sections[name].load()


class AdminShell(SectionShell):
    """The admin's sections: bill runs, bills per block, approved readings, and the society's directory (blocks
    and units, meters, people, routes, tariffs)."""

    def __init__(self, client: AdminClient) -> None:
        sections: dict[str, AdminSection] = {
            "runs": BillRunView(client),
            "bills": BillsView(client, can_record_payments=True),
            "readings": AdminView(client),
            "premises": PremisesView(client),
            "meters": MetersView(client),
            "people": PeopleView(client),
            "routes": RoutesView(client),
            "tariffs": TariffsView(client),
            "imports": ImportsView(client),
            "reconciliation": ReconciliationView(client),
            "schedules": SchedulesView(client),
            "audit": AuditView(client),
            "deliveries": DeliveriesView(client),
            "reports": ReportsView(client),
            "defaulters": DefaultersView(client),
            "escalation": EscalationView(client, edits_steps=True),
        }
        labels = {
            "runs": _("Bill run"),
            "bills": _("Bills"),
            "readings": _("Readings"),
            "premises": _("Blocks & units"),
            "meters": _("Meters"),
            "people": _("People"),
            "routes": _("Routes"),
            "tariffs": _("Tariffs"),
            "imports": _("Import"),
            "reconciliation": _("Reconciliation"),
            "schedules": _("Schedules"),
            "audit": _("Audit log"),
            "deliveries": _("Deliveries"),
            "reports": _("Reports"),
            "defaulters": _("Defaulters"),
            "escalation": _("Escalation"),
        }
        super().__init__(sections, labels)


class AccountantShell(SectionShell):
    """The accountant's sections: bills with their payments, the bank statement's reconciliation, the
    defaulters with their payment plans, and the escalation log."""

    def __init__(self, client: AdminClient) -> None:
        sections: dict[str, AdminSection] = {
            "bills": BillsView(client, can_record_payments=True),
            "reconciliation": ReconciliationView(client),
            "defaulters": DefaultersView(client),
            "escalation": EscalationView(client, edits_steps=False),
        }
        labels = {
            "bills": _("Bills"),
            "reconciliation": _("Reconciliation"),
            "defaulters": _("Defaulters"),
            "escalation": _("Escalation"),
        }
        super().__init__(sections, labels)


def console_main(
    http_factory: HttpFactory, *, for_client: ClientHttpFactory | None = None
) -> Callable[[ft.Page], Awaitable[None]]:
    async def main(page: ft.Page) -> None:
        http = for_client(page.client_ip) if for_client is not None and page.client_ip else http_factory()
        app = ConsoleApp(page, AdminClient(http))
        await app.restore_language()
        app.start()

    return main
