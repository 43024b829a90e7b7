"""What a review card says about one reading: where and by whom it was read, the value against the meter's history
and expected window, the period's other reads, flags in words, photo and map. The buttons are the view's
(mobile_app/console/review.py); these are the words and pictures."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import tzinfo
from decimal import Decimal, InvalidOperation
from typing import Any

import flet as ft

from mobile_app.console.location_map import location_map
from mobile_app.i18n import N_, _
from mobile_app.reading_states import FLAG_WORDS
from mobile_app.ui.common import day, indian_number, society_time
from shared_billing.api_models import ReviewItem
from shared_billing.checks import ReadingFlag
from shared_billing.labels import LabelVerdict
from shared_billing.protocol import OcrVerdict

__all__ = [
    "FLAG_TEXT",
    "PHOTO_SIZE",
    "EvidenceLine",
    "evidence_lines",
    "fact_lines",
    "flag_chips",
    "flag_words",
    "ocr_line",
    "outside_window",
    "picture",
    "shown",
    "shown_flags",
]

# One home for the flags' words, shared with the field app (marked there, translated where shown).
FLAG_TEXT = FLAG_WORDS
PHOTO_SIZE = (240, 180)
# Dark text on a light amber chip: 4.5:1 and more, and a chip that does not look switched off.
_CHIP_TEXT = ft.Colors.BLACK
_CHIP_FILL = ft.Colors.AMBER_100


def shown_flags(item: ReviewItem) -> list[ReadingFlag]:
    """The item's flags, then "photo pending" from the item's own ``photo_pending`` (the flags are what the checks
    found, stored with the reading), once even if a server still lists it among the flags too."""
    pending = [ReadingFlag.PHOTO_PENDING] if item.photo_pending else []
    return list(dict.fromkeys([*item.flags, *pending]))


def flag_words(code: str) -> str:
    """A flag in the session's words; a code this console does not know yet is shown as it is."""
    try:
        flag = ReadingFlag(code)
    except ValueError:
        return code
    return _(FLAG_TEXT[flag]) if flag in FLAG_TEXT else code


def flag_chips(item: ReviewItem, on_flag: Callable[[ReadingFlag], Any]) -> list[ft.Control]:
    """The flags as chips; a click on one is ``on_flag(flag)`` (the view narrows the list to it). A chip without
    a click is drawn as switched off by Flutter, which reads as "no longer applies"."""
    return [
        ft.Chip(
            label=ft.Text(flag_words(flag), color=_CHIP_TEXT),
            bgcolor=_CHIP_FILL,
            leading=ft.Icon(ft.Icons.FLAG, color=_CHIP_TEXT, size=16),
            tooltip=_("Show the readings with this flag"),
            on_click=lambda _event, flag=flag: on_flag(flag),
        )
        for flag in shown_flags(item)
    ]


def shown(value: str | None) -> str:
    """A register value as typed, in Indian grouping (its decimals kept); "—" for none."""
    if value is None:
        return "—"
    try:
        return indian_number(Decimal(value))
    except (InvalidOperation, ValueError):
        return value


def outside_window(item: ReviewItem) -> bool:
    """Whether the value lies outside the window the meter's history expected (the server's own bounds)."""
    if item.window is None or item.value is None:
        return False
    try:
        value = Decimal(item.value)
    except InvalidOperation:
        return False
    return not Decimal(item.window.low) <= value <= Decimal(item.window.high)


# What the server read off the photo (docs/review.md "OCR"), in the card's words; a mismatch is the one to look at.
OCR_WORDS = {
    OcrVerdict.PENDING: N_("Photo not read by the server yet"),
    OcrVerdict.MATCH: N_("The photo shows {value} ({confidence} % sure): agrees"),
    OcrVerdict.MISMATCH: N_("The photo shows {value} ({confidence} % sure), not the typed value"),
    OcrVerdict.UNREADABLE: N_("No register value found on the photo"),
}


