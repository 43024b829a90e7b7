"""Escalation of overdue bills (docs/notifications.md "Escalation"): the admin sets the steps — a reminder, a notice
and a disconnection notice, each some days after the due date — and admins and accountants read the log of the
steps taken for each bill, newest first, filtered by what became of them."""

from __future__ import annotations

from datetime import tzinfo
from typing import Any

import flet as ft

from mobile_app.api.errors import ApiClientError
from mobile_app.console.client import AdminClient
from mobile_app.console.forms import Notice, chosen, filter_dropdown
from mobile_app.console.paged_list import PagedList
from mobile_app.i18n import N_, _, ngettext
from mobile_app.ui.common import push_update, society_time, title
from shared_billing.api_models import EscalationOut, EscalationStepIn, EscalationStepOut, EscalationStepsIn, Page
from shared_billing.protocol import EscalationKind, EscalationOutcome

__all__ = ["KIND_WORDS", "EscalationView"]

KIND_WORDS = {
    EscalationKind.REMINDER: N_("Reminder"),
    EscalationKind.NOTICE: N_("Notice"),
    EscalationKind.DISCONNECTION_NOTICE: N_("Disconnection notice"),
}
OUTCOME_WORDS = {EscalationOutcome.FIRED: N_("Sent"), EscalationOutcome.SKIPPED: N_("Passed over")}


def _days(text: str | None) -> int | str:
    """The days as typed: a whole number, or the text itself for the server to refuse."""
    text = (text or "").strip()
    return int(text) if text.isdigit() else text


class StepsEditor(ft.Column):
    """One line per kind: taken or not, and on which day after the due date. A kind without a day is left out."""

    def __init__(self, client: AdminClient) -> None:
        self.client = client
        self.active = {
            kind: ft.Checkbox(label=_(words), key=f"step-active-{kind.value}", width=220)
            for kind, words in KIND_WORDS.items()
        }
        self.days = {
            kind: ft.TextField(label=_("Days after the due date"), key=f"step-days-{kind.value}", width=220, dense=True)
            for kind in KIND_WORDS
        }
        self.notice = Notice("steps_notice")
        super().__init__(
            spacing=6,
            controls=[
                ft.Text(_("Steps for a bill still unpaid after its due date"), weight=ft.FontWeight.BOLD),
                *[ft.Row([self.active[kind], self.days[kind]]) for kind in KIND_WORDS],
                ft.Row(
                    [ft.FilledButton(_("Save the steps"), key="steps_save", on_click=self._save), self.notice],
                    wrap=True,
                ),
            ],
        )

    async def load(self) -> None:
        try:
            steps = await self.client.escalation_steps()
        except ApiClientError as error:
            self.notice.say(error.message, error=True)
            return
        self._show(steps)

    def _show(self, steps: list[EscalationStepOut]) -> None:
        by_kind = {step.kind: step for step in steps}
        for kind in KIND_WORDS:
            step = by_kind.get(kind)
            self.active[kind].value = step is not None and step.active
            self.days[kind].value = str(step.days_after) if step is not None else ""
        push_update(self)

    async def _save(self, _event: ft.Event[Any] | None = None) -> None:
        # As typed: the server judges the days and the order of the steps, and says what is wrong.
        typed: list[dict[str, Any]] = [
            {"kind": kind, "days_after": _days(self.days[kind].value), "active": bool(self.active[kind].value)}
            for kind in KIND_WORDS
            if (self.days[kind].value or "").strip()
        ]
        steps = [EscalationStepIn.model_construct(**step) for step in typed]
        try:
            saved = await self.client.replace_escalation_steps(EscalationStepsIn.model_construct(steps=steps))
        except ApiClientError as error:
            self.notice.say(error.message, error=True)
            return
        self._show(saved)
        self.notice.say(ngettext("{count} step saved", "{count} steps saved", len(saved)).format(count=len(saved)))


class EscalationView(ft.Column):
    """The steps (``edits_steps``: the admin's) above the log."""

    def __init__(self, client: AdminClient, *, edits_steps: bool) -> None:
        self.client = client
        self.zone: tzinfo | None = None
        self.steps = StepsEditor(client) if edits_steps else None
        self.outcome = filter_dropdown(
            "escalations_outcome", _("Outcome"), _("Any outcome"), OUTCOME_WORDS, self._filter
        )
        self.notice = ft.Text("", key="escalations_notice")
        self.log = PagedList(
            "escalations", self._page, self._row, hint=_("Unit or bill number"), empty=_("No step taken yet")
        )
        super().__init__(
            expand=True,
            controls=[
                title(_("Escalation")),
                *([self.steps, ft.Divider()] if self.steps is not None else []),
                ft.Row([self.outcome, self.notice], wrap=True),
                self.log,
            ],
        )

    async def load(self) -> None:
        if self.zone is None:
            try:
                self.zone = (await self.client.society_time()).zone
            except ApiClientError as error:
                self.notice.value = error.message
                push_update(self)
                return
        if self.steps is not None:
            await self.steps.load()
        await self.log.load()

    async def _page(self, q: str | None, limit: int, offset: int) -> Page[EscalationOut]:
        return await self.client.escalation_page(q, limit, offset, outcome=chosen(self.outcome))

    async def _filter(self, _event: ft.Event[Any] | None = None) -> None:
        self.log.start = 0
        await self.log.load()

    def _row(self, step: EscalationOut) -> ft.Control:
        when = society_time(step.at, self.zone) if self.zone is not None else step.at.isoformat()
        words = " · ".join(
            [
                when,
                step.unit_code,
                step.bill_number or "—",
                _(KIND_WORDS[step.kind]),
                _("day {days}").format(days=step.days_after),
                _(OUTCOME_WORDS[step.outcome]),
                ngettext("{count} message", "{count} messages", step.messages).format(count=step.messages),
            ]
        )
        return ft.Text(words, key=f"escalation-{step.id}")
