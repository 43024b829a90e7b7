"""The admin's schedules: the jobs the server runs by itself (the month's draft bill runs, the overdue refresh, the
daily backup), each with its next run in the society's time, how its last run ended (coloured by status), an on/off
switch, its day and time (or interval) and "Run now" (at the server's next check).

Keys are per job name: ``schedule-{name}`` (the card), ``schedule-next-{name}``, ``schedule-last-{name}``,
``schedule-enabled-{name}``, ``schedule-run-{name}``; the day, time and interval fields ``schedule-day-{name}``,
``schedule-time-{name}``, ``schedule-every-{name}`` with their Save ``schedule-{name}_save``.
"""

from __future__ import annotations

from datetime import tzinfo
from typing import Any

import flet as ft

from mobile_app.api.errors import ApiClientError
from mobile_app.console.client import AdminClient
from mobile_app.console.forms import Field, Form, Notice
from mobile_app.i18n import N_, _, ngettext
from mobile_app.ui.common import push_update, society_time, title
from shared_billing.api_models import ScheduleChange, ScheduleOut
from shared_billing.protocol import ScheduleCadence, ScheduleKind, ScheduleStatus

__all__ = ["SchedulesView", "cadence_words", "last_run_words"]

LABELS = {
    ScheduleKind.BILL_RUNS: N_("Monthly draft bill runs (every block, the previous month)"),
    ScheduleKind.OVERDUE_REFRESH: N_("Overdue refresh (bill statuses)"),
    ScheduleKind.BACKUP: N_("Daily backup"),
    ScheduleKind.PHOTO_OCR: N_("Read meter photos (OCR)"),
    ScheduleKind.NOTIFICATIONS: N_("Notify consumers (reminders, then send the messages waiting)"),
}
STATUS_COLOURS = {
    ScheduleStatus.OK: ft.Colors.GREEN_800,
    ScheduleStatus.FAILED: ft.Colors.RED_700,
    ScheduleStatus.SKIPPED: ft.Colors.AMBER_900,
}


def cadence_words(job: ScheduleOut) -> str:
    """When the job runs, in words: "Day 1 of every month at 00:30", "Every day at 02:00", "Every 60 minutes"."""
    if job.cadence == ScheduleCadence.MONTHLY:
        return _("Day {day} of every month at {time}").format(day=job.day_of_month, time=job.at_time)
    if job.cadence == ScheduleCadence.DAILY:
        return _("Every day at {time}").format(time=job.at_time)
    minutes = job.every_minutes or 0
    return ngettext(
        "Every {count} minute", "Every {count} minutes", int(minutes) if minutes == int(minutes) else 2
    ).format(count=f"{minutes:g}")


def last_run_words(job: ScheduleOut, zone: tzinfo) -> str:
    if job.running:
        return _("Running since {when}").format(when=society_time(job.last_started_at, zone))
    if job.last_status is None:
        return _("Not run yet")
    return (
        _("Last run {when}: {status} — {result}")
        .format(when=society_time(job.last_finished_at, zone), status=job.last_status, result=job.last_result or "")
        .strip()
    )


