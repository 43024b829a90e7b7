"""The admin's bill run: pick a block and month, run it with a progress bar, then issue the drafts; below, the
month's runs (the ones the schedule drafted on the 1st among them), each issued from its row.

The runs list shows the chosen month's runs, or the latest runs of any month when that month has none (on the 1st
the month field shows the new month, the schedule drafted the one before). Keys are per run id: ``run-{id}`` (the
row), ``run-block-{id}``, ``run-state-{id}``, ``run-counts-{id}``, ``run-by-{id}`` and ``run-issue-{id}`` (shown
for a done run with drafts left); ``runs_heading``, ``runs_refresh``, ``runs_notice``.
"""

from __future__ import annotations

import asyncio
from datetime import tzinfo
from decimal import Decimal
from typing import Any

import flet as ft

from mobile_app.api.errors import ApiClientError
from mobile_app.console.client import BillingClient
from mobile_app.i18n import _, ngettext
from mobile_app.ui.common import push_update, rupees, society_time, title
from shared_billing.api_models import RunOut
from shared_billing.protocol import RunStatus

__all__ = ["BillRunView", "run_counts", "started_by"]

POLL_S = 0.3
RUNS_SHOWN = 20  # a month has a run or two per block; older ones are a filter away (the Bills section)


def run_counts(run: RunOut) -> str:
    """A run's progress in a row: "12 of 12 units · 4 drafted · 8 skipped"."""
    return (
        _units_done(run)
        + " · "
        + _("{drafted} drafted · {skipped} skipped").format(drafted=run.created, skipped=len(run.skipped))
    )


def _units_done(run: RunOut) -> str:
    return ngettext("{done} of {total} unit", "{done} of {total} units", run.total_units).format(
        done=run.processed, total=run.total_units
    )


def _issue_label(drafts: int) -> str:
    return ngettext("Issue {count} bill", "Issue {count} bills", drafts).format(count=drafts)


def started_by(run: RunOut, zone: tzinfo) -> str:
    when = society_time(run.started_at, zone)
    if run.started_by is None:
        return _("Started by the schedule, {when}").format(when=when)
    return _("Started by {who}, {when}").format(who=run.started_by, when=when)


class _RunRow(ft.Container):
    """One listed run: built once, then shown again in place (Flet freezes a control rebuilt under the same key,
    so a row rebuilt on every refresh could not show what its Issue button did)."""

    def __init__(self, view: BillRunView, run_id: int) -> None:
        self.view = view
        self.run_id = run_id
        self.block = ft.Text("", key=f"run-block-{run_id}", weight=ft.FontWeight.BOLD, width=140)
        self.state = ft.Text("", key=f"run-state-{run_id}", width=70)
        self.counts = ft.Text("", key=f"run-counts-{run_id}")
        self.by = ft.Text("", key=f"run-by-{run_id}", size=12)
        self.issue_button = ft.OutlinedButton(
            _("Issue"), icon=ft.Icons.SEND, key=f"run-issue-{run_id}", visible=False, on_click=self._issue
        )
        super().__init__(
            key=f"run-{run_id}",
            padding=8,
            border=ft.Border.all(1, ft.Colors.GREY_300),
            border_radius=8,
            content=ft.Row(
                [self.block, self.state, ft.Column([self.counts, self.by], spacing=2, expand=True), self.issue_button]
            ),
        )

    def show(self, run: RunOut, zone: tzinfo) -> None:
        self.block.value = f"{run.block_code} · {run.period}"
        self.state.value = str(run.status)
        self.counts.value = run_counts(run)
        self.by.value = started_by(run, zone)
        self.issue_button.visible = run.status == RunStatus.DONE and run.drafts > 0
        self.issue_button.content = _issue_label(run.drafts)

    async def _issue(self, _event: ft.Event[Any]) -> None:
        await self.view.issue(self.run_id)


