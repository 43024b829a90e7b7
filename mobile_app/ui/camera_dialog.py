"""Take the meter's photo with the device camera (flet-camera): a preview and a shutter button in a dialog."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import flet as ft
import flet_camera as fc

from mobile_app.i18n import _
from mobile_app.ui import theme
from mobile_app.ui.common import push_update

__all__ = ["CameraDialog"]

OnPhoto = Callable[[str, bytes], Awaitable[None]]


class CameraDialog(ft.AlertDialog):
    def __init__(self, on_photo: OnPhoto) -> None:
        self.on_photo = on_photo
        self.camera = fc.Camera(preview_enabled=True, width=320, height=240, key="camera")
        self.status = ft.Text(_("Starting the camera…"), key="camera_status", size=theme.BODY_PX)
        self.shutter = ft.FilledButton(
            _("Take photo"), icon=ft.Icons.CAMERA, key="shutter", disabled=True, on_click=self._take, height=48
        )
        super().__init__(
            modal=True,
            title=ft.Text(_("Photo of the meter")),
            content=ft.Column([self.camera, self.status], tight=True),
            actions=[self.shutter, ft.TextButton(_("Close"), key="camera_close", on_click=self._close, height=48)],
        )

    async def start(self) -> None:
        """Open the back camera (the one facing the meter), or say why there is none."""
        try:
            cameras = await self.camera.get_available_cameras()
            if not cameras:
                raise RuntimeError("no camera on this device")
            back = next((c for c in cameras if c.lens_direction == fc.CameraLensDirection.BACK), cameras[0])
            await self.camera.initialize(back, fc.ResolutionPreset.HIGH, enable_audio=False)
        except Exception:  # the platform reports a missing or refused camera as an error; its text is not for people
            self.status.value = _("Camera unavailable: use Add photo instead")
            push_update(self)
            return
        self.status.value = _("Point at the register and take the photo")
        self.shutter.disabled = False
        push_update(self)

    async def _take(self, _event: ft.Event[Any]) -> None:
        self.shutter.disabled = True
        self.status.value = _("Taking the photo…")
        push_update(self)
        try:
            data = await self.camera.take_picture()
        except Exception:
            self.status.value = _("The photo failed; try again")
            self.shutter.disabled = False
            push_update(self)
            return
        self.page.pop_dialog()
        await self.on_photo("camera.jpg", data)

    def _close(self, _event: ft.Event[Any]) -> None:
        self.page.pop_dialog()