def ocr_line(item: ReviewItem) -> ft.Control | None:
    """The server's read of the photo, or None when there is none to show (no photo, OCR off)."""
    if item.ocr is None:
        return None
    confidence = "—" if item.ocr.confidence is None else f"{item.ocr.confidence * 100:.0f}"
    # As the register shows it, leading zeros and all: what the supervisor compares with the photo.
    words = _(OCR_WORDS[item.ocr.verdict]).format(value=item.ocr.value or "—", confidence=confidence)
    mismatch = item.ocr.verdict is OcrVerdict.MISMATCH
    return ft.Text(
        words,
        key=f"ocr-{item.uuid}",
        color=ft.Colors.RED_900 if mismatch else None,
        weight=ft.FontWeight.BOLD if mismatch else None,
        italic=item.ocr.verdict is OcrVerdict.PENDING,
    )


@dataclass(frozen=True)
class EvidenceLine:
    """One line of what the reading's evidence says (docs/review.md "Evidence"); ``alarm``: drawn in red."""

    key: str
    words: str
    alarm: bool = False


def evidence_lines(item: ReviewItem) -> list[EvidenceLine]:
    """The evidence in the card's words: each photo warning the engineer overrode with their reason, what the label
    said of the meter, the meter-room session. The label's confirmation stands where the GPS distance would."""
    evidence, uuid = item.evidence, item.uuid
    if evidence is None:
        return []
    lines: list[EvidenceLine] = []
    checks = evidence.photo_checks
    reason = checks.override_reason if checks is not None else None
    if checks is not None and checks.blurred:
        lines.append(
            EvidenceLine(f"photo-blurred-{uuid}", _("Photo blurred — engineer: '{reason}'").format(reason=reason))
        )
    if checks is not None and checks.reused:
        lines.append(
            EvidenceLine(
                f"photo-reused-{uuid}",
                _("Photo like another of this route ({bits} bits) — '{reason}'").format(
                    bits=checks.reuse_distance, reason=reason
                ),
            )
        )
    if item.presence_by_label:
        lines.append(EvidenceLine(f"label-{uuid}", _("Label confirms meter {number}").format(number=item.meter_number)))
    elif evidence.label_verdict is LabelVerdict.OTHER_METER:
        lines.append(
            EvidenceLine(
                f"label-{uuid}", _("Label names another meter: '{text}'").format(text=evidence.label), alarm=True
            )
        )
    if evidence.room_session is not None:
        # The session's first characters: enough to tell the cards of one meter room from another's.
        session = str(evidence.room_session)[:8]
        lines.append(EvidenceLine(f"room-session-{uuid}", _("Meter room session {session}").format(session=session)))
    return lines


def _evidence_text(line: EvidenceLine) -> ft.Control:
    return ft.Text(
        line.words,
        key=line.key,
        color=ft.Colors.RED_900 if line.alarm else None,
        weight=ft.FontWeight.BOLD if line.alarm else None,
    )


def _short_day(moment: Any, zone: tzinfo) -> str:
    return day(moment.astimezone(zone).date()) if moment is not None else "—"


