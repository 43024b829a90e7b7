"""The supervisor's review queue at volume: one page of readings the filters select (the server counts them all),
decisions made in place without reloading the page, the clean ones approved in bulk after a confirmation, each
photo full-size with zoom, and the keyboard for the day's hundreds (J/K next and previous, A approve, R reject:
the reason field, Z the photo). A meter replacement the engineer reported is confirmed or rejected on its card."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, date, tzinfo
from enum import Enum
from functools import partial
from typing import Any
from uuid import UUID

import flet as ft

from mobile_app.api.endpoints import Decision, ReplacementDecision
from mobile_app.api.errors import ApiClientError
from mobile_app.console.client import ConsoleClient
from mobile_app.console.paged_list import range_text
from mobile_app.console.photo_zoom import PhotoZoom
from mobile_app.console.quality_checks_view import QualityChecksPanel
from mobile_app.console.review_card import fact_lines, flag_words, picture
from mobile_app.i18n import N_, _, ngettext
from mobile_app.ui.common import indian_number, mounted_page, push_update, show_message, title
from shared_billing.api_models import ReviewFacets, ReviewFilter, ReviewItem, ReviewPage, ReviewQuery
from shared_billing.checks import ReadingFlag
from shared_billing.protocol import OcrVerdict, ReadType, ReviewSort

__all__ = ["PAGE_SIZE", "ReviewView", "parse_due"]

#: Cards per page: each carries a photo, so a page is what a supervisor looks through before paging on.
PAGE_SIZE = 20
_ALL = "all"
_SORTS = {
    ReviewSort.OLDEST: N_("Oldest first"),
    ReviewSort.NEWEST: N_("Newest first"),
    ReviewSort.UNIT: N_("By block and unit"),
    ReviewSort.FLAGGED: N_("Most flags first"),
}
_READ_TYPES = {
    ReadType.ACTUAL: N_("Read"),
    ReadType.VERIFIED: N_("Read again after a warning"),
    ReadType.SKIP: N_("Skipped"),
}
# Waiting at least this many days since they arrived: a queue's backlog, the oldest a re-read may no longer fix.
_AGES = {1: N_("1 day or more"), 3: N_("3 days or more"), 7: N_("A week or more"), 30: N_("A month or more")}
# What the server read off the photos (docs/review.md "OCR"): a mismatch is the one a supervisor looks for.
_OCR = {
    OcrVerdict.MISMATCH: N_("Photo shows another value"),
    OcrVerdict.PENDING: N_("Photo not read yet"),
    OcrVerdict.MATCH: N_("Photo agrees"),
    OcrVerdict.UNREADABLE: N_("Photo unreadable"),
}
_DONE = {"approve": N_("Approved"), "reject": N_("Rejected"), "reread": N_("Sent back")}
_SELECTED_BORDER = ft.Colors.BLUE_800


class _Unreadable(Enum):
    """A typed due date the card could not read: nothing is sent (the field says why)."""

    UNREADABLE = "unreadable"


_UNREADABLE = _Unreadable.UNREADABLE


def parse_due(text: str) -> date | None:
    """The due date typed on the card (YYYY-MM-DD), None when left empty (the server sets its default); raises
    ``ValueError`` for anything else."""
    return date.fromisoformat(text.strip()) if text.strip() else None


class _Card:
    """One reading on the page: its item, the card's frame (the selection is drawn on it) and its fields."""

    def __init__(self, item: ReviewItem, photo: bytes | None, frame: ft.Container, reason: ft.TextField) -> None:
        self.item = item
        self.photo = photo
        self.frame = frame
        self.reason = reason
        self.decided = False


