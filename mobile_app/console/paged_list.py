"""A paged, searchable list for the console: a search box, one page of rows, and "21–40 of 1,234" with previous
and next. Each page is one ``Page`` call (``q``, ``limit``, ``offset``: docs/api.md), so a society of thousands of
units never loads whole into a browser tab.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import flet as ft

from mobile_app.api.errors import ApiClientError
from mobile_app.console.client import PageFetch
from mobile_app.i18n import N_, _
from mobile_app.ui.common import indian_number, push_update

__all__ = ["PAGE_SIZE", "PagedList", "range_text"]

PAGE_SIZE = 20


def range_text(offset: int, shown: int, total: int) -> str:
    """Where the page is in the list, in Indian grouping: "21–40 of 1,234"."""
    if shown == 0:
        return _("None of {total}").format(total=indian_number(total)) if total else _("Nothing found")
    return _("{first}–{last} of {total}").format(
        first=indian_number(offset + 1), last=indian_number(offset + shown), total=indian_number(total)
    )


class PagedList(ft.Column):
    """Rows of one page of ``fetch``; ``name`` prefixes the keys of its controls (``{name}_search``,
    ``{name}_prev``, ``{name}_next``, ``{name}_range``, ``{name}_items``)."""

    def __init__(
        self,
        name: str,
        fetch: PageFetch,
        row: Callable[[Any], ft.Control],
        *,
        page_size: int = PAGE_SIZE,
        hint: str = N_("Search"),
        empty: str = N_("Nothing here yet"),
    ) -> None:
        self.name = name
        self.fetch = fetch
        self.row = row
        self.page_size = page_size
        self.empty = empty
        self.start = 0
        self.total = 0
        self.query: str | None = None
        self.loads = 0  # loads started: only the newest may draw its page
        self.search = ft.TextField(
            label=_(hint),
            key=f"{name}_search",
            width=320,
            dense=True,
            on_submit=self._search,
            prefix_icon=ft.Icons.SEARCH,
        )
        self.range = ft.Text("", key=f"{name}_range")
        self.prev = ft.IconButton(
            ft.Icons.CHEVRON_LEFT, key=f"{name}_prev", tooltip=_("Previous page"), disabled=True, on_click=self._prev
        )
        self.next = ft.IconButton(
            ft.Icons.CHEVRON_RIGHT, key=f"{name}_next", tooltip=_("Next page"), disabled=True, on_click=self._next
        )
        self.items = ft.Column(spacing=4, key=f"{name}_items")
        super().__init__(
            spacing=8,
            controls=[
                ft.Row(
                    [
                        self.search,
                        ft.IconButton(ft.Icons.SEARCH, key=f"{name}_go", tooltip=_("Search"), on_click=self._search),
                        self.prev,
                        self.range,
                        self.next,
                    ]
                ),
                self.items,
            ],
        )

    async def load(self) -> None:
        """Show the current page again (after a change); a page left empty by a removal steps back one page.

        Loads may overlap (a save's reload while the first page is still on its way, a search typed meanwhile): a
        load that a newer one overtook draws nothing, so an older answer never hides a newer row or search."""
        self.loads += 1
        this_load = self.loads
        try:
            page = await self.fetch(self.query, self.page_size, self.start)
            if not page.items and page.total and self.start >= page.total and this_load == self.loads:
                self.start = max(0, (page.total - 1) // self.page_size * self.page_size)
                page = await self.fetch(self.query, self.page_size, self.start)
        except ApiClientError as error:
            if this_load != self.loads:
                return
            self.range.value = error.message
            self.range.color = ft.Colors.RED_700
            push_update(self)
            return
        if this_load != self.loads:
            return
        self.total = page.total
        self.range.value = range_text(self.start, len(page.items), page.total)
        self.range.color = None
        self.prev.disabled = self.start == 0
        self.next.disabled = self.start + len(page.items) >= page.total
        self.items.controls = [self.row(item) for item in page.items] or [
            ft.Text(
                _(self.empty) if not self.query else _("Nothing matches “{query}”").format(query=self.query),
                italic=True,
            )
        ]
        push_update(self)

    async def _search(self, _event: ft.Event[Any] | None = None) -> None:
        self.query = (self.search.value or "").strip() or None
        self.start = 0
        await self.load()

    async def _prev(self, _event: ft.Event[Any] | None = None) -> None:
        self.start = max(0, self.start - self.page_size)
        await self.load()

    async def _next(self, _event: ft.Event[Any] | None = None) -> None:
        if self.start + self.page_size < self.total:
            self.start += self.page_size
        await self.load()