class BillRunView(ft.Column):
    def __init__(self, client: BillingClient) -> None:
        self.client = client
        self.block = ft.Dropdown(label=_("Block"), key="run_block", width=220)
        # Filled in by load() with the society's current month from the server, never this process's clock.
        self.period = ft.TextField(label=_("Month (YYYY-MM)"), key="run_period", width=180, value="")
        self._default_period = ""
        self.start_button = ft.FilledButton(
            _("Run billing"), icon=ft.Icons.PLAY_ARROW, key="run_billing", on_click=self._start
        )
        self.progress = ft.ProgressBar(value=0, width=420, key="run_progress", visible=False)
        self.status = ft.Text("", key="run_status")
        self.issue_button = ft.FilledButton(
            _("Issue bills"), icon=ft.Icons.SEND, key="issue_run", visible=False, on_click=self._issue
        )
        self.result = ft.Column(spacing=4, key="run_result")
        self.run_id: int | None = None
        self.period.on_submit = self._refresh_runs
        self.runs_heading = ft.Text(_("Runs"), key="runs_heading", weight=ft.FontWeight.BOLD)
        self.runs_notice = ft.Text("", key="runs_notice", size=12)
        self.runs = ft.Column(spacing=6, key="runs_list")
        self.rows: dict[int, _RunRow] = {}
        self.zone: tzinfo | None = None  # the society's, from the server (load)
        super().__init__(
            spacing=12,
            controls=[
                title(_("Bill run")),
                ft.Row([self.block, self.period, self.start_button]),
                self.progress,
                self.status,
                self.issue_button,
                self.result,
                ft.Row(
                    [
                        self.runs_heading,
                        ft.IconButton(
                            ft.Icons.REFRESH, key="runs_refresh", tooltip=_("Refresh"), on_click=self._refresh_runs
                        ),
                    ]
                ),
                self.runs_notice,
                self.runs,
            ],
        )

    async def load(self) -> None:
        try:
            blocks = await self.client.blocks()
            society = await self.client.society_time()
        except ApiClientError as error:
            self.status.value = error.message
            push_update(self)
            return
        # Follow the month as it turns (a console stays open for days) unless someone typed another one.
        if (self.period.value or "") in ("", self._default_period):
            self.period.value = self._default_period = society.period
        self.block.options = [ft.DropdownOption(key=str(b.id), text=f"{b.code} · {b.name}") for b in blocks]
        if blocks and self.block.value is None:
            self.block.value = str(blocks[0].id)
        self.zone = society.zone
        await self.load_runs()

    async def load_runs(self) -> None:
        """The chosen month's runs, newest first; the latest of any month when it has none yet."""
        if self.zone is None:  # load() has not reached the server yet, and says why
            push_update(self)
            return
        zone = self.zone
        month = (self.period.value or "").strip()
        try:
            page = await self.client.run_page(RUNS_SHOWN, period=month or None)
            heading = _("Runs of {month}").format(month=month) if month else _("Latest runs")
            if month and page.total == 0:
                page = await self.client.run_page(RUNS_SHOWN)
                heading = _("No runs of {month} yet · latest runs").format(month=month)
        except ApiClientError as error:
            self.runs_notice.value = error.message
            push_update(self)
            return
        self.runs_heading.value = heading
        self.runs_notice.value = (
            ""
            if page.total <= len(page.items)
            else _("Newest {shown} of {total}").format(shown=len(page.items), total=page.total)
        )
        for run in page.items:
            row = self.rows.get(run.id)
            if row is None:
                row = self.rows[run.id] = _RunRow(self, run.id)
            row.show(run, zone)
        shown: list[ft.Control] = [self.rows[run.id] for run in page.items]
        if [id(c) for c in self.runs.controls] != [id(c) for c in shown]:
            self.runs.controls = shown or [ft.Text(_("No bill runs yet"), key="no_runs")]
        push_update(self)

    async def _refresh_runs(self, _event: ft.Event[Any]) -> None:
        await self.load_runs()

    async def _start(self, _event: ft.Event[Any]) -> None:
        if not self.block.value:
            self.status.value = _("Choose a block")
            return
        self.start_button.disabled = True
        self.issue_button.visible = False
        self.result.controls = []
        try:
            run = await self.client.start_run(int(self.block.value), (self.period.value or "").strip())
            self.run_id = run.id
            self.progress.visible = True
            while run.status == RunStatus.RUNNING:
                self._show_progress(run)
                push_update(self)
                await asyncio.sleep(POLL_S)
                run = await self.client.run(run.id)
            self._show_progress(run)
        except ApiClientError as error:
            self.status.value = error.message
        finally:
            self.start_button.disabled = False
        await self.load_runs()

    def _show_progress(self, run: RunOut) -> None:
        total = max(run.total_units, 1)
        self.progress.value = run.processed / total
        drafted = ngettext("{count} draft bill", "{count} draft bills", run.created).format(count=run.created)
        skipped = _("{count} skipped").format(count=len(run.skipped))
        self.status.value = f"{_units_done(run)} · {drafted} · {skipped} · {run.status}"
        if run.status == RunStatus.DONE:
            self.issue_button.visible = run.drafts > 0
            self.issue_button.content = _issue_label(run.drafts)
            reasons: dict[str, int] = {}
            for skip in run.skipped:
                reasons[skip["code"]] = reasons.get(skip["code"], 0) + 1
            self.result.controls = [
                ft.Text(_("Skipped: {code} × {count}").format(code=code, count=count), size=12)
                for code, count in reasons.items()
            ]
        elif run.status == RunStatus.FAILED:
            self.status.value += f": {run.error}"

    async def _issue(self, _event: ft.Event[Any]) -> None:
        if self.run_id is not None:
            await self.issue(self.run_id)

    async def issue(self, run_id: int) -> None:
        """Issue a run's drafts (the one just run, or a listed one) and show the bills numbered."""
        try:
            bills = await self.client.issue_run(run_id)
        except ApiClientError as error:
            self.status.value = error.message
            push_update(self)
            return
        if run_id == self.run_id:
            self.issue_button.visible = False
        total = sum((b.payable for b in bills), Decimal(0))
        self.status.value = ngettext("Issued {count} bill", "Issued {count} bills", len(bills)).format(count=len(bills))
        lines: list[ft.Control] = [
            ft.Text(f"{b.bill_number} · {b.unit_code} · {rupees(b.payable)}", key=f"issued-{b.id}") for b in bills
        ]
        self.result.controls = [
            *lines,
            ft.Text(_("Total billed {amount}").format(amount=rupees(total)), weight=ft.FontWeight.BOLD),
        ]
        await self.load_runs()
