"""The engineer's route: meters in walk order with this period's progress, filters, search, re-read tasks.

One ``RouteView`` lives for the whole session (``FieldApp`` keeps it): coming back from a capture re-shows it,
and it redraws only when ``FieldService.version`` moved, the filter changed or the search settled. Rows are built
a page at a time (a 2,000-meter route is ~8,000 controls at once) and a tile is rebuilt only when its row changed,
so a redraw sends the rows that differ, not the route.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import flet as ft

from mobile_app.capture import SKIP_LABELS
from mobile_app.field_service import FieldService
from mobile_app.i18n import N_, _, ngettext
from mobile_app.reading_states import ReadingState, flag_words
from mobile_app.route_model import MeterProgress, RouteFilter, RouteRow, RouteSnapshot
from mobile_app.ui import theme
from mobile_app.ui.common import day, mounted_page, title
from mobile_app.ui.status_bar import StatusBar

__all__ = ["PAGE_SIZE", "SEARCH_PAUSE_S", "RouteView", "state_words"]

PAGE_SIZE = 30  # rows drawn at first and added per "Show more" or scroll to the end: three phone screens
SEARCH_PAUSE_S = 0.3  # the search runs once typing pauses this long: one redraw per word, not per key
_NEAR_END_PX = 400.0

FILTER_LABELS = {
    RouteFilter.ALL: N_("All"),
    RouteFilter.TO_READ: N_("To read"),
    RouteFilter.REREAD: N_("Re-read"),
    RouteFilter.DONE: N_("Done"),
}

# A reading's sync state on the tile: an icon and words (colour is never the only sign).
_STATE_ICONS = {
    ReadingState.SAVED: (ft.Icons.PHONE_ANDROID, theme.WARNING),
    ReadingState.ON_HOLD: (ft.Icons.PAUSE_CIRCLE, theme.WARNING),
    ReadingState.PHOTO_PENDING: (ft.Icons.PHOTO_CAMERA_BACK, theme.WARNING),
    ReadingState.UPLOADED: (ft.Icons.CLOUD_DONE, theme.INFO),
    ReadingState.APPROVED: (ft.Icons.VERIFIED, theme.OK),
    ReadingState.REJECTED: (ft.Icons.CANCEL, theme.ERROR),
    ReadingState.REREAD_REQUESTED: (ft.Icons.REPLAY, theme.ERROR),
    ReadingState.CONFLICT: (ft.Icons.ERROR, theme.ERROR),
}
ON_SERVER = N_("on the server")


def state_words(row: RouteRow) -> str:
    """The sync state of the period's reading in words: this phone's state, or "on the server" when the reading
    came from the server only (another phone, or this phone before a reinstall)."""
    return _(row.state.label) if row.state is not None else _(ON_SERVER)


class RouteView(ft.Column):
    def __init__(
        self,
        service: FieldService,
        *,
        open_meter: Callable[[RouteRow], None],
        meter_room: Callable[[], None] | None = None,
    ) -> None:
        self.service = service
        self.open_meter = open_meter
        self.route_filter = RouteFilter.ALL
        self.search = ft.TextField(
            label=_("Search unit or meter number"),
            key="search",
            prefix_icon=ft.Icons.SEARCH,
            on_change=self._typed,
            text_size=theme.BODY_PX,
        )
        self.chips = {
            choice: ft.Chip(
                label=ft.Text(_(label)),
                key=f"filter-{choice.value}",
                selected=choice is RouteFilter.ALL,
                on_click=lambda _e, c=choice: self._choose(c),
                height=theme.MIN_TARGET_PX,
                tooltip=_("Show: {filter}").format(filter=_(label)),
            )
            for choice, label in FILTER_LABELS.items()
        }
        self.summary = ft.Text("", key="route_summary", size=theme.BODY_PX, weight=ft.FontWeight.W_600)
        self.rereads = ft.Text("", key="route_rereads", size=theme.BODY_PX, color=theme.ERROR, visible=False)
        self.status_bar = StatusBar()
        self.more = theme.touch(
            ft.OutlinedButton(_("Show more"), key="show_more", icon=ft.Icons.EXPAND_MORE, on_click=self._more)
        )
        self.list = ft.ListView(expand=True, spacing=4, on_scroll=self._scrolled, scroll_interval=200)
        self.version = -1
        self.rows: list[RouteRow] = []
        self.shown = 0
        self.redraws = 0  # how many times the list was rebuilt (tests and the benchmark read it)
        self._tiles: dict[int, tuple[RouteRow, ft.Control]] = {}
        self._pending_search: asyncio.Task[None] | None = None
        heading: ft.Control = title(_("Route"))
        if meter_room is not None:
            room = ft.OutlinedButton(
                _("Meter room"),
                icon=ft.Icons.MEETING_ROOM,
                key="meter_room",
                tooltip=_("Read several meters in one room: one location, then each meter in turn"),
                on_click=lambda _e: meter_room(),
            )
            heading = ft.Row([heading, theme.touch(room)], alignment=ft.MainAxisAlignment.SPACE_BETWEEN, wrap=True)
        super().__init__(
            expand=True,
            controls=[
                heading,
                self.status_bar,
                self.search,
                ft.Row(list(self.chips.values()), wrap=True, spacing=6),
                self.summary,
                self.rereads,
                self.list,
            ],
        )
        self.refresh(force=True)
        self.status_bar.show(service.status())

    # --- data ---------------------------------------------------------------------------------------------------
    def refresh(self, *, force: bool = False) -> bool:
        """Redraw from the service when its data changed (or ``force``); False when there was nothing to do."""
        if not force and self.service.version == self.version:
            return False
        snapshot = self.service.route(self.route_filter, (self.search.value or "").strip() or None)
        self.version = snapshot.version
        self._draw(snapshot)
        return True

    def tick(self) -> bool:
        """The app's periodic look: the status strip and, when the data moved, the rows. False: nothing changed."""
        changed = self.status_bar.show(self.service.status())
        return self.refresh() or changed

    def _draw(self, snapshot: RouteSnapshot) -> None:
        self.redraws += 1
        progress = snapshot.progress
        self.summary.value = ngettext(
            "{read} of {total} meter read this period", "{read} of {total} meters read this period", progress.total
        ).format(read=progress.read, total=progress.total)
        self.rereads.value = ngettext("{count} re-read to do", "{count} re-reads to do", progress.rereads).format(
            count=progress.rereads
        )
        self.rereads.visible = progress.rereads > 0
        self.rows = snapshot.rows
        wanted = {row.meter.meter_id for row in self.rows}
        self._tiles = {key: kept for key, kept in self._tiles.items() if key in wanted}
        self.shown = min(len(self.rows), max(self.shown, PAGE_SIZE))
        self._fill()

    def _fill(self) -> None:
        controls: list[ft.Control] = [self._tile(row) for row in self.rows[: self.shown]]
        if self.shown < len(self.rows):
            self.more.content = _("Show more ({count} left)").format(count=len(self.rows) - self.shown)
            controls.append(self.more)
        if not self.rows:
            empty = (
                _("No meters yet: sync when online to fetch your route.")
                if self.route_filter is RouteFilter.ALL and not (self.search.value or "").strip()
                else _("No meters match.")
            )
            controls = [ft.Text(empty, key="no_meters", size=theme.BODY_PX)]
        self.list.controls = controls

    # --- events -------------------------------------------------------------------------------------------------
    def _choose(self, choice: RouteFilter) -> None:
        self.route_filter = choice
        for key, chip in self.chips.items():
            chip.selected = key is choice
        self.shown = 0
        self.refresh(force=True)

    def _typed(self, _event: ft.Event[Any]) -> None:
        if self._pending_search is not None:
            self._pending_search.cancel()
        self._pending_search = asyncio.get_running_loop().create_task(self._search_after_pause())

    async def _search_after_pause(self) -> None:
        await asyncio.sleep(SEARCH_PAUSE_S)
        self._pending_search = None
        self.shown = 0
        self.refresh(force=True)
        if mounted_page(self) is not None:
            self.update()

    def _more(self, _event: ft.Event[Any] | None = None) -> None:
        self.shown = min(len(self.rows), self.shown + PAGE_SIZE)
        self._fill()

    def _scrolled(self, event: ft.OnScrollEvent) -> None:
        # Near the end of what is drawn: the next page, before the engineer reaches the button.
        if self.shown < len(self.rows) and event.max_scroll_extent - event.pixels < _NEAR_END_PX:
            self._more()

    # --- tiles --------------------------------------------------------------------------------------------------
    def _tile(self, row: RouteRow) -> ft.Control:
        kept = self._tiles.get(row.meter.meter_id)
        if kept is not None and kept[0] == row:
            return kept[1]
        tile = self._build_tile(row)
        self._tiles[row.meter.meter_id] = (row, tile)
        return tile

    def _build_tile(self, row: RouteRow) -> ft.Control:
        meter = row.meter
        ident = meter.meter_id
        lines: list[ft.Control] = []
        if row.progress is MeterProgress.TO_READ and row.value is None and row.skip_reason is None:
            previous = (
                _("To read · previous {value}").format(value=meter.previous.value)
                if meter.previous
                else _("To read · no previous reading")
            )
            lines.append(ft.Text(previous, key=f"tile_value-{ident}", size=theme.BODY_PX, color=theme.MUTED))
        else:
            what = (
                _("Read {value}").format(value=row.value)
                if row.value is not None
                else _("Skipped: {reason}").format(reason=_(SKIP_LABELS[row.skip_reason]) if row.skip_reason else "")
            )
            icon, color = _STATE_ICONS[row.state] if row.state is not None else (ft.Icons.CLOUD_DONE, theme.INFO)
            lines.append(
                ft.Row(
                    wrap=True,
                    spacing=6,
                    controls=[
                        ft.Text(what, key=f"tile_value-{ident}", size=theme.BODY_PX, color=theme.TEXT),
                        ft.Icon(icon, color=color, size=18, semantics_label=state_words(row)),
                        ft.Text(state_words(row), key=f"tile_state-{ident}", size=theme.BODY_PX, color=color),
                    ],
                )
            )
        if row.reread is not None:
            due = _("due {date}").format(date=day(row.reread.due_on)) if row.reread.due_on else _("no due date")
            reason = row.reread.reason or _("no reason given")
            lines.append(
                ft.Container(
                    key=f"tile_reread-{ident}",
                    bgcolor=theme.WARNING_SURFACE,
                    border_radius=6,
                    padding=ft.Padding.symmetric(horizontal=6, vertical=2),
                    content=ft.Text(
                        _("Re-read: {reason} · {due}").format(reason=reason, due=due),
                        size=theme.BODY_PX,
                        color=theme.ERROR,
                    ),
                )
            )
        if row.progress is MeterProgress.CHECK and meter.check is not None:
            due = _("due {date}").format(date=day(meter.check.due_on)) if meter.check.due_on else _("no due date")
            lines.append(
                ft.Container(
                    key=f"tile_check-{ident}",
                    bgcolor=theme.WARNING_SURFACE,
                    border_radius=6,
                    padding=ft.Padding.symmetric(horizontal=6, vertical=2),
                    content=ft.Text(
                        _("Quality check: read it again · {due}").format(due=due),
                        size=theme.BODY_PX,
                        color=theme.WARNING,
                    ),
                )
            )
        if row.flags:
            lines.append(
                ft.Text(
                    _("Server flags: {flags}").format(flags="; ".join(flag_words(code) for code in row.flags)),
                    key=f"tile_flags-{ident}",
                    size=theme.BODY_PX,
                    color=theme.WARNING,
                )
            )
        leading = {
            MeterProgress.DONE: ft.Icon(
                ft.Icons.CHECK_CIRCLE, color=theme.OK, tooltip=_("Done"), semantics_label=_("Done")
            ),
            MeterProgress.REREAD: ft.Icon(
                ft.Icons.REPLAY, color=theme.ERROR, tooltip=_("Re-read"), semantics_label=_("Re-read")
            ),
            MeterProgress.CHECK: ft.Icon(
                ft.Icons.FACT_CHECK, color=theme.WARNING, tooltip=_("Check read"), semantics_label=_("Check read")
            ),
            MeterProgress.TO_READ: ft.Icon(
                ft.Icons.ELECTRIC_METER, color=theme.MUTED, tooltip=_("To read"), semantics_label=_("To read")
            ),
        }[row.progress]
        name = meter.unit_code or meter.meter_number
        return ft.ListTile(
            key=f"meter-{ident}",
            leading=leading,
            title=ft.Text(_("{unit} · meter {number}").format(unit=name, number=meter.meter_number)),
            subtitle=ft.Column(lines, spacing=2, tight=True),
            min_height=72,
            tooltip=_("Open meter {number}").format(number=meter.meter_number),
            on_click=lambda _e, r=row: self.open_meter(r),
        )