class _JobCard(ft.Container):
    """One job: built once, then shown again in place (Flet freezes a control rebuilt under the same key, so a
    card rebuilt on every refresh could not show what its buttons did)."""

    def __init__(self, view: SchedulesView, job: ScheduleOut) -> None:
        name = job.name
        self.view = view
        self.job = job
        self.heading = ft.Text(
            _(LABELS[job.kind]) if job.kind in LABELS else name, weight=ft.FontWeight.BOLD, expand=True
        )
        self.switch = ft.Switch(label=_("On"), key=f"schedule-enabled-{name}", on_change=self._switch)
        self.cadence = ft.Text("", key=f"schedule-cadence-{name}")
        self.next_run = ft.Text("", key=f"schedule-next-{name}")
        self.last_run = ft.Text("", key=f"schedule-last-{name}", size=12)
        fields: dict[str, Field] = {}
        if job.cadence == ScheduleCadence.MONTHLY:
            fields["day_of_month"] = ft.TextField(label=_("Day of month (1–28)"), key=f"schedule-day-{name}", width=170)
        if job.cadence in (ScheduleCadence.MONTHLY, ScheduleCadence.DAILY):
            fields["at_time"] = ft.TextField(label=_("Time (HH:MM)"), key=f"schedule-time-{name}", width=140)
        if job.cadence == ScheduleCadence.INTERVAL:
            fields["every_minutes"] = ft.TextField(label=_("Every (minutes)"), key=f"schedule-every-{name}", width=150)
        self.form = Form(f"schedule-{name}", fields, save_label=_("Save"))
        self.form.on_save(self._save)
        self.run_notice = Notice(f"schedule-run-notice-{name}")
        self.run_button = ft.OutlinedButton(
            _("Run now"), icon=ft.Icons.PLAY_ARROW, key=f"schedule-run-{name}", on_click=self._run
        )
        super().__init__(
            key=f"schedule-{name}",
            padding=10,
            border=ft.Border.all(1, ft.Colors.GREY_300),
            border_radius=8,
            content=ft.Column(
                [
                    ft.Row([self.heading, self.switch]),
                    self.cadence,
                    self.next_run,
                    self.last_run,
                    self.form,
                    ft.Row([self.run_button, self.run_notice]),
                ]
            ),
        )

    def show(self, job: ScheduleOut, zone: tzinfo) -> None:
        self.job = job
        self.switch.value = job.enabled
        self.cadence.value = cadence_words(job)
        self.next_run.value = (
            _("Next run {when}").format(when=society_time(job.next_run_at, zone)) if job.enabled else _("Switched off")
        )
        self.last_run.value = last_run_words(job, zone)
        self.last_run.color = STATUS_COLOURS.get(job.last_status) if job.last_status is not None else None
        values = {"day_of_month": job.day_of_month, "at_time": job.at_time, "every_minutes": job.every_minutes}
        for name, field in self.form.fields.items():
            value = values[name]
            field.value = f"{value:g}" if isinstance(value, float) else str(value or "")
        self.run_button.disabled = not job.enabled

    async def _save(self, _event: ft.Event[Any]) -> None:
        # As typed: the server judges the values and its 422 comes back beside the field at fault.
        typed: dict[str, Any] = {name: self.form.text(name) for name in self.form.fields}
        change = ScheduleChange.model_construct(**typed)
        saved = await self.form.submit(lambda: self.view.client.change_schedule(self.job.name, change))
        if saved is not None:
            await self.view.load()
            self.form.notice.say(_("Saved: {cadence}").format(cadence=cadence_words(saved)))

    async def _switch(self, event: ft.Event[Any]) -> None:
        enabled = bool(getattr(event.control, "value", False))
        try:
            await self.view.client.change_schedule(self.job.name, ScheduleChange.model_construct(enabled=enabled))
        except ApiClientError as error:
            self.run_notice.say(error.message, error=True)
            return
        await self.view.load()
        self.run_notice.say(_("Switched on") if enabled else _("Switched off"))

    async def _run(self, _event: ft.Event[Any]) -> None:
        try:
            await self.view.client.run_schedule(self.job.name)
        except ApiClientError as error:
            self.run_notice.say(error.message, error=True)
            return
        self.run_notice.say(_("Runs at the server's next check"))


class SchedulesView(ft.Column):
    def __init__(self, client: AdminClient) -> None:
        self.client = client
        self.notice = Notice("schedules_notice")
        self.cards: dict[str, _JobCard] = {}
        self.jobs = ft.Column(spacing=12)
        super().__init__(
            spacing=12,
            controls=[
                ft.Row(
                    [
                        title(_("Schedules")),
                        ft.IconButton(
                            ft.Icons.REFRESH, key="schedules_refresh", tooltip=_("Refresh"), on_click=self._refresh
                        ),
                    ]
                ),
                ft.Text(_("Jobs the server runs by itself; times are the society's."), size=12),
                self.notice,
                self.jobs,
            ],
        )

    async def _refresh(self, _event: ft.Event[Any] | None = None) -> None:
        await self.load()

    async def load(self) -> None:
        try:
            jobs, society = await self.client.schedules(), await self.client.society_time()
        except ApiClientError as error:
            self.notice.say(error.message, error=True)
            return
        for job in jobs:
            card = self.cards.get(job.name)
            if card is None or card.job.cadence != job.cadence:
                card = self.cards[job.name] = _JobCard(self, job)
            card.show(job, society.zone)
        shown: list[ft.Control] = [self.cards[job.name] for job in jobs]
        if [id(c) for c in self.jobs.controls] != [id(c) for c in shown]:
            self.jobs.controls = shown or [ft.Text(_("No scheduled jobs"), key="no_schedules")]
        push_update(self)
