"""The admin's bill run: pick a block and month, run it with a progress bar, then issue the drafts."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import flet as ft

from mobile_app.api.errors import ApiClientError
from mobile_app.console.client import BillingClient
from mobile_app.ui.common import plural, push_update, rupees, title
from shared_billing.api_models import RunOut
from shared_billing.protocol import RunStatus

__all__ = ["BillRunView"]

POLL_S = 0.3


class BillRunView(ft.Column):
    def __init__(self, client: BillingClient) -> None:
        self.client = client
        self.block = ft.Dropdown(label="Block", key="run_block", width=220)
        # Filled in by load() with the society's current month from the server, never this process's clock.
        self.period = ft.TextField(label="Month (YYYY-MM)", key="run_period", width=180, value="")
        self._default_period = ""
        self.start_button = ft.FilledButton(
            "Run billing", icon=ft.Icons.PLAY_ARROW, key="run_billing", on_click=self._start
        )
        self.progress = ft.ProgressBar(value=0, width=420, key="run_progress", visible=False)
        self.status = ft.Text("", key="run_status")
        self.issue_button = ft.FilledButton(
            "Issue bills", icon=ft.Icons.SEND, key="issue_run", visible=False, on_click=self._issue
        )
        self.result = ft.Column(spacing=4, key="run_result")
        self.run_id: int | None = None
        super().__init__(
            spacing=12,
            controls=[
                title("Bill run"),
                ft.Row([self.block, self.period, self.start_button]),
                self.progress,
                self.status,
                self.issue_button,
                self.result,
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
        push_update(self)

    async def _start(self, _event: ft.Event[Any]) -> None:
        if not self.block.value:
            self.status.value = "Choose a block"
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
        push_update(self)

    def _show_progress(self, run: RunOut) -> None:
        total = max(run.total_units, 1)
        self.progress.value = run.processed / total
        self.status.value = (
            f"{run.processed} of {plural(run.total_units, 'unit')} · {plural(run.created, 'draft bill')} · "
            f"{len(run.skipped)} skipped · {run.status}"
        )
        if run.status == RunStatus.DONE:
            self.issue_button.visible = run.created > 0
            self.issue_button.content = f"Issue {plural(run.created, 'bill')}"
            reasons: dict[str, int] = {}
            for skip in run.skipped:
                reasons[skip["code"]] = reasons.get(skip["code"], 0) + 1
            self.result.controls = [ft.Text(f"Skipped: {code} × {count}", size=12) for code, count in reasons.items()]
        elif run.status == RunStatus.FAILED:
            self.status.value += f": {run.error}"

    async def _issue(self, _event: ft.Event[Any]) -> None:
        if self.run_id is None:
            return
        try:
            bills = await self.client.issue_run(self.run_id)
        except ApiClientError as error:
            self.status.value = error.message
            push_update(self)
            return
        self.issue_button.visible = False
        total = sum((b.payable for b in bills), Decimal(0))
        self.status.value = f"Issued {plural(len(bills), 'bill')}"
        lines: list[ft.Control] = [
            ft.Text(f"{b.bill_number} · {b.unit_code} · {rupees(b.payable)}", key=f"issued-{b.id}") for b in bills
        ]
        self.result.controls = [*lines, ft.Text(f"Total billed {rupees(total)}", weight=ft.FontWeight.BOLD)]
        push_update(self)
