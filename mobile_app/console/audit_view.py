"""The audit log for the admin: who did what to which object, when and why, filtered by object, actor and day,
a page at a time; above it, whether the log's keyed chain is intact (a rewritten or removed event breaks it)."""

from __future__ import annotations

from datetime import date, tzinfo
from typing import Any

import flet as ft

from mobile_app.api.errors import ApiClientError
from mobile_app.console.client import AdminClient, every_item
from mobile_app.console.paged_list import PagedList
from mobile_app.i18n import _
from mobile_app.ui.common import indian_number, push_update, society_time, title
from shared_billing.api_models import AuditOut, AuditQuery, ChainCheck, Page

__all__ = ["AuditView", "chain_words"]

_ANYONE = "any"


def chain_words(check: ChainCheck) -> str:
    """The chain's verdict in words."""
    if check.intact:
        return _("Audit log intact: {checked} events verified, {unsealed} waiting to be sealed").format(
            checked=indian_number(check.checked), unsealed=indian_number(check.unsealed)
        )
    return _("Audit log BROKEN at event {seq} ({problem}): {message}").format(
        seq=check.first_broken_seq, problem=check.problem or "—", message=check.message
    )


class AuditView(ft.Column):
    def __init__(self, client: AdminClient) -> None:
        self.client = client
        self.zone: tzinfo | None = None
        self.chain = ft.Text(_("Checking the audit log…"), key="audit_chain", size=16)
        self.entity = ft.TextField(
            label=_("Object"),
            # The objects' names as the server records them (codes, not words to translate).
            hint_text=_("e.g. {examples}").format(examples="reading, bill, payment, user"),
            key="audit_entity",
            width=200,
            dense=True,
        )
        self.actor = ft.Dropdown(
            label=_("Who"),
            tooltip=_("Who"),
            key="audit_actor",
            width=200,
            value=_ANYONE,
            options=[ft.DropdownOption(key=_ANYONE, text=_("Anyone"))],
        )
        self.since = ft.TextField(label=_("From (YYYY-MM-DD)"), key="audit_since", width=170, dense=True)
        self.until = ft.TextField(label=_("To (YYYY-MM-DD)"), key="audit_until", width=170, dense=True)
        self.days: tuple[date | None, date | None] = (None, None)  # the From and To last shown
        self.events = PagedList("audit", self._page, self._row, hint=_("Object id"), empty=_("No events"))
        super().__init__(
            expand=True,
            controls=[
                title(_("Audit log")),
                self.chain,
                ft.Row(
                    [
                        self.entity,
                        self.actor,
                        self.since,
                        self.until,
                        ft.FilledButton(_("Show"), key="audit_show", on_click=self._show),
                    ],
                    wrap=True,
                ),
                self.events,
            ],
        )

    async def load(self) -> None:
        try:
            if self.zone is None:
                self.zone = (await self.client.society_time()).zone
            people = await every_item(self.client.user_page)
            check = await self.client.audit_check()
        except ApiClientError as error:
            self.chain.value = error.message
            push_update(self)
            return
        self.actor.options = [ft.DropdownOption(key=_ANYONE, text=_("Anyone"))] + [
            ft.DropdownOption(key=str(person.id), text=f"{person.full_name} ({person.username})") for person in people
        ]
        self.chain.value = chain_words(check)
        self.chain.color = ft.Colors.GREEN_900 if check.intact else ft.Colors.RED_900
        self.chain.weight = None if check.intact else ft.FontWeight.BOLD
        push_update(self)
        await self.events.load()

    def _day(self, field: ft.TextField) -> date | None:
        """The day typed, None when empty; a day it cannot read is marked on the field (``ValueError``)."""
        text = (field.value or "").strip()
        field.error = None
        if not text:
            return None
        try:
            return date.fromisoformat(text)
        except ValueError:
            field.error = _("Write the date as YYYY-MM-DD, or leave it empty")
            raise

    async def _page(self, q: str | None, limit: int, offset: int) -> Page[AuditOut]:
        actor = self.actor.value
        query = AuditQuery(
            entity=(self.entity.value or "").strip() or None,
            entity_id=q,
            actor_id=int(actor) if actor and actor != _ANYONE else None,
            since=self.days[0],
            until=self.days[1],
            limit=limit,
            offset=offset,
        )
        return await self.client.audit_page(query)

    async def _show(self, _event: ft.Event[Any] | None = None) -> None:
        try:
            self.days = (self._day(self.since), self._day(self.until))
        except ValueError:
            push_update(self)  # a day the field could not read: said on the field, nothing asked
            return
        self.events.start = 0
        await self.events.load()

    def _row(self, event: AuditOut) -> ft.Control:
        when = society_time(event.at, self.zone) if self.zone is not None else event.at.isoformat()
        words = f"{when} · {event.actor or _('the server')} · {event.action} · {event.entity} {event.entity_id}"
        return ft.Column(
            [
                ft.Text(words, key=f"audit-{event.id}"),
                *([ft.Text(event.reason, italic=True, size=13)] if event.reason else []),
            ],
            spacing=0,
        )
