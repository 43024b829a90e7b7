"""Every reading on the phone with its state, "sync now", and "record again" for rejected ones."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

import flet as ft

from mobile_app.capture import SKIP_LABELS
from mobile_app.field_service import FieldService
from mobile_app.i18n import _, ngettext
from mobile_app.reading_states import ReadingState, reading_reason, reading_state
from mobile_app.store import ReadingRecord
from mobile_app.sync.problems import sync_problem
from mobile_app.ui import theme
from mobile_app.ui.common import local_time, title
from mobile_app.ui.status_bar import StatusBar

__all__ = ["SyncView", "sync_problem"]  # sync_problem lives in mobile_app.sync.problems (Flet-free)

_STATE_COLORS = {
    ReadingState.SAVED: theme.WARNING,
    ReadingState.ON_HOLD: theme.WARNING,
    ReadingState.PHOTO_PENDING: theme.WARNING,
    ReadingState.UPLOADED: theme.INFO,
    ReadingState.APPROVED: theme.OK,
    ReadingState.REJECTED: theme.ERROR,
    ReadingState.REREAD_REQUESTED: theme.ERROR,
    ReadingState.CONFLICT: theme.ERROR,
}


class SyncView(ft.Column):
    def __init__(
        self,
        service: FieldService,
        *,
        record_again: Callable[[ReadingRecord], None],
        footer: ft.Control | None = None,
    ) -> None:
        self.service = service
        self.record_again = record_again
        self.status = ft.Text("", key="sync_status", size=theme.BODY_PX)
        self.status_bar = StatusBar()
        self.list = ft.ListView(expand=True, spacing=4)
        self.names: dict[int, str] = {}
        self.replaced: set[UUID] = set()
        self.version = -1
        super().__init__(
            expand=True,
            controls=[
                title(_("Sync")),
                self.status_bar,
                ft.Row(
                    [
                        theme.touch(
                            ft.FilledButton(_("Sync now"), icon=ft.Icons.SYNC, key="sync_now", on_click=self._sync_now)
                        ),
                        self.status,
                    ],
                    wrap=True,
                ),
                self.list,
                *([footer] if footer is not None else []),
            ],
        )
        self.refresh()
        self.status_bar.show(service.status())

    def tick(self) -> bool:
        """The app's periodic look: the status strip, and the list when the data moved. False: nothing changed."""
        changed = self.status_bar.show(self.service.status())
        if self.service.version != self.version:
            self.refresh()
            changed = True
        return changed

    def _sync_now(self, _event: ft.Event[Any]) -> None:
        self.service.sync_now()
        self.status.value = _("Syncing…")

    def _status_text(self, records: list[ReadingRecord]) -> str:
        waiting = sum(1 for r in records if r.in_outbox)
        photos = sum(1 for r in records if r.photo_pending)
        held = sum(1 for r in records if r.parked)
        report = self.service.last_report
        parts = [
            _("{count} to upload").format(count=waiting),
            ngettext("{count} photo pending", "{count} photos pending", photos).format(count=photos),
        ]
        if held:
            parts.append(_("{count} on hold").format(count=held))
        if report is not None and report.error is not None:
            parts.append(_("last attempt failed: {problem}").format(problem=sync_problem(report.error)))
        elif self.service.last_sync_at is not None:
            parts.append(_("last sync {time}").format(time=local_time(self.service.last_sync_at)))
        return " · ".join(parts)

    def refresh(self) -> None:
        self.version = self.service.version
        records = self.service.readings()
        self.names = {m.meter_id: m.unit_code or m.meter_number for m in self.service.meters()}
        # A newer reading on this phone replaces a rejected one: its "Record again" is done.
        self.replaced = {r.reading.replaces for r in records if r.reading.replaces is not None}
        self.status.value = self._status_text(records)
        self.list.controls = [self._row(record) for record in records] or [
            ft.Text(_("Nothing recorded on this phone yet."), key="no_readings", size=theme.BODY_PX)
        ]

    def _row(self, record: ReadingRecord) -> ft.Control:
        reading = record.reading
        state = reading_state(record)
        what = (
            f"{reading.value}"
            if reading.value is not None
            else _("skipped ({reason})").format(
                reason=_(SKIP_LABELS[reading.skip_reason]) if reading.skip_reason else ""
            )
        )
        reason = reading_reason(record)
        where = self.names.get(reading.meter_id, _("Meter {id}").format(id=reading.meter_id))
        details: list[ft.Control] = [
            ft.Text(f"{where} · {what} · {local_time(reading.captured_at)}", size=theme.BODY_PX)
        ]
        if reason:
            details.append(
                ft.Text(
                    _(reason),
                    key=f"reason-{reading.uuid}",
                    size=theme.BODY_PX,
                    color=theme.ERROR if state.refused else theme.TEXT,
                )
            )
        trailing: ft.Control = ft.Text(
            _(state.label),
            color=_STATE_COLORS[state],
            weight=ft.FontWeight.BOLD,
            key=f"state-{reading.uuid}",
            size=theme.BODY_PX,
        )
        actions: list[ft.Control] = [trailing]
        if state.can_record_again and reading.uuid not in self.replaced:
            actions.append(
                theme.touch(
                    ft.OutlinedButton(
                        _("Record again"),
                        key=f"record_again-{reading.uuid}",
                        on_click=lambda _e, r=record: self.record_again(r),
                    )
                )
            )
        return ft.Container(
            key=f"reading-{reading.uuid}",
            padding=8,
            border=ft.Border.all(1, theme.MUTED),
            border_radius=8,
            content=ft.Row([ft.Column(details, expand=True, spacing=2), ft.Column(actions)]),
        )