class ReviewView(ft.Column):
    def __init__(self, client: ConsoleClient) -> None:
        self.client = client
        self.zone: tzinfo | None = None
        self.query = ReviewQuery(limit=PAGE_SIZE)
        self.page_seen: ReviewPage | None = None
        self.total = 0  # of the whole filter, less what was decided on this page since
        self.clean = 0
        self.cards: list[_Card] = []
        self.selected = 0
        self.typing = 0  # text fields with the focus: keys are theirs then, not shortcuts
        self.summary = ft.Text(_("Loading…"), key="review_summary", size=16)
        self.range = ft.Text("", key="review_range")
        self.loading = ft.ProgressRing(width=20, height=20, visible=False, key="review_loading")
        self.engineer = self._dropdown(_("Engineer"), "review_engineer", 220)
        self.block = self._dropdown(_("Block"), "review_block", 160)
        self.flag = self._dropdown(_("Flag"), "review_flag", 260)
        self.read_type = self._dropdown(_("Read type"), "review_read_type", 220)
        self.read_type.options = self.read_type.options + [
            ft.DropdownOption(key=kind.value, text=_(label)) for kind, label in _READ_TYPES.items()
        ]
        self.age = self._dropdown(_("Waiting"), "review_age", 180)
        self.age.options = self.age.options + [
            ft.DropdownOption(key=str(days), text=_(label)) for days, label in _AGES.items()
        ]
        self.ocr = self._dropdown(_("Photo read (OCR)"), "review_ocr", 220)
        self.ocr.options = self.ocr.options + [
            ft.DropdownOption(key=verdict.value, text=_(label)) for verdict, label in _OCR.items()
        ]
        self.sort = ft.Dropdown(
            label=_("Order"),
            tooltip=_("Order"),
            key="review_sort",
            width=200,
            value=ReviewSort.OLDEST.value,
            options=[ft.DropdownOption(key=sort.value, text=_(label)) for sort, label in _SORTS.items()],
            on_select=self._filter_changed,
        )
        self.search = ft.TextField(
            label=_("Meter or unit"),
            key="review_search",
            width=200,
            dense=True,
            on_submit=self._filter_changed,
            on_focus=self._typing_starts,
            on_blur=self._typing_ends,
        )
        self.bulk = ft.FilledButton(
            _("Approve the clean ones"), icon=ft.Icons.DONE_ALL, key="review_bulk", disabled=True, on_click=self._bulk
        )
        self.prev = ft.IconButton(
            ft.Icons.CHEVRON_LEFT, key="review_prev", tooltip=_("Previous page"), disabled=True, on_click=self._prev
        )
        self.next = ft.IconButton(
            ft.Icons.CHEVRON_RIGHT, key="review_next", tooltip=_("Next page"), disabled=True, on_click=self._next
        )
        self.list = ft.ListView(expand=True, spacing=12, key="review_list")
        self.zoom = PhotoZoom()
        self.confirm = _BulkConfirm(self._approve_clean)
        self.checks = QualityChecksPanel(client)
        super().__init__(
            expand=True,
            controls=[
                ft.Row(
                    [
                        title(_("Review queue")),
                        ft.IconButton(ft.Icons.REFRESH, key="refresh", tooltip=_("Refresh"), on_click=self._refresh),
                        self.loading,
                        ft.TextButton(
                            _("Quality checks"), icon=ft.Icons.FACT_CHECK, key="checks_toggle", on_click=self._checks
                        ),
                    ]
                ),
                self.checks,
                ft.Row(
                    [self.engineer, self.block, self.flag, self.read_type, self.age, self.ocr, self.sort, self.search],
                    wrap=True,
                ),
                ft.Row([self.summary, self.bulk, self.prev, self.range, self.next], wrap=True),
                ft.Text(
                    _("Keys: J next · K previous · A approve · R reason to reject · Z photo"),
                    key="review_keys",
                    color=ft.Colors.GREY_800,
                ),
                self.list,
            ],
        )

    async def _checks(self, _event: ft.Event[Any]) -> None:
        await self.checks.toggle()

    def _dropdown(self, label: str, key: str, width: int) -> ft.Dropdown:
        return ft.Dropdown(
            label=label,
            tooltip=label,  # the name a screen reader says: Flutter's menu button does not take the label
            key=key,
            width=width,
            value=_ALL,
            options=[ft.DropdownOption(key=_ALL, text=_("All"))],
            on_select=self._filter_changed,
        )

    # --- Keys -------------------------------------------------------------------------------------------------

    def _take_keys(self) -> None:
        """Receive the page's keys. The browser sends them only once it knows a handler is there: the page itself
        must be updated after the handler is set, not only this view."""
        if (page := mounted_page(self)) is not None and page.on_keyboard_event != self._key:
            page.on_keyboard_event = self._key
            page.update()

    def will_unmount(self) -> None:
        if (page := mounted_page(self)) is not None and page.on_keyboard_event == self._key:
            page.on_keyboard_event = None

    def _typing_starts(self, _event: ft.Event[Any] | None = None) -> None:
        self.typing += 1

    def _typing_ends(self, _event: ft.Event[Any] | None = None) -> None:
        self.typing = max(0, self.typing - 1)

    async def _key(self, event: ft.KeyboardEvent) -> None:
        if self.typing or event.ctrl or event.alt or event.meta or mounted_page(self) is None:
            return
        key = event.key.upper()
        if key in ("J", "ARROW DOWN"):
            await self._select(self._step(+1))
        elif key in ("K", "ARROW UP"):
            await self._select(self._step(-1))
        elif (card := self._current()) is None:
            return
        elif key == "A" and card.item.replacement is None and not card.item.photo_pending:
            await self._decide(card.item.uuid, "approve", None, None)
        elif key == "R":
            await card.reason.focus()  # type: ignore[no-untyped-call]  # flet declares it untyped
        elif key == "Z" and card.photo:
            self._zoom(card)

    def _current(self) -> _Card | None:
        if 0 <= self.selected < len(self.cards) and not self.cards[self.selected].decided:
            return self.cards[self.selected]
        return None

    def _step(self, direction: int) -> int:
        """The next undecided card from the selection in ``direction`` (the selection itself at an end)."""
        index = self.selected + direction
        while 0 <= index < len(self.cards):
            if not self.cards[index].decided:
                return index
            index += direction
        return self.selected

    async def _select(self, index: int, *, scroll: bool = True) -> None:
        """Frame the card at ``index`` (none: -1) and, when the keys moved there, bring it into view."""
        for position, card in enumerate(self.cards):
            card.frame.border = ft.Border.all(3, _SELECTED_BORDER) if position == index and not card.decided else None
        self.selected = index
        push_update(self)
        if scroll and 0 <= index < len(self.cards):
            await self.list.scroll_to(scroll_key=f"review-{self.cards[index].item.uuid}", duration=200)

    # --- Loading ----------------------------------------------------------------------------------------------

    async def _refresh(self, _event: ft.Event[Any] | None = None) -> None:
        await self.load()

    async def load(self) -> None:
        """The filters' choices and the current page, drawn afresh."""
        self._take_keys()
        self.loading.visible = True
        push_update(self)
        try:
            if self.zone is None:
                self.zone = (await self.client.society_time()).zone
            facets = await self.client.review_facets()
            page = await self.client.review_queue(self.query)
            photos = await asyncio.gather(*(self._photo(item) for item in page.items))
        except ApiClientError as error:
            self.loading.visible = False
            self.summary.value = error.message
            push_update(self)
            return
        self._fill_filters(facets)
        self.page_seen = page
        self.total, self.clean = page.total, page.clean
        self.cards = [self._card(item, photo) for item, photo in zip(page.items, photos, strict=True)]
        # The old cards leave first: Flet diffs a new control that takes an old one's key as "frozen" and then
        # refuses any change to it (the selection frame, a decision shrinking the card).
        self.list.controls = []
        push_update(self)
        self.list.controls = [card.frame for card in self.cards] or [
            ft.Text(
                _("Nothing waiting for review")
                if self.query.selection() == ReviewFilter()
                else _("Nothing waiting matches these filters"),
                key="review_empty",
                italic=True,
                size=16,
            )
        ]
        self.loading.visible = False
        self._say_counts()
        await self._select(0 if self.cards else -1, scroll=False)

    async def _photo(self, item: ReviewItem) -> bytes | None:
        """The item's photo, fetched with the page's others at once; one the store cannot give (a broken file)
        leaves its card saying so rather than the page empty."""
        if not (item.photo_url and item.photo_sha256):
            return None
        try:
            return await self.client.photo(item.photo_sha256)
        except ApiClientError:
            return None

    def _fill_filters(self, facets: ReviewFacets) -> None:
        everyone = [ft.DropdownOption(key=_ALL, text=_("All"))]
        self.engineer.options = everyone + [
            ft.DropdownOption(key=str(facet.id), text=f"{facet.label} ({indian_number(facet.count)})")
            for facet in facets.engineers
        ]
        self.block.options = everyone + [
            ft.DropdownOption(key=str(facet.id), text=f"{facet.code} ({indian_number(facet.count)})")
            for facet in facets.blocks
        ]
        self.flag.options = everyone + [
            ft.DropdownOption(key=facet.code, text=f"{flag_words(facet.code)} ({indian_number(facet.count)})")
            for facet in facets.flags
        ]

    def _say_counts(self) -> None:
        """The counts as they stand after the decisions made on this page."""
        decided = sum(card.decided for card in self.cards)
        self.summary.value = (
            ngettext("{count} reading waiting", "{count} readings waiting", self.total).format(
                count=indian_number(self.total)
            )
            if self.total
            else _("Nothing waiting for review")
        )
        self.range.value = range_text(self.query.offset, len(self.cards) - decided, self.total)
        self.bulk.content = ngettext(
            "Approve {count} clean reading", "Approve {count} clean readings", self.clean
        ).format(count=indian_number(self.clean))
        self.bulk.disabled = self.clean == 0
        self.prev.disabled = self.query.offset == 0
        self.next.disabled = self.query.offset + len(self.cards) - decided >= self.total
        push_update(self)

    # --- Filters and pages ------------------------------------------------------------------------------------

    async def _filter_changed(self, _event: ft.Event[Any] | None = None) -> None:
        self.query = ReviewQuery(
            engineer_id=_chosen_id(self.engineer.value),
            block_id=_chosen_id(self.block.value),
            flag=ReadingFlag(self.flag.value) if self.flag.value not in (None, _ALL) else None,
            read_type=ReadType(self.read_type.value) if self.read_type.value not in (None, _ALL) else None,
            older_than_days=_chosen_id(self.age.value),
            ocr=OcrVerdict(self.ocr.value) if self.ocr.value not in (None, _ALL) else None,
            q=(self.search.value or "").strip() or None,
            sort=ReviewSort(self.sort.value or ReviewSort.OLDEST.value),
            limit=PAGE_SIZE,
        )
        await self.load()

    async def _flag_picked(self, flag: ReadingFlag) -> None:
        """A flag chip clicked: the readings with that flag (what the flag dropdown would choose)."""
        if flag not in {option.key for option in self.flag.options}:
            return  # "photo pending" is the photo's state, not a stored flag: nothing to narrow to
        self.flag.value = flag.value
        await self._filter_changed()

    async def _prev(self, _event: ft.Event[Any] | None = None) -> None:
        self.query = self.query.model_copy(update={"offset": max(0, self.query.offset - PAGE_SIZE)})
        await self.load()

    async def _next(self, _event: ft.Event[Any] | None = None) -> None:
        # Decided readings left the list: the next page starts that many earlier.
        shown = len(self.cards) - sum(card.decided for card in self.cards)
        self.query = self.query.model_copy(update={"offset": self.query.offset + shown})
        await self.load()

    # --- Cards ------------------------------------------------------------------------------------------------

    def _card(self, item: ReviewItem, photo: bytes | None) -> _Card:
        uuid = item.uuid
        reason = ft.TextField(
            label=_("Reason (for reject or re-read)"),
            key=f"reason-{uuid}",
            width=320,
            on_focus=self._typing_starts,
            on_blur=self._typing_ends,
        )
        due = ft.TextField(
            label=_("Due date (YYYY-MM-DD)"),
            hint_text=_("Empty: the usual delay"),
            key=f"due-{uuid}",
            width=200,
            on_focus=self._typing_starts,
            on_blur=self._typing_ends,
        )
        pending = item.replacement is not None and item.replacement.state == "pending"
        # A pending replacement is decided with the reading: confirming records it and approves the reading.
        if pending:
            reason.on_submit = partial(self._decide_replacement, uuid, "reject", reason, due)
            buttons: list[ft.Control] = [
                ft.FilledButton(
                    _("Confirm replacement"),
                    key=f"confirm-replacement-{uuid}",
                    on_click=partial(self._decide_replacement, uuid, "confirm", reason, None),
                ),
                reason,
                due,
                ft.OutlinedButton(
                    _("Reject replacement"),
                    key=f"reject-replacement-{uuid}",
                    on_click=partial(self._decide_replacement, uuid, "reject", reason, due),
                ),
            ]
        else:
            reason.on_submit = partial(self._decide, uuid, "reject", reason, due)
            buttons = [
                ft.FilledButton(
                    _("Approve"),
                    icon=ft.Icons.CHECK,
                    key=f"approve-{uuid}",
                    disabled=item.photo_pending,
                    on_click=partial(self._decide, uuid, "approve", None, None),
                ),
                reason,
                due,  # a rejection's or a re-read's
                ft.OutlinedButton(
                    _("Reject"), key=f"reject-{uuid}", on_click=partial(self._decide, uuid, "reject", reason, due)
                ),
                ft.OutlinedButton(
                    _("Re-read"), key=f"reread-{uuid}", on_click=partial(self._decide, uuid, "reread", reason, due)
                ),
            ]
        card = _Card(item, photo, ft.Container(), reason)
        zone = self.zone or UTC
        card.frame = ft.Container(
            key=f"review-{uuid}",
            padding=12,
            border_radius=8,
            bgcolor=ft.Colors.WHITE,
            on_click=partial(self._clicked, card),
            content=ft.Column(
                [
                    # No wrap around an expanded child: Flutter's Wrap cannot size one (a grey error box).
                    ft.Row(
                        [
                            picture(item, photo, partial(self._zoom, card)),
                            ft.Column(fact_lines(item, zone, self._flag_picked), expand=True, spacing=6),
                        ],
                        vertical_alignment=ft.CrossAxisAlignment.START,
                    ),
                    ft.Row(buttons, wrap=True),
                ]
            ),
        )
        return card

    async def _clicked(self, card: _Card, _event: ft.Event[Any] | None = None) -> None:
        if card in self.cards and not card.decided:
            await self._select(self.cards.index(card))

    def _zoom(self, card: _Card) -> None:
        if card.photo and (page := mounted_page(self)) is not None:
            item = card.item
            caption = _("{unit} · meter {meter} · block {block}").format(
                unit=item.unit_code, meter=item.meter_number, block=item.block_code
            )
            self.zoom.show(page, card.photo, caption)

    def _settle(self, uuid: UUID, words: str) -> None:
        """A decided card shrinks to one line in place; the counts go down and the selection moves on."""
        for index, card in enumerate(self.cards):
            if card.item.uuid != uuid or card.decided:
                continue
            card.decided = True
            item = card.item
            card.frame.key = f"decided-{uuid}"
            card.frame.border = None
            card.frame.bgcolor = ft.Colors.GREY_100
            card.frame.content = ft.Text(
                _("{decision}: {unit} · meter {meter}").format(
                    decision=words, unit=item.unit_code, meter=item.meter_number
                ),
                key=f"decided-text-{uuid}",
                color=ft.Colors.GREY_900,
            )
            self.total = max(0, self.total - 1)
            self.clean = max(0, self.clean - int(item.clean))
            if index == self.selected:
                self.selected = self._step(+1) if self._step(+1) != index else self._step(-1)
            break
        self._say_counts()

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
            show_message(page, _(_DONE[action]))
        self.typing = 0  # the field that had the focus is gone with the card
        self._settle(uuid, _(_DONE[action]))
        await self._select(self.selected)

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
        words = _("Replacement confirmed") if decision == "confirm" else _("Replacement rejected")
        if (page := mounted_page(self)) is not None:
            show_message(page, words)
        self.typing = 0
        self._settle(uuid, words)
        await self._select(self.selected)

    # --- Bulk approval ----------------------------------------------------------------------------------------

    async def _bulk(self, _event: ft.Event[Any] | None = None) -> None:
        """Ask first, with the count the server gave for the whole filter (not only this page)."""
        if self.clean and (page := mounted_page(self)) is not None:
            self.confirm.ask(page, self.clean)

    async def _approve_clean(self, count: int) -> None:
        self.loading.visible = True
        push_update(self)
        try:
            approved = await self.client.approve_clean(self.query.selection(), count)
        except ApiClientError as error:
            self.loading.visible = False
            if (page := mounted_page(self)) is not None:
                show_message(page, error.message, error=True)
            await self.load()  # the counts as they are now
            return
        if (page := mounted_page(self)) is not None:
            show_message(
                page,
                ngettext("Approved {count} reading", "Approved {count} readings", approved).format(
                    count=indian_number(approved)
                ),
            )
        self.query = self.query.model_copy(update={"offset": 0})
        await self.load()


