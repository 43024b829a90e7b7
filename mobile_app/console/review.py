"""The supervisor's review queue: each reading with its flags, photo, previous reading and where it was taken; a
meter replacement the engineer reported with a reading is confirmed or rejected here."""

from __future__ import annotations

from datetime import date, tzinfo
from enum import Enum
from functools import partial
from typing import Any
from uuid import UUID

import flet as ft

from mobile_app.api.endpoints import Decision, ReplacementDecision
from mobile_app.api.errors import ApiClientError
from mobile_app.console.client import ConsoleClient
from mobile_app.console.location_map import location_map
from mobile_app.i18n import _, ngettext
from mobile_app.reading_states import FLAG_WORDS
from mobile_app.ui.common import day, mounted_page, push_update, show_message, society_time, title
from shared_billing.api_models import ReviewItem
from shared_billing.checks import ReadingFlag

__all__ = ["ReviewView", "flag_labels", "parse_due"]

# One home for the flags' words, shared with the field app (marked there, translated where shown).
FLAG_TEXT = FLAG_WORDS


class _Unreadable(Enum):
    """A typed due date the card could not read: nothing is sent (the field says why)."""

    UNREADABLE = "unreadable"


_UNREADABLE = _Unreadable.UNREADABLE


def flag_labels(item: ReviewItem) -> list[str]:
    """The item's flags in words; "photo pending" comes from the item's own ``photo_pending`` (the flags are what
    the checks found, stored with the reading), once even if a server still lists it among the flags too. A code
    this console does not know yet is shown as it is rather than breaking the card."""
    pending = [ReadingFlag.PHOTO_PENDING] if item.photo_pending else []
    return [_(FLAG_TEXT[flag]) if flag in FLAG_TEXT else str(flag) for flag in dict.fromkeys([*item.flags, *pending])]


def parse_due(text: str) -> date | None:
    """The due date typed on the card (YYYY-MM-DD), None when left empty (the server sets its default); raises
    ``ValueError`` for anything else."""
    return date.fromisoformat(text.strip()) if text.strip() else None


