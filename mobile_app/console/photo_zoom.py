"""A meter photo full-size with zoom and pan, to check the digits the engineer typed against the dials.

One dialog per view, shown again with each photo: Flet "freezes" a new control that takes the key of one it drew
before, and a frozen dialog can neither be zoomed nor closed."""

from __future__ import annotations

from typing import Any

import flet as ft

from mobile_app.i18n import _
from mobile_app.ui.common import push_update

__all__ = ["PhotoZoom"]

# Pinch, wheel or the buttons: up to 8× shows a register's smallest drum on a 1,600-pixel photo.
MAX_SCALE = 8
STEP = 1.5


class PhotoZoom(ft.AlertDialog):
    def __init__(self) -> None:
        self.image = ft.Image(src=b"", fit=ft.BoxFit.CONTAIN, key="zoom_image")
        self.viewer = ft.InteractiveViewer(
            content=self.image,
            min_scale=1,
            max_scale=MAX_SCALE,
            boundary_margin=ft.Margin.all(40),
            width=880,
            height=620,
            key="zoom_viewer",
        )
        self.caption = ft.Text("")
        super().__init__(
            key="photo_zoom",
            title=self.caption,
            content=self.viewer,
            actions=[
                ft.IconButton(ft.Icons.ZOOM_IN, key="zoom_in", tooltip=_("Zoom in"), on_click=self._zoom_in),
                ft.IconButton(ft.Icons.ZOOM_OUT, key="zoom_out", tooltip=_("Zoom out"), on_click=self._zoom_out),
                ft.IconButton(ft.Icons.FIT_SCREEN, key="zoom_reset", tooltip=_("Whole photo"), on_click=self._reset),
                ft.TextButton(_("Close"), key="zoom_close", on_click=self._close),
            ],
        )
        self.scale = 1.0  # what the buttons asked for; a pinch is the viewer's own

    def show(self, page: ft.Page, photo: bytes, caption: str) -> None:
        self.image.src = photo
        self.caption.value = caption
        self.scale = 1.0
        if self.open:
            push_update(self)
        else:
            page.show_dialog(self)

    async def _zoom_in(self, _event: ft.Event[Any] | None = None) -> None:
        if self.scale * STEP <= MAX_SCALE:
            self.scale *= STEP
            await self.viewer.zoom(STEP)

    async def _zoom_out(self, _event: ft.Event[Any] | None = None) -> None:
        if self.scale / STEP >= 1:
            self.scale /= STEP
            await self.viewer.zoom(1 / STEP)

    async def _reset(self, _event: ft.Event[Any] | None = None) -> None:
        self.scale = 1.0
        await self.viewer.reset()

    def _close(self, _event: ft.Event[Any] | None = None) -> None:
        self.open = False
        push_update(self)