def _chosen_id(value: str | None) -> int | None:
    return int(value) if value not in (None, _ALL) else None


class _BulkConfirm(ft.AlertDialog):
    """ "Approve 12 clean readings?", one per view and asked again with each count (see PhotoZoom on keys)."""

    def __init__(self, approve: Callable[[int], Awaitable[None]]) -> None:
        self.approve = approve
        self.count = 0
        self.question = ft.Text("")
        super().__init__(
            key="bulk_confirm",
            title=self.question,
            content=ft.Text(
                _(
                    "Every reading these filters select that has a value, no flag, its photo in and no meter "
                    "replacement, on every page. An approval is final."
                ),
                width=440,
            ),
            actions=[
                ft.TextButton(_("Cancel"), key="bulk_cancel", on_click=self._cancel),
                ft.FilledButton(_("Approve"), key="bulk_approve", on_click=self._approve),
            ],
        )

    def ask(self, page: ft.Page, count: int) -> None:
        self.count = count
        self.question.value = ngettext(
            "Approve {count} clean reading?", "Approve {count} clean readings?", count
        ).format(count=indian_number(count))
        page.show_dialog(self)

    def _cancel(self, _event: ft.Event[Any] | None = None) -> None:
        self.open = False
        push_update(self)

    async def _approve(self, _event: ft.Event[Any] | None = None) -> None:
        self.open = False
        push_update(self)
        await self.approve(self.count)
