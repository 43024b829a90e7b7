"""The trust strip on the route and sync screens: online, offline or syncing, the last good sync, readings waiting.

Its words come from ``FieldService.status()`` (plain words only, never an exception's text); an icon goes with each
state so colour is never the only sign.
"""

from __future__ import annotations

import flet as ft

from mobile_app.i18n import N_, _, ngettext
from mobile_app.route_model import Connection, SyncStatus
from mobile_app.ui import theme
from mobile_app.ui.common import local_time

__all__ = ["StatusBar", "status_line"]

_CONNECTION = {
    Connection.ONLINE: (ft.Icons.CLOUD_DONE, theme.OK, N_("Online")),
    Connection.OFFLINE: (ft.Icons.CLOUD_OFF, theme.WARNING, N_("Offline")),
    Connection.SYNCING: (ft.Icons.SYNC, theme.INFO, N_("Syncing")),
    Connection.UNKNOWN: (ft.Icons.CLOUD_QUEUE, theme.MUTED, N_("Not synced yet")),
}


def status_line(status: SyncStatus) -> str:
    """The strip's words: the connection, the last successful sync (phone's local time), how many wait."""
    parts = [_(_CONNECTION[status.connection][2])]
    if status.last_sync_at is not None:
        parts.append(_("last sync {time}").format(time=local_time(status.last_sync_at)))
    else:
        parts.append(_("never synced on this phone"))
    parts.append(
        ngettext("{count} reading to upload", "{count} readings to upload", status.waiting).format(count=status.waiting)
    )
    return " · ".join(parts)


class StatusBar(ft.Container):
    """Redrawn with ``show(status)``; sends nothing when the status is unchanged."""

    def __init__(self) -> None:
        self.icon = ft.Icon(ft.Icons.CLOUD_QUEUE, color=theme.MUTED, key="status_icon")
        self.line = ft.Text("", key="status_line", size=theme.BODY_PX, color=theme.TEXT, expand=True)
        self.problem = theme.error_text("status_problem")
        self.problem.visible = False
        self.shown: SyncStatus | None = None
        super().__init__(
            key="status_bar",
            padding=ft.Padding.symmetric(horizontal=8, vertical=6),
            border_radius=8,
            bgcolor=theme.SURFACE,
            border=ft.Border.all(1, theme.MUTED),
            content=ft.Column(
                spacing=2,
                controls=[
                    ft.Row([self.icon, self.line], vertical_alignment=ft.CrossAxisAlignment.CENTER),
                    self.problem,
                ],
            ),
        )

    def show(self, status: SyncStatus) -> bool:
        """Set the strip to ``status``; False when it already shows it (nothing to send)."""
        if status == self.shown:
            return False
        self.shown = status
        icon, color, label = _CONNECTION[status.connection]
        self.icon.icon = icon
        self.icon.color = color
        self.icon.semantics_label = _(label)
        self.line.value = status_line(status)
        self.problem.value = status.problem or ""
        self.problem.visible = bool(status.problem)
        return True