class ReviewView(ft.Column):
    def __init__(self, client: ConsoleClient) -> None:
        self.client = client
        self.summary = ft.Text(_("Loading…"), key="review_summary")
        self.list = ft.ListView(expand=True, spacing=12)
        super().__init__(
            expand=True,
            controls=[
                ft.Row(
                    [
                        title(_("Review queue")),
                        ft.IconButton(ft.Icons.REFRESH, key="refresh", tooltip=_("Refresh"), on_click=self._refresh),
                    ]
                ),
                self.summary,
                self.list,
            ],
        )

    async def _refresh(self, _event: ft.Event[Any] | None = None) -> None:
        await self.load()

    async def load(self) -> None:
        try:
            society = await self.client.society_time()
            items = await self.client.review_queue()
            cards = []
            for item in items:
                photo = await self.client.photo(item.photo_sha256) if item.photo_url and item.photo_sha256 else None
                cards.append(self._card(item, photo, society.zone))
        except ApiClientError as error:
            self.summary.value = error.message
            push_update(self)
            return
        self.summary.value = (
            ngettext("{count} reading waiting", "{count} readings waiting", len(items)).format(count=len(items))
            if items
            else _("Nothing waiting for review")
        )
        self.list.controls = cards
        push_update(self)

    def _card(self, item: ReviewItem, photo: bytes | None, zone: tzinfo) -> ft.Control:
        uuid = item.uuid
        flags: list[ft.Control] = [
            ft.Chip(label=ft.Text(label), bgcolor=ft.Colors.AMBER_100) for label in flag_labels(item)
        ]
        value = item.value if item.value is not None else f"skipped: {item.skip_reason}"
        facts: list[ft.Control] = [
            ft.Text(
                _("{unit} · meter {meter} · block {block}").format(
                    unit=item.unit_code, meter=item.meter_number, block=item.block_code
                ),
                weight=ft.FontWeight.BOLD,
            ),
            ft.Text(
                _("Reading {value} · previous {previous} · consumption {consumption} units").format(
                    value=value, previous=item.previous_value or "—", consumption=item.consumption or "—"
                ),
                key=f"facts-{uuid}",
            ),
            ft.Text(
                _("Read {when}").format(when=society_time(item.captured_at, zone))
                + (
                    " · " + _("{distance} m from the meter").format(distance=f"{item.distance_m:.0f}")
                    if item.distance_m is not None
                    else ""
                )
                + (f" (±{item.gps_accuracy_m:.0f} m)" if item.gps_accuracy_m is not None else ""),
                key=f"read-{uuid}",
            ),
            ft.Row(flags, spacing=4),
        ]
        if item.note:
            facts.append(ft.Text(_("Note: {note}").format(note=item.note), italic=True))
        if item.due_on is not None:
            facts.append(ft.Text(_("New read due {date}").format(date=day(item.due_on)), key=f"due-on-{uuid}"))
        reason = ft.TextField(label=_("Reason (for reject or re-read)"), key=f"reason-{uuid}", width=320)
        due = ft.TextField(
            label=_("Due date (YYYY-MM-DD)"),
            hint_text=_("Empty: the usual delay"),
            key=f"due-{uuid}",
            width=200,
        )
        replacement = item.replacement
        pending = replacement is not None and replacement.state == "pending"
        if replacement is not None:
            facts.append(
                ft.Text(
                    _(
                        "Meter replaced ({state}): old meter's final read {final} · new meter {number} from {initial}"
                    ).format(
                        state=replacement.state,
                        final=replacement.old_final_value,
                        number=replacement.new_meter_number,
                        initial=replacement.new_initial_value,
                    ),
                    key=f"replacement-{uuid}",
                    weight=ft.FontWeight.BOLD,
                )
            )
        # A pending replacement is decided with the reading: confirming records it and approves the reading.
        approve: list[ft.Control] = (
            [
                ft.FilledButton(
                    _("Confirm replacement"),
                    key=f"confirm-replacement-{uuid}",
                    on_click=partial(self._decide_replacement, uuid, "confirm", reason, None),
                ),
                ft.OutlinedButton(
                    _("Reject replacement"),
                    key=f"reject-replacement-{uuid}",
                    on_click=partial(self._decide_replacement, uuid, "reject", reason, due),
                ),
            ]
            if pending
            else [
                ft.FilledButton(
                    _("Approve"),
                    icon=ft.Icons.CHECK,
                    key=f"approve-{uuid}",
                    disabled=item.photo_pending,
                    on_click=partial(self._decide, uuid, "approve", None, None),
                )
            ]
        )
        actions = ft.Row(
            controls=[
                *approve,
                reason,
                due,  # a rejection's, a re-read's or a rejected replacement's
                *(
                    []
                    if pending
                    else [
                        ft.OutlinedButton(
                            _("Reject"),
                            key=f"reject-{uuid}",
                            on_click=partial(self._decide, uuid, "reject", reason, due),
                        ),
                        ft.OutlinedButton(
                            _("Re-read"),
                            key=f"reread-{uuid}",
                            on_click=partial(self._decide, uuid, "reread", reason, due),
                        ),
                    ]
                ),
            ],
        )
        picture: ft.Control = (
            ft.Image(src=photo, width=240, height=180, fit=ft.BoxFit.CONTAIN, key=f"photo-{uuid}")
            if photo
            else ft.Container(
                ft.Text(_("Photo pending"), italic=True),
                width=240,
                height=180,
                alignment=ft.Alignment.CENTER,
                bgcolor=ft.Colors.GREY_200,
            )
        )
        where = location_map(item.meter_lat, item.meter_lon, item.gps_lat, item.gps_lon, item.gps_accuracy_m)
        return ft.Card(
            key=f"review-{uuid}",
            content=ft.Container(
                padding=12,
                content=ft.Column(
                    [
                        # No wrap around an expanded child: Flutter's Wrap cannot size one (a grey error box).
                        ft.Row(
                            [picture, where, ft.Column(facts, expand=True, spacing=6)],
                            vertical_alignment=ft.CrossAxisAlignment.START,
                        ),
                        actions,
                    ]
                ),
            ),
        )

    def _due_on(self, due_field: ft.TextField | None) -> date | _Unreadable | None:
        """The due date typed on the card (None: the server's usual delay); a date it cannot read is marked on
        the field and answered ``_UNREADABLE``, so nothing is sent."""
        if due_field is None:
            return None
        try:
            return parse_due(due_field.value or "")
        except ValueError:
            due_field.error = _("Write the date as YYYY-MM-DD, or leave it empty")
            push_update(self)
            return _UNREADABLE

    async def _decide(
        self,
        uuid: UUID,
        action: Decision,
        reason_field: ft.TextField | None,
        due_field: ft.TextField | None = None,
        _event: ft.Event[Any] | None = None,
    ) -> None:
        reason = (reason_field.value or "").strip() if reason_field else None
        if reason_field is not None and not reason:
            reason_field.error = _("Say why: the engineer sees this")
            push_update(self)
            return
        due_on = self._due_on(due_field)
        if due_on is _UNREADABLE:
            return
        try:
            await self.client.decide(uuid, action, reason, due_on)
        except ApiClientError as error:
            if (page := mounted_page(self)) is not None:
                show_message(page, error.message, error=True)
            return
        if (page := mounted_page(self)) is not None:
            show_message(page, {"approve": _("Approved"), "reject": _("Rejected"), "reread": _("Sent back")}[action])
        await self.load()

    async def _decide_replacement(
        self,
        uuid: UUID,
        decision: ReplacementDecision,
        reason_field: ft.TextField,
        due_field: ft.TextField | None,
        _event: ft.Event[Any] | None = None,
    ) -> None:
        reason = (reason_field.value or "").strip()
        if not reason:
            reason_field.error = _("Say why: the decision is audited")
            push_update(self)
            return
        due_on = self._due_on(due_field)
        if due_on is _UNREADABLE:
            return
        try:
            await self.client.decide_replacement(uuid, decision, reason, due_on)
        except ApiClientError as error:
            if (page := mounted_page(self)) is not None:
                show_message(page, error.message, error=True)
            return
        if (page := mounted_page(self)) is not None:
            show_message(page, _("Replacement confirmed") if decision == "confirm" else _("Replacement rejected"))
        await self.load()
