"""Capture one reading: value, GPS fix, photo, or a skip reason; saved at once on the phone.

While the engineer types, the screen shows the consumption, whether the value is inside today's expected window
and an estimate of the unit's own charges. The rules are ``mobile_app.capture``'s; this view only shows them. The
Save button lives in a bar below the scrolling form, so no question or card can push it out of reach.

Before the engineer leaves the meter: the photo's checks (blurred, or like one already taken) ask for a retake or
a reason, and the meter's label (scanned on purpose, or found on the meter photo) confirms the meter or names
another. In a meter room (``room``) the room's fix stands in for "Get location" and Save moves to the next meter.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal
from typing import Any
from uuid import UUID

import flet as ft
from pydantic import ValidationError

from mobile_app.capture import (
    BELOW_PREVIOUS_NO_ROLLOVER,
    BELOW_PREVIOUS_QUESTION,
    CORRECT_THE_VALUE,
    OVERRIDE_MAX_CHARS,
    SKIP_LABELS,
    BelowPreviousAnswer,
    CaptureDraft,
    CaptureError,
    CaptureProblem,
    below_previous_answers,
    check_value,
    consumption_units,
    distance_m,
    distance_warning,
    is_outside_window,
    photo_warnings,
)
from mobile_app.device import DeviceError, Devices
from mobile_app.field_service import FieldService
from mobile_app.i18n import N_, _
from mobile_app.label_check import check_label, label_message
from mobile_app.label_scan import LabelVerdict
from mobile_app.meter_room import RoomStep
from mobile_app.photos import PhotoError
from mobile_app.route_model import RereadTask
from mobile_app.ui import theme
from mobile_app.ui.camera_dialog import CameraDialog
from mobile_app.ui.common import local_time, mounted_page, push_update, rupees, show_message, title
from mobile_app.ui.meter_detail import reread_banner, window_line
from shared_billing.protocol import MeterAssignment, ReadingV3, Replacement, SkipReason

__all__ = ["CaptureView"]

# The engineer's answers to "below the previous reading?", in the words of the buttons.
ANSWER_LABELS = {
    BelowPreviousAnswer.ROLLOVER: N_("Rollover"),
    BelowPreviousAnswer.REPLACED: N_("Replaced meter"),
    BelowPreviousAnswer.TYPO: N_("Typo"),
}
NOTED = {
    BelowPreviousAnswer.ROLLOVER: N_("Noted: rollover. Save when ready."),
    BelowPreviousAnswer.REPLACED: N_("Noted: replaced meter. Fill in the replacement below, then save."),
}
ESTIMATE_LABEL = N_("Estimate: this unit's energy and fixed charge only")
_LABEL_COLOURS = {LabelVerdict.CONFIRMED: theme.OK, LabelVerdict.OTHER_METER: theme.WARNING}


def _number_field(label: str, key: str, **extra: Any) -> ft.TextField:
    return ft.TextField(
        label=label,
        key=key,
        keyboard_type=ft.KeyboardType.NUMBER,
        text_size=18,
        error_max_lines=6,  # Flutter cuts an error to one line unless told otherwise
        **extra,
    )


class CaptureView(ft.Column):
    def __init__(
        self,
        service: FieldService,
        devices: Devices,
        meter: MeterAssignment,
        *,
        on_done: Callable[[], None],
        replaces: UUID | None = None,
        task: RereadTask | None = None,
        room: RoomStep | None = None,
        on_saved: Callable[[ReadingV3], None] | None = None,
        on_switch: Callable[[MeterAssignment, CaptureDraft], None] | None = None,
        carried: CaptureDraft | None = None,
    ) -> None:
        self.service = service
        self.devices = devices
        self.on_done = on_done
        self.on_saved = on_saved
        self.on_switch = on_switch  # open another meter of the route, the label having named it
        self.room = room
        replaces = task.reading_uuid if task is not None else replaces
        self.draft = CaptureDraft(meter=meter, replaces=replaces, window=service.window(meter))
        if room is not None:
            self.draft.fix, self.draft.room_session = room.fix, room.session
        self.label_from_photo = False  # the label came off the meter photo, not the Scan label button
        previous = (
            _("Previous reading {value} on {date}").format(
                value=meter.previous.value, date=local_time(meter.previous.captured_at)
            )
            if meter.previous
            else _("No previous reading")
        )
        shape = _("{dials} dials").format(dials=meter.dials) + (
            _(", {decimals} decimals").format(decimals=meter.decimals) if meter.decimals else ""
        )
        self.value = _number_field(_("Reading"), "value", helper=shape, on_change=self._value, autofocus=True)
        self.consumption = ft.Text("", key="consumption", size=18, weight=ft.FontWeight.W_600)
        self.window = ft.Text(window_line(service, meter), key="window", size=theme.BODY_PX)
        self.outside = ft.Text(
            "", key="outside_window", size=theme.BODY_PX, color=theme.WARNING, weight=ft.FontWeight.W_600
        )
        self.confirm = _number_field(
            _("Type the value again to confirm"), "confirm_value", visible=False, on_change=self._confirmed
        )
        self.gps = ft.Text(_("No GPS fix yet"), key="gps", size=theme.BODY_PX)
        self.gps_warning = ft.Text("", key="gps_warning", color=theme.WARNING, size=theme.BODY_PX)
        self.photo_status = ft.Text(_("No photo yet"), key="photo_status", size=theme.BODY_PX)
        self.photo = ft.Image(src=b"", width=240, height=180, fit=ft.BoxFit.CONTAIN, visible=False, key="photo")
        self.photo_warning = ft.Text(
            "", key="photo_warning", size=theme.BODY_PX, color=theme.WARNING, weight=ft.FontWeight.W_600
        )
        self.photo_override = ft.TextField(
            label=_("Reason to keep this photo"),
            key="photo_override",
            max_length=OVERRIDE_MAX_CHARS,
            text_size=theme.BODY_PX,
            visible=False,
            on_change=self._override,
        )
        self.label_status = ft.Text("", key="label_status", size=theme.BODY_PX, weight=ft.FontWeight.W_600)
        self.switch = theme.touch(
            ft.OutlinedButton("", key="switch_meter", icon=ft.Icons.SWAP_HORIZ, visible=False, on_click=self._switch)
        )
        self.label_other: MeterAssignment | None = None
        self.skip = ft.Dropdown(
            label=_("Cannot read? Reason"),
            key="skip_reason",
            options=[ft.DropdownOption(key=reason.value, text=_(label)) for reason, label in SKIP_LABELS.items()],
            on_select=self._skip,
            width=320,
            text_size=theme.BODY_PX,
        )
        self.note = ft.TextField(label=_("Note"), key="note", multiline=True, max_length=500, text_size=theme.BODY_PX)
        self.question_text = ft.Text(_(BELOW_PREVIOUS_QUESTION), key="below_question", color=theme.WARNING, size=18)
        self.answers = {answer: self._answer_button(answer, _(label)) for answer, label in ANSWER_LABELS.items()}
        self.question = ft.Column(
            visible=False,
            key="below_previous",
            controls=[self.question_text, ft.Row(wrap=True, controls=list(self.answers.values()))],
        )
        self.old_final = _number_field(_("Old meter's final reading"), "old_final")
        self.new_number = ft.TextField(label=_("New meter number"), key="new_meter_number", text_size=18)
        self.new_initial = _number_field(_("New meter's first reading (when installed)"), "new_initial")
        self.replacement = ft.Container(
            key="replacement_form",
            visible=False,
            bgcolor=theme.WARNING_SURFACE,
            border_radius=8,
            padding=12,
            content=ft.Column(
                tight=True,
                spacing=8,
                controls=[
                    ft.Text(_("Meter replaced"), size=18, weight=ft.FontWeight.BOLD),
                    ft.Text(
                        _("The reading above is the new meter's register now. The supervisor confirms the change."),
                        size=theme.BODY_PX,
                        color=theme.TEXT,
                    ),
                    self.old_final,
                    self.new_number,
                    self.new_initial,
                ],
            ),
        )
        self.estimate_units = ft.Text("", key="estimate_amount", size=theme.BODY_PX, color=theme.TEXT)
        self.estimate_warning = ft.Text(
            "", key="estimate_warning", size=theme.BODY_PX, color=theme.WARNING, weight=ft.FontWeight.W_600
        )
        self.estimate = ft.Container(
            key="estimate",
            visible=False,
            bgcolor=theme.WARNING_SURFACE,
            border_radius=8,
            padding=12,
            content=ft.Column(
                tight=True,
                spacing=4,
                controls=[
                    ft.Text(_(ESTIMATE_LABEL), key="estimate_label", size=theme.BODY_PX, weight=ft.FontWeight.BOLD),
                    self.estimate_units,
                    self.estimate_warning,
                ],
            ),
        )
        self.error = theme.error_text("capture_error")
        heading = _("{unit} · {number}").format(unit=meter.unit_code or _("Meter"), number=meter.meter_number)
        top: list[ft.Control] = [title(heading)]
        if room is not None:
            top.insert(
                0,
                ft.Text(
                    _("Meter room · {position} of {total}").format(position=room.position, total=room.total),
                    key="room_progress",
                    size=18,
                    weight=ft.FontWeight.W_600,
                    color=theme.INFO,
                ),
            )
        if task is not None:
            top.append(reread_banner(task, "capture_reread"))
        elif replaces is not None:
            top.append(ft.Text(_("Re-read requested: this reading replaces the earlier one"), size=theme.BODY_PX))
        form = ft.Column(
            scroll=ft.ScrollMode.AUTO,
            expand=True,
            spacing=12,
            controls=[
                *top,
                ft.Text(previous, key="previous", size=theme.BODY_PX),
                self.window,
                self.value,
                self.consumption,
                self.outside,
                self.confirm,
                self.question,
                self.replacement,
                self.estimate,
                self._location_row(),
                self.gps_warning,
                ft.Row(
                    [
                        theme.touch(
                            ft.OutlinedButton(
                                _("Take photo"),
                                icon=ft.Icons.PHOTO_CAMERA,
                                key="camera_photo",
                                on_click=self._open_camera,
                            )
                        ),
                        theme.touch(
                            ft.OutlinedButton(
                                _("Add photo"), icon=ft.Icons.PHOTO_LIBRARY, key="pick_photo", on_click=self._pick_photo
                            )
                        ),
                        self.photo_status,
                    ],
                    wrap=True,
                ),
                self.photo,
                self.photo_warning,
                self.photo_override,
                ft.Row(
                    [
                        theme.touch(
                            ft.OutlinedButton(
                                _("Scan label"),
                                icon=ft.Icons.QR_CODE_SCANNER,
                                key="scan_label",
                                tooltip=_("Read the QR code on the meter's label"),
                                on_click=self._pick_label,
                            )
                        ),
                        self.label_status,
                    ],
                    wrap=True,
                ),
                self.switch,
                self.skip,
                self.note,
            ],
        )
        # Outside the scrolling form: Save stays on screen whatever the form grows by.
        self.save_bar = ft.Container(
            key="save_bar",
            bgcolor=theme.SURFACE,
            padding=ft.Padding.only(top=8),
            content=ft.Column(
                tight=True,
                spacing=6,
                controls=[
                    self.error,
                    ft.Row(
                        [
                            theme.touch(
                                ft.FilledButton(
                                    _("Save & next") if room is not None else _("Save"),
                                    icon=ft.Icons.SAVE,
                                    key="save",
                                    expand=True,
                                    on_click=self._save,
                                )
                            ),
                            theme.touch(
                                ft.TextButton(
                                    _("Later") if room is not None else _("Cancel"),
                                    key="cancel",
                                    tooltip=_("Leave this meter for later: nothing is saved") if room else None,
                                    on_click=lambda e: self.on_done(),
                                )
                            ),
                        ]
                    ),
                ],
            ),
        )
        super().__init__(expand=True, spacing=0, controls=[form, self.save_bar])
        if room is not None:
            self.gps_warning.value = distance_warning(meter, room.fix, service.check_limits()) or ""
        if carried is not None:
            self._carry(carried)

    def _location_row(self) -> ft.Control:
        if self.room is None:
            locate = ft.OutlinedButton(
                _("Get location"), icon=ft.Icons.MY_LOCATION, key="locate", on_click=self._locate
            )
            return ft.Row([theme.touch(locate), self.gps], wrap=True)
        # One fix for the whole room, taken when it started.
        fix = self.room.fix
        self.gps.value = (
            _("The room's location: {lat}, {lon}").format(lat=f"{fix.lat:.5f}", lon=f"{fix.lon:.5f}")
            if fix is not None
            else _("The room has no GPS fix")
        )
        return self.gps

    # --- events ---------------------------------------------------------------------------------------------------
    def _value(self, _event: ft.Event[Any] | None) -> None:
        self.draft.value_text = self.value.value or ""
        self.draft.below_previous_answer = None
        self.replacement.visible = False
        self.error.value = ""
        check = check_value(self.draft.meter, self.draft.value_text)
        self.value.error = check.field_error
        value = check.value
        self._show_consumption(value if check.problem is None else None)
        outside = value is not None and check.problem is None and is_outside_window(value, self.draft.window)
        self.outside.value = (
            _("Outside the expected range: type the value again below to confirm it; a photo is required.")
            if outside
            else ""
        )
        self.confirm.visible = outside
        if not outside:
            self.confirm.value = ""
            self.draft.confirm_text = ""
        self.question.visible = check.asks_below_previous
        if check.asks_below_previous and value is not None:
            offered = below_previous_answers(self.draft.meter, value, self.service.clock())
            for answer, button in self.answers.items():
                button.visible = answer in offered
            rollover = BelowPreviousAnswer.ROLLOVER in offered
            self.question_text.value = _(BELOW_PREVIOUS_QUESTION if rollover else BELOW_PREVIOUS_NO_ROLLOVER)

    def _confirmed(self, _event: ft.Event[Any]) -> None:
        self.draft.confirm_text = self.confirm.value or ""
        again = check_value(self.draft.meter, self.draft.confirm_text)
        first = check_value(self.draft.meter, self.draft.value_text)
        self.confirm.error = (
            _("Not the same value") if self.draft.confirm_text.strip() and again.value != first.value else None
        )

    def _show_consumption(self, value: Decimal | None) -> None:
        meter = self.draft.meter
        units = consumption_units(meter, value) if value is not None else None
        if value is not None and meter.previous is None:
            self.consumption.value = _("No previous reading: no consumption to show")
        elif units is None:
            self.consumption.value = ""
        elif Decimal(meter.multiplier) != 1:
            self.consumption.value = _("Consumption: {units} units ({difference} × {multiplier})").format(
                units=units,
                difference=value - Decimal(meter.previous.value) if value is not None and meter.previous else "",
                multiplier=meter.multiplier,
            )
        else:
            self.consumption.value = _("Consumption: {units} units").format(units=units)
        estimate = self.service.estimate(meter, value) if units is not None and value is not None else None
        self.estimate.visible = estimate is not None
        if estimate is None:
            return
        self.estimate_units.value = _("{units} units: energy {energy}, fixed {fixed}, about {total}").format(
            units=estimate.units,
            energy=rupees(estimate.energy),
            fixed=rupees(estimate.fixed),
            total=rupees(estimate.total),
        )
        warnings = []
        if estimate.crosses_slab:
            warnings.append(_("These units reach a dearer slab than this unit's usual month."))
        if estimate.far_above_usual and estimate.usual_total is not None:
            warnings.append(
                _("Far above the usual bill of about {usual}: check the reading.").format(
                    usual=rupees(estimate.usual_total)
                )
            )
        self.estimate_warning.value = " ".join(warnings)
        self.estimate_warning.visible = bool(warnings)

    def _skip(self, _event: ft.Event[Any]) -> None:
        self.draft.skip_reason = SkipReason(self.skip.value) if self.skip.value else None

    def _answer(self, answer: BelowPreviousAnswer) -> None:
        self.draft.below_previous_answer = answer
        self.replacement.visible = answer is BelowPreviousAnswer.REPLACED
        if answer is BelowPreviousAnswer.TYPO:
            self.error.value = _(CORRECT_THE_VALUE)
            self.question.visible = False
        else:
            self.error.value = _(NOTED[answer])

    def _answer_button(self, answer: BelowPreviousAnswer, label: str) -> ft.OutlinedButton:
        return theme.touch(
            ft.OutlinedButton(label, key=f"below_{answer.value}", on_click=lambda _: self._answer(answer))
        )

    async def _locate(self, _event: ft.Event[Any]) -> None:
        self.gps.value = _("Locating…")
        self.update()
        try:
            fix = await self.devices.locate()
        except DeviceError as error:
            self.draft.fix = None  # an earlier fix from elsewhere must not ride along with this reading
            self.gps.value = _("No GPS fix")
            self.gps_warning.value = error.message
            push_update(self)
            return
        self.draft.fix = fix
        accuracy = (
            _("±{metres} m").format(metres=f"{fix.accuracy_m:.0f}")
            if fix.accuracy_m is not None
            else _("accuracy unknown")
        )
        away = distance_m(self.draft.meter, fix)
        where = _(", {metres} m from the meter").format(metres=f"{away:.0f}") if away is not None else ""
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
        self.photo_status.value = _("Compressing…")
        self.update()
        try:
            attached = await asyncio.to_thread(self.service.attach_checked_photo, data)
        except PhotoError as error:
            self.photo_status.value = _("Photo refused: {reason}").format(reason=error.message)
            push_update(self)
            return
        path = attached.path
        self.draft.photo_sha256, self.draft.photo_path = attached.sha256, path
        self.draft.photo_checks = attached.checks
        self.photo.src = path.read_bytes()
        self.photo.visible = True
        self.photo_status.value = _("Photo {name} ready ({size} KB)").format(
            name=name, size=max(1, round(path.stat().st_size / 1024))
        )
        warnings = photo_warnings(attached.checks)
        self.photo_warning.value = " ".join(warnings)
        self.photo_override.visible = bool(warnings)
        push_update(self)
        if self.draft.label is None or self.label_from_photo:
            # The label may be on the meter photo itself: read it there too (~50–120 ms, after the photo shows).
            scanned = await asyncio.to_thread(self.service.read_label, path.read_bytes())
            if scanned is not None or self.label_from_photo:
                self.label_from_photo = scanned is not None
                self._show_label(scanned, quiet=scanned is None)
                push_update(self)

    def _override(self, _event: ft.Event[Any]) -> None:
        self.draft.photo_override = self.photo_override.value or ""

    async def _pick_label(self, _event: ft.Event[Any]) -> None:
        try:
            picked = await self.devices.pick_photo()
        except DeviceError as error:
            self.label_status.value = error.message
            return
        if picked is None:
            return
        self.label_status.value = _("Reading the label…")
        self.label_status.color = theme.TEXT
        self.update()
        scanned = await asyncio.to_thread(self.service.read_label, picked[1])
        self.label_from_photo = False
        self._show_label(scanned)
        push_update(self)

    def _show_label(self, scanned: str | None, *, quiet: bool = False) -> None:
        """The label's verdict on screen and in the draft; ``quiet``: nothing found, and nobody asked."""
        check = check_label(scanned, self.draft.meter, self.service.meters())
        self.draft.label = check.scanned
        self.label_status.value = "" if quiet else label_message(check, self.draft.meter)
        self.label_status.color = _LABEL_COLOURS.get(check.verdict, theme.WARNING)
        self.label_other = check.other if self.on_switch is not None else None
        self.switch.visible = self.label_other is not None
        if self.label_other is not None:
            self.switch.content = _("Switch to meter {number}").format(number=self.label_other.meter_number)

    def _switch(self, _event: ft.Event[Any]) -> None:
        if self.label_other is not None and self.on_switch is not None:
            self.draft.value_text = self.value.value or ""
            self.draft.photo_override = self.photo_override.value or ""
            self.on_switch(self.label_other, self.draft)

    def _carry(self, carried: CaptureDraft) -> None:
        """What was done at the wrong meter's screen, kept on this one: the value, fix, photo, its reason, label."""
        draft = self.draft
        draft.fix = carried.fix
        draft.photo_sha256, draft.photo_path = carried.photo_sha256, carried.photo_path
        draft.photo_checks, draft.photo_override = carried.photo_checks, carried.photo_override
        self.value.value = carried.value_text
        self._value(None)
        if draft.photo_path is not None:
            self.photo.src = draft.photo_path.read_bytes()
            self.photo.visible = True
            self.photo_status.value = _("Photo ready")
            warnings = photo_warnings(draft.photo_checks)
            self.photo_warning.value = " ".join(warnings)
            self.photo_override.value = carried.photo_override
            self.photo_override.visible = bool(warnings)
        if draft.fix is not None:
            self.gps.value = f"{draft.fix.lat:.5f}, {draft.fix.lon:.5f}"
            self.gps_warning.value = distance_warning(draft.meter, draft.fix, self.service.check_limits()) or ""
        self._show_label(carried.label)

    def _replacement(self) -> Replacement | None:
        """The replacement form as the protocol's ``Replacement``; None (and the reason shown) when incomplete."""
        old_final = check_value(self.draft.meter.model_copy(update={"previous": None}), self.old_final.value or "")
        self.old_final.error = old_final.field_error
        try:
            return Replacement(
                old_final_value=(self.old_final.value or "").strip(),
                new_meter_number=(self.new_number.value or "").strip(),
                new_initial_value=(self.new_initial.value or "").strip(),
            )
        except ValidationError:
            # Which field is wrong, in words the engineer can act on (pydantic's text is for developers).
            self.error.value = _(
                "Fill in the replacement: the old meter's final reading, the new meter's number and its first"
                " reading, as numbers on the registers."
            )
            return None

    async def _save(self, _event: ft.Event[Any]) -> None:
        self.draft.note = self.note.value or ""
        self.draft.value_text = self.value.value or ""
        self.draft.confirm_text = self.confirm.value or ""
        self.draft.photo_override = self.photo_override.value or ""
        try:
            if self.draft.below_previous_answer is BelowPreviousAnswer.REPLACED and self.draft.skip_reason is None:
                replacement = self._replacement()
                if replacement is None:
                    return
                # The value is the NEW meter's register: the old meter's window and question do not apply to it.
                draft = replace(self.draft, window=None, below_previous_answer=None)
                saved = self.service.save_replacement(draft, replacement)
            else:
                saved = self.service.save(self.draft)
        except CaptureError as error:
            self.error.value = error.message
            if error.problem in (CaptureProblem.BELOW_PREVIOUS, CaptureProblem.ROLLOVER_NOT_PLAUSIBLE):
                self.question.visible = True
            if error.problem in (CaptureProblem.CONFIRMATION_NEEDED, CaptureProblem.CONFIRMATION_MISMATCH):
                self.confirm.visible = True
            if error.problem is CaptureProblem.PHOTO_CHECK_REASON:
                self.photo_override.visible = True
            return
        page = mounted_page(self)
        if page is not None:
            show_message(page, _("Saved on this phone; it will sync when online"))
        if self.on_saved is not None:
            self.on_saved(saved)
        self.on_done()
