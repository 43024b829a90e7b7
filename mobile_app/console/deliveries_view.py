"""The admin's delivery log (docs/notifications.md): every message to a consumer, newest first, with its status,
channel, attempts and last error, filtered by status; a dead letter can be sent again."""

from __future__ import annotations

from datetime import tzinfo
from functools import partial
from typing import Any

import flet as ft

from mobile_app.api.errors import ApiClientError
from mobile_app.console.client import AdminClient
from mobile_app.console.forms import chosen, filter_dropdown
from mobile_app.console.paged_list import PagedList
from mobile_app.i18n import N_, _
from mobile_app.ui.common import push_update, society_time, title
from shared_billing.api_models import NotificationOut, Page
from shared_billing.protocol import NotificationStatus

__all__ = ["STATUS_WORDS", "DeliveriesView"]

STATUS_WORDS: dict[str, str] = {
    NotificationStatus.PENDING: N_("Waiting"),
    NotificationStatus.SENT: N_("Sent"),
    NotificationStatus.DEAD: N_("Dead letter"),
    NotificationStatus.SKIPPED: N_("Skipped"),
}


class DeliveriesView(ft.Column):
    def __init__(self, client: AdminClient) -> None:
        self.client = client
        self.zone: tzinfo | None = None
        self.status = filter_dropdown("deliveries_status", _("Status"), _("Any status"), STATUS_WORDS, self._filter)
        self.notice = ft.Text("", key="deliveries_notice")
        self.messages = PagedList(
            "deliveries", self._page, self._row, hint=_("Unit or recipient"), empty=_("No messages yet")
        )
        super().__init__(
            expand=True,
            controls=[title(_("Deliveries")), ft.Row([self.status, self.notice], wrap=True), self.messages],
        )

    async def load(self) -> None:
        if self.zone is None:
            try:
                self.zone = (await self.client.society_time()).zone
            except ApiClientError as error:
                self.notice.value = error.message
                push_update(self)
                return
        await self.messages.load()

    async def _page(self, q: str | None, limit: int, offset: int) -> Page[NotificationOut]:
        return await self.client.notification_page(q, limit, offset, status=chosen(self.status))

    async def _filter(self, _event: ft.Event[Any] | None = None) -> None:
        self.messages.start = 0
        await self.messages.load()

    async def _retry(self, message: NotificationOut, _event: ft.Event[Any] | None = None) -> None:
        try:
            await self.client.retry_notification(message.id)
        except ApiClientError as error:
            self.notice.value = error.message
        else:
            self.notice.value = _("Message {id} will be sent again").format(id=message.id)
        push_update(self)
        await self.messages.load()

    def _row(self, message: NotificationOut) -> ft.Control:
        when = society_time(message.created_at, self.zone) if self.zone is not None else message.created_at.isoformat()
        words = " · ".join(
            [
                when,
                message.unit_code,
                message.event.value,
                message.channel.value,
                message.recipient,
                _(STATUS_WORDS[message.status]),
                _("{count} attempts").format(count=message.attempts),
            ]
        )
        parts: list[ft.Control] = [ft.Text(words, key=f"delivery-{message.id}")]
        if message.last_error:
            parts.append(ft.Text(message.last_error, italic=True, size=13, color=ft.Colors.RED_700))
        if message.status == NotificationStatus.DEAD:
            parts.append(ft.TextButton(_("Retry"), key=f"retry-{message.id}", on_click=partial(self._retry, message)))
        return ft.Column(parts, spacing=0)
