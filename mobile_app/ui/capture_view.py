"""Capture one reading: value, GPS fix, photo, or a skip reason; saved at once on the phone."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any
from uuid import UUID

import flet as ft

from mobile_app.capture import (
    BELOW_PREVIOUS_QUESTION,
    CORRECT_THE_VALUE,
    SKIP_LABELS,
    BelowPreviousAnswer,
    CaptureDraft,
    CaptureError,
    CaptureProblem,
    check_value,
    distance_m,
    distance_warning,
)
from mobile_app.device import DeviceError, Devices
from mobile_app.field_service import FieldService
from mobile_app.photos import PhotoError
from mobile_app.ui.camera_dialog import CameraDialog
from mobile_app.ui.common import local_time, mounted_page, push_update, show_message, title
from shared_billing.protocol import MeterAssignment, SkipReason

__all__ = ["CaptureView"]

# The engineer's answers to "below the previous reading?", in the words of the buttons.
ANSWER_LABELS = {
    BelowPreviousAnswer.ROLLOVER: "Rollover",
    BelowPreviousAnswer.REPLACED: "Replaced meter",
    BelowPreviousAnswer.TYPO: "Typo",
}


class CaptureView(ft.Column):
    def __init__(
        self,
        service: FieldService,
        devices: Devices,
        meter: MeterAssignment,
        *,
        on_done: Callable[[], None],
        replaces: UUID | None = None,
    ) -> None:
        self.service = service
        self.devices = devices
        self.on_done = on_done
        self.draft = CaptureDraft(meter=meter, replaces=replaces)
        previous = (
            f"Previous reading {meter.previous.value} on {local_time(meter.previous.captured_at)}"
            if meter.previous
            else "No previous reading"
        )
        shape = f"{meter.dials} dials" + (f", {meter.decimals} decimals" if meter.decimals else "")
        self.value = ft.TextField(
            label="Reading", key="value", keyboard_type=ft.KeyboardType.NUMBER, helper=shape, on_change=self._value
        )
        self.gps = ft.Text("No GPS fix yet", key="gps")
        self.gps_warning = ft.Text("", key="gps_warning", color=ft.Colors.AMBER_900)
        self.photo_status = ft.Text("No photo yet", key="photo_status")
        self.photo = ft.Image(src=b"", width=240, height=180, fit=ft.BoxFit.CONTAIN, visible=False, key="photo")
        self.skip = ft.Dropdown(
            label="Cannot read? Reason",
            key="skip_reason",
            options=[ft.DropdownOption(key=reason.value, text=label) for reason, label in SKIP_LABELS.items()],
            on_select=self._skip,
            width=320,
        )
        self.note = ft.TextField(label="Note", key="note", multiline=True, max_length=500)
        self.question = ft.Column(
            visible=False,
            key="below_previous",
            controls=[
                ft.Text(BELOW_PREVIOUS_QUESTION, color=ft.Colors.AMBER_900),
                ft.Row(
                    wrap=True,
                    controls=[self._answer_button(answer, label) for answer, label in ANSWER_LABELS.items()],
                ),
            ],
        )
        self.error = ft.Text("", key="capture_error", color=ft.Colors.RED_700)
        heading = f"{meter.unit_code or 'Meter'} · {meter.meter_number}"
        super().__init__(
            scroll=ft.ScrollMode.AUTO,
            expand=True,
            spacing=12,
            controls=[
                title(heading),
                ft.Text("Re-read requested: this reading replaces the earlier one") if replaces else ft.Container(),
                ft.Text(previous, key="previous"),
                self.value,
                ft.Row(
                    [
                        ft.OutlinedButton(
                            "Get location", icon=ft.Icons.MY_LOCATION, key="locate", on_click=self._locate
                        ),
                        self.gps,
                    ],
                    wrap=True,
                ),
                self.gps_warning,
                ft.Row(
                    [
                        ft.OutlinedButton(
                            "Take photo", icon=ft.Icons.PHOTO_CAMERA, key="camera_photo", on_click=self._open_camera
                        ),
                        ft.OutlinedButton(
                            "Add photo", icon=ft.Icons.PHOTO_LIBRARY, key="pick_photo", on_click=self._pick_photo
                        ),
                        self.photo_status,
                    ],
                    wrap=True,
                ),
                self.photo,
                self.skip,
                self.note,
                self.question,
                ft.Row(
                    [
                        ft.FilledButton("Save", icon=ft.Icons.SAVE, key="save", on_click=self._save),
                        ft.TextButton("Cancel", key="cancel", on_click=lambda e: self.on_done()),
                    ]
                ),
                self.error,
            ],
        )

    # --- events ---------------------------------------------------------------------------------------------------
    def _value(self, _event: ft.Event[Any]) -> None:
        self.draft.value_text = self.value.value or ""
        self.draft.below_previous_answer = None
        check = check_value(self.draft.meter, self.draft.value_text)
        self.value.error = check.field_error
        self.question.visible = check.asks_below_previous

    def _skip(self, _event: ft.Event[Any]) -> None:
        self.draft.skip_reason = SkipReason(self.skip.value) if self.skip.value else None

    def _answer(self, answer: BelowPreviousAnswer) -> None:
        self.draft.below_previous_answer = answer
        if answer is BelowPreviousAnswer.TYPO:
            self.error.value = CORRECT_THE_VALUE
            self.question.visible = False
        else:
            self.error.value = f"Noted: {ANSWER_LABELS[answer].lower()}. Save when ready."

    def _answer_button(self, answer: BelowPreviousAnswer, label: str) -> ft.OutlinedButton:
        return ft.OutlinedButton(label, key=f"below_{answer.value}", on_click=lambda _: self._answer(answer))

    async def _locate(self, _event: ft.Event[Any]) -> None:
        self.gps.value = "Locating…"
        self.update()
        try:
            fix = await self.devices.locate()
        except DeviceError as error:
            self.draft.fix = None  # an earlier fix from elsewhere must not ride along with this reading
            self.gps.value = "No GPS fix"
            self.gps_warning.value = error.message
            push_update(self)
            return
        self.draft.fix = fix
        accuracy = f"±{fix.accuracy_m:.0f} m" if fix.accuracy_m is not None else "accuracy unknown"
        away = distance_m(self.draft.meter, fix)
        where = f", {away:.0f} m from the meter" if away is not None else ""
        self.gps.value = f"{fix.lat:.5f}, {fix.lon:.5f} ({accuracy}{where})"
        self.gps_warning.value = distance_warning(self.draft.meter, fix, self.service.check_limits()) or ""
        push_update(self)

    async def _pick_photo(self, _event: ft.Event[Any]) -> None:
        try:
            picked = await self.devices.pick_photo()
        except DeviceError as error:
            self.photo_status.value = error.message
            return
        if picked is not None:
            await self._attach(*picked)

    async def _open_camera(self, _event: ft.Event[Any]) -> None:
        dialog = CameraDialog(on_photo=self._attach)
        self.page.show_dialog(dialog)
        await dialog.start()

    async def _attach(self, name: str, data: bytes) -> None:
        self.photo_status.value = "Compressing…"
        self.update()
        try:
            sha256, path = await asyncio.to_thread(self.service.attach_photo, data)
        except PhotoError as error:
            self.photo_status.value = f"Photo refused: {error.message}"
            push_update(self)
            return
        self.draft.photo_sha256, self.draft.photo_path = sha256, path
        self.photo.src = path.read_bytes()
        self.photo.visible = True
        self.photo_status.value = f"Photo {name} ready ({max(1, round(path.stat().st_size / 1024))} KB)"
        push_update(self)

    async def _save(self, _event: ft.Event[Any]) -> None:
        self.draft.note = self.note.value or ""
        self.draft.value_text = self.value.value or ""
        try:
            self.service.save(self.draft)
        except CaptureError as error:
            self.error.value = error.message
            if error.problem is CaptureProblem.BELOW_PREVIOUS:
                self.question.visible = True
            return
        page = mounted_page(self)
        if page is not None:
            show_message(page, "Saved on this phone; it will sync when online")
        self.on_done()