def fact_lines(item: ReviewItem, zone: tzinfo, on_flag: Callable[[ReadingFlag], Any]) -> list[ft.Control]:
    """The card's words, top to bottom (``on_flag``: a flag chip's click)."""
    uuid = item.uuid
    value = shown(item.value) if item.value is not None else _("skipped: {reason}").format(reason=item.skip_reason)
    lines: list[ft.Control] = [
        ft.Text(
            _("{unit} · meter {meter} · block {block}").format(
                unit=item.unit_code, meter=item.meter_number, block=item.block_code
            ),
            weight=ft.FontWeight.BOLD,
        ),
        ft.Text(
            _("Reading {value} · previous {previous} · consumption {consumption} units").format(
                value=value,
                previous=shown(item.previous_value),
                consumption=shown(item.consumption) if item.consumption is not None else "—",
            ),
            key=f"facts-{uuid}",
            size=16,
        ),
    ]
    if item.window is not None:
        lines.append(
            ft.Text(
                _("Expected {low} to {high} (about {expected})").format(
                    low=shown(item.window.low), high=shown(item.window.high), expected=shown(item.window.expected)
                ),
                key=f"window-{uuid}",
                color=ft.Colors.RED_900 if outside_window(item) else None,
                weight=ft.FontWeight.BOLD if outside_window(item) else None,
            )
        )
    else:
        lines.append(ft.Text(_("Too little history for an expected range"), key=f"window-{uuid}", italic=True))
    if item.history:
        reads = " · ".join(f"{shown(read.value)} ({_short_day(read.captured_at, zone)})" for read in item.history)
        lines.append(ft.Text(_("Earlier reads: {reads}").format(reads=reads), key=f"history-{uuid}"))
    where = (
        " · " + _("{distance} m from the meter").format(distance=f"{item.distance_m:.0f}")
        if item.distance_m is not None
        else ""
    )
    accuracy = f" (±{item.gps_accuracy_m:.0f} m)" if item.gps_accuracy_m is not None else ""
    if item.presence_by_label:
        # The label proved the engineer was at the meter: the fix (on the map) is not the question any more.
        where = accuracy = ""
    lines.append(
        ft.Text(
            _("Read {when}").format(when=society_time(item.captured_at, zone)) + where + accuracy,
            key=f"read-{uuid}",
        )
    )
    # Beside the read line: the label's word on the meter stands where the GPS distance would.
    lines += [_evidence_text(line) for line in evidence_lines(item)]
    lines.append(ft.Text(_("Engineer: {name}").format(name=item.engineer_name or "—"), key=f"engineer-{uuid}"))
    ocr = ocr_line(item)
    if ocr is not None:
        lines.append(ocr)
    for other in item.same_period:
        other_value = (
            shown(other.value) if other.value is not None else _("skipped: {reason}").format(reason=other.skip_reason)
        )
        lines.append(
            ft.Text(
                _("Also this month: {value} on {when} by {engineer} ({status})").format(
                    value=other_value,
                    when=society_time(other.captured_at, zone),
                    engineer=other.engineer_name or "—",
                    status=other.status,
                ),
                key=f"same-period-{uuid}-{other.uuid}",
                color=ft.Colors.BLUE_900,
            )
        )
    lines.append(ft.Row(flag_chips(item, on_flag), spacing=4, wrap=True))
    if item.note:
        lines.append(ft.Text(_("Note: {note}").format(note=item.note), italic=True))
    if item.due_on is not None:
        lines.append(ft.Text(_("New read due {date}").format(date=day(item.due_on)), key=f"due-on-{uuid}"))
    replacement = item.replacement
    if replacement is not None:
        lines.append(
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
    return lines


def picture(item: ReviewItem, photo: bytes | None, on_zoom: Callable[[], Any]) -> ft.Control:
    """The photo's thumbnail (a click opens it full-size) or the place it will be, with the map beside it."""
    width, height = PHOTO_SIZE
    thumbnail: ft.Control = (
        ft.Stack(
            [
                ft.Container(
                    ft.Image(src=photo, width=width, height=height, fit=ft.BoxFit.CONTAIN, key=f"photo-{item.uuid}"),
                    on_click=lambda _event: on_zoom(),
                ),
                # A button with words over the photo's corner: a screen reader names it (an icon button's tooltip
                # melts into the photo's group), and a person sees what a click on the photo does.
                ft.FilledTonalButton(
                    _("Full size"),
                    icon=ft.Icons.ZOOM_IN,
                    key=f"zoom-{item.uuid}",
                    tooltip=_("Open the photo full-size (Z)"),
                    on_click=lambda _event: on_zoom(),
                    right=4,
                    bottom=4,
                ),
            ],
            width=width,
            height=height,
        )
        if photo
        else ft.Container(
            ft.Text(_("Photo pending") if item.photo_pending else _("No photo with this reading"), italic=True),
            width=width,
            height=height,
            alignment=ft.Alignment.CENTER,
            bgcolor=ft.Colors.GREY_200,
        )
    )
    where = location_map(item.meter_lat, item.meter_lon, item.gps_lat, item.gps_lon, item.gps_accuracy_m)
    return ft.Row([thumbnail, where], vertical_alignment=ft.CrossAxisAlignment.START)
