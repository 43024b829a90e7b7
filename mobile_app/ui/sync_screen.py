"""Every reading on the phone with its state, "sync now", and "record again" for rejected ones."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import flet as ft

from mobile_app.field_service import FieldService
from mobile_app.reading_states import ReadingState, reading_reason, reading_state
from mobile_app.store import ReadingRecord
from mobile_app.sync import ApiClientError, ApiError, AuthExpired, TransportError
from mobile_app.ui.common import local_time, plural, title

__all__ = ["SyncView", "sync_problem"]

_STATE_COLORS = {
    ReadingState.SAVED: ft.Colors.AMBER_800,
    ReadingState.ON_HOLD: ft.Colors.DEEP_ORANGE_700,
    ReadingState.PHOTO_PENDING: ft.Colors.AMBER_800,
    ReadingState.UPLOADED: ft.Colors.BLUE_700,
    ReadingState.APPROVED: ft.Colors.GREEN_700,
    ReadingState.REJECTED: ft.Colors.RED_700,
    ReadingState.REREAD_REQUESTED: ft.Colors.DEEP_ORANGE_700,
    ReadingState.CONFLICT: ft.Colors.RED_700,
}


def sync_problem(error: ApiClientError) -> str:
    """Why the last pass stopped, in words (never the exception's text)."""
    if isinstance(error, AuthExpired):
        return "sign in again to upload"
    if isinstance(error, TransportError):
        if error.status is not None and error.status >= 500:
            return "the server is not available right now; retrying automatically"
        return "cannot reach the server; retrying automatically"
    if isinstance(error, ApiError):
        return f"the server refused the upload ({error.code}); retrying automatically"
    return "retrying automatically"


class SyncView(ft.Column):
    def __init__(self, service: FieldService, *, record_again: Callable[[ReadingRecord], None]) -> None:
        self.service = service
        self.record_again = record_again
        self.status = ft.Text("", key="sync_status")
        self.list = ft.ListView(expand=True, spacing=4)
        self.names: dict[int, str] = {}
        super().__init__(
            expand=True,
            controls=[
                title("Sync"),
                ft.Row(
                    [
                        ft.FilledButton("Sync now", icon=ft.Icons.SYNC, key="sync_now", on_click=self._sync_now),
                        self.status,
                    ],
                    wrap=True,
                ),
                self.list,
            ],
        )
        self.refresh()

    def _sync_now(self, _event: ft.Event[Any]) -> None:
        self.service.sync_now()
        self.status.value = "Syncing…"

    def _status_text(self, records: list[ReadingRecord]) -> str:
        waiting = sum(1 for r in records if r.in_outbox)
        photos = sum(1 for r in records if r.photo_pending)
        held = sum(1 for r in records if r.parked)
        report = self.service.last_report
        parts = [f"{waiting} to upload", f"{plural(photos, 'photo')} pending"]
        if held:
            parts.append(f"{held} on hold")
        if report is not None and report.error is not None:
            parts.append(f"last attempt failed: {sync_problem(report.error)}")
        elif self.service.last_sync_at is not None:
            parts.append(f"last sync {local_time(self.service.last_sync_at)}")
        return " · ".join(parts)

    def refresh(self) -> None:
        records = self.service.readings()
        self.names = {m.meter_id: m.unit_code or m.meter_number for m in self.service.meters()}
        self.status.value = self._status_text(records)
        self.list.controls = [self._row(record) for record in records] or [
            ft.Text("Nothing recorded on this phone yet.", key="no_readings")
        ]

    def _row(self, record: ReadingRecord) -> ft.Control:
        reading = record.reading
        state = reading_state(record)
        what = f"{reading.value}" if reading.value is not None else f"skipped ({reading.skip_reason})"
        reason = reading_reason(record)
        where = self.names.get(reading.meter_id, f"Meter {reading.meter_id}")
        details: list[ft.Control] = [ft.Text(f"{where} · {what} · {local_time(reading.captured_at)}")]
        if reason:
            details.append(
                ft.Text(
                    reason,
                    key=f"reason-{reading.uuid}",
                    color=ft.Colors.RED_700 if state.refused else None,
                )
            )
        trailing: ft.Control = ft.Text(
            state.label, color=_STATE_COLORS[state], weight=ft.FontWeight.BOLD, key=f"state-{reading.uuid}"
        )
        actions: list[ft.Control] = [trailing]
        if state.can_record_again:
            actions.append(
                ft.OutlinedButton(
                    "Record again",
                    key=f"record_again-{reading.uuid}",
                    on_click=lambda _e, r=record: self.record_again(r),
                )
            )
        return ft.Container(
            key=f"reading-{reading.uuid}",
            padding=8,
            border=ft.Border.all(1, ft.Colors.GREY_300),
            border_radius=8,
            content=ft.Row([ft.Column(details, expand=True, spacing=2), ft.Column(actions)]),
        )
