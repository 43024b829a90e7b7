"""The device's sensors for the field app: GPS (flet-geolocator) and photos (file picker; camera on phones).

Services are kept referenced on this object for the session's life (Flet drops unreferenced services).
"""

from __future__ import annotations

import flet as ft
import flet_geolocator as fg

from mobile_app.capture import Fix

__all__ = ["DeviceError", "Devices"]


class DeviceError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Devices:
    def __init__(self) -> None:
        self.geolocator = fg.Geolocator()
        self.file_picker = ft.FilePicker()

    async def locate(self) -> Fix:
        """The current fix from the device; the reading never takes a typed position."""
        try:
            position = await self.geolocator.get_current_position()
        except Exception as error:  # the client reports denial, disabled services and time-outs as errors
            text = str(error)
            if "denied" in text.lower():
                raise DeviceError(
                    "Location permission denied: allow location to record where the meter was read"
                ) from error
            raise DeviceError(f"No GPS fix: {text}") from error
        return Fix(lat=position.latitude, lon=position.longitude, accuracy_m=position.accuracy)

    async def pick_photo(self) -> tuple[str, bytes] | None:
        """A photo chosen on the device (the camera roll, or the camera where the platform offers it)."""
        files = await self.file_picker.pick_files(
            dialog_title="Photo of the meter", file_type=ft.FilePickerFileType.IMAGE, with_data=True
        )
        if not files:
            return None
        picked = files[0]
        if picked.bytes is None:
            raise DeviceError("The photo could not be read")
        return picked.name, picked.bytes
