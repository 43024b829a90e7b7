"""The accountant's reconciliation: a bank or UPI statement (CSV or XLSX) chosen with the file picker and sent to the
server, which matches its credits to bills and records the payments (docs/reconciliation.md); then the counts, this
import's lines, and the credits still unmatched, each matched to a bill by hand or dismissed with a reason.

Nothing is matched here: the server decides, and a statement imported again records nothing twice.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import flet as ft

from mobile_app.api.errors import ApiClientError
from mobile_app.console.client import BillingClient
from mobile_app.console.forms import Notice
from mobile_app.console.imports_admin import content_type_of
from mobile_app.i18n import N_, _, ngettext
from mobile_app.ui.common import day, push_update, rupees, title
from shared_billing.api_models import BillOut, StatementImportOut, StatementLineOut
from shared_billing.protocol import StatementLineStatus

__all__ = ["ReconciliationView"]

UNMATCHED_SHOWN = 100  # the oldest first would hide today's: the newest hundred, the total said above them
BILLS_SHOWN = 8  # a search for a bill: enough to pick from, short enough to read
COUNT_LABELS = {
    "credits": N_("credits"),
    "matched": N_("matched now"),
    "unmatched": N_("unmatched"),
    "already_recorded": N_("already recorded"),
    "debits": N_("debits left out"),
    "problems": N_("unreadable lines"),
}
OUTCOME_LABELS = {
    "matched": N_("matched"),
    "unmatched": N_("unmatched"),
    "already_recorded": N_("already recorded"),
}
RULE_LABELS = {
    "reference": N_("by bill number"),
    "amount_date": N_("by amount and date"),
    "manual": N_("by hand"),
}


def _line_text(line: StatementLineOut) -> str:
    return " · ".join((day(line.txn_date), rupees(line.amount), line.narration or "—"))


def _match_text(line: StatementLineOut) -> str:
    if line.status == StatementLineStatus.MATCHED and line.bill_number:
        rule = _(RULE_LABELS[line.rule.value]) if line.rule else ""
        return " · ".join((line.bill_number, line.unit_code or "—", rule))
    return line.reason or ""


class ReconciliationView(ft.Column):
    def __init__(self, client: BillingClient) -> None:
        self.client = client
        self.picker = ft.FilePicker()  # kept: Flet drops services nobody references
        self.file_name: str | None = None
        self.data: bytes | None = None
        self.chosen = ft.Text(_("No statement chosen"), key="statement_file")
        self.error = ft.Text("", key="statement_error", color=ft.Colors.RED_700, visible=False)
        self.import_button = ft.FilledButton(
            _("Import statement"),
            icon=ft.Icons.CLOUD_UPLOAD,
            key="statement_import",
            disabled=True,
            on_click=self._import,
        )
        self.notice = Notice("statement_notice")
        self.counts = ft.Row(key="statement_counts", wrap=True)
        self.outcomes = ft.Column(spacing=2, key="statement_outcomes")
        self.problems = ft.Column(spacing=2, key="statement_problems")
        self.unmatched_heading = ft.Text("", weight=ft.FontWeight.BOLD, key="unmatched_heading")
        self.unmatched = ft.Column(spacing=10, key="statement_unmatched")
        super().__init__(
            spacing=12,
            controls=[
                title(_("Reconciliation")),
                ft.Text(
                    _(
                        "Import the society's bank or UPI statement (CSV or XLSX). A credit naming a bill number, "
                        "or owing exactly what one open bill owes, is recorded as that bill's payment; the rest wait "
                        "below. The same statement again records nothing twice."
                    ),
                    size=12,
                ),
                self.error,
                ft.Row(
                    [
                        ft.OutlinedButton(
                            _("Choose statement…"), icon=ft.Icons.UPLOAD_FILE, key="statement_pick", on_click=self._pick
                        ),
                        self.chosen,
                    ]
                ),
                ft.Row([self.import_button, self.notice]),
                self.counts,
                self.outcomes,
                self.problems,
                ft.Divider(),
                self.unmatched_heading,
                self.unmatched,
            ],
        )

    async def load(self) -> None:
        await self._load_unmatched()

    # --- Importing ---

    async def _pick(self, _event: ft.Event[Any]) -> None:
        files = await self.picker.pick_files(
            dialog_title=_("Statement to import"),
            file_type=ft.FilePickerFileType.CUSTOM,
            allowed_extensions=["csv", "xlsx", "txt"],
            with_data=True,
        )
        if not files or files[0].bytes is None:
            return
        self.file_name, self.data = files[0].name, bytes(files[0].bytes)
        self.chosen.value = ngettext(
            "{name} · {count} byte, not imported yet", "{name} · {count} bytes, not imported yet", len(self.data)
        ).format(name=self.file_name, count=len(self.data))
        self.import_button.disabled = False
        push_update(self)

    async def _import(self, _event: ft.Event[Any]) -> None:
        if self.data is None or self.file_name is None:
            return
        self.error.value, self.error.visible = "", False
        self.import_button.disabled = True
        push_update(self)
        try:
            result = await self.client.import_statement(
                self.data, file_name=self.file_name, content_type=content_type_of(self.file_name)
            )
        except ApiClientError as error:
            self.error.value, self.error.visible = error.message, True
        else:
            self.chosen.value = self.file_name
            self._show_result(result)
            await self._load_unmatched()
        finally:
            self.import_button.disabled = False
        push_update(self)

    def _show_result(self, result: StatementImportOut) -> None:
        counts = result.counts.model_dump()
        self.notice.say(
            ngettext(
                "Imported {name}: {count} payment recorded",
                "Imported {name}: {count} payments recorded",
                result.counts.matched,
            ).format(name=result.file_name, count=result.counts.matched)
        )
        self.counts.controls = [
            ft.Container(
                content=ft.Text(f"{_(label)} {counts[name]}", key=f"statement_count-{name}", size=12),
                bgcolor=ft.Colors.BLUE_GREY_50,
                padding=ft.Padding.symmetric(horizontal=8, vertical=4),
            )
            for name, label in COUNT_LABELS.items()
        ]
        self.outcomes.controls = [
            ft.Text(_("This statement"), weight=ft.FontWeight.BOLD),
            *(
                ft.Text(
                    _("Line {line} · {outcome} · {credit} · {match}").format(
                        line=outcome.line,
                        outcome=_(OUTCOME_LABELS[outcome.outcome]),
                        credit=_line_text(outcome.statement_line),
                        match=_match_text(outcome.statement_line),
                    ),
                    key=f"outcome-{outcome.line}",
                    size=12,
                    color=ft.Colors.GREEN_800 if outcome.outcome == "matched" else None,
                )
                for outcome in result.outcomes
            ),
        ]
        self.problems.controls = [
            ft.Text(
                _("Line {line} not read: {reason}").format(line=problem.line, reason=problem.reason),
                key=f"statement_problem-{problem.line}",
                color=ft.Colors.RED_700,
                size=12,
            )
            for problem in result.problems
        ]

    # --- The unmatched credits ---

    async def _load_unmatched(self) -> None:
        try:
            page = await self.client.statement_lines(StatementLineStatus.UNMATCHED, limit=UNMATCHED_SHOWN)
        except ApiClientError as error:
            self.unmatched.controls = [ft.Text(error.message, color=ft.Colors.RED_700)]
            push_update(self)
            return
        self.unmatched_heading.value = ngettext(
            "{count} credit waits for you", "{count} credits wait for you", page.total
        ).format(count=page.total)
        self.unmatched.controls = [self._unmatched_row(line) for line in page.items] or [
            ft.Text(_("No unmatched credits"), key="no_unmatched")
        ]
        push_update(self)

    def _unmatched_row(self, line: StatementLineOut) -> ft.Control:
        panel = ft.Column(spacing=4, key=f"unmatched-panel-{line.id}")
        return ft.Column(
            [
                ft.Text(_line_text(line), key=f"unmatched-{line.id}", weight=ft.FontWeight.W_500),
                ft.Text(line.reason or "", size=12, color=ft.Colors.GREY_700),
                ft.Row(
                    [
                        ft.OutlinedButton(
                            _("Match to a bill…"),
                            key=f"match-open-{line.id}",
                            on_click=partial(self._open_match, line, panel),
                        ),
                        ft.TextButton(
                            _("Dismiss…"),
                            key=f"dismiss-open-{line.id}",
                            on_click=partial(self._open_dismiss, line, panel),
                        ),
                    ]
                ),
                panel,
            ],
            spacing=2,
        )

    def _open_match(self, line: StatementLineOut, panel: ft.Column, _event: ft.Event[Any]) -> None:
        query = ft.TextField(label=_("Bill number, unit or consumer"), key=f"match-q-{line.id}", width=320, dense=True)
        found = ft.Column(spacing=2, key=f"match-found-{line.id}")
        search = partial(self._find_bills, line, query, found)
        query.on_submit = search
        panel.controls = [
            ft.Row([query, ft.OutlinedButton(_("Find"), key=f"match-find-{line.id}", on_click=search)]),
            found,
        ]
        push_update(panel)

    async def _find_bills(
        self, line: StatementLineOut, query: ft.TextField, found: ft.Column, _event: ft.Event[Any]
    ) -> None:
        try:
            page = await self.client.bill_page((query.value or "").strip() or None, BILLS_SHOWN, 0)
        except ApiClientError as error:
            found.controls = [ft.Text(error.message, color=ft.Colors.RED_700)]
            push_update(found)
            return
        found.controls = [self._bill_choice(line, bill) for bill in page.items] or [ft.Text(_("No such bill"))]
        push_update(found)

    def _bill_choice(self, line: StatementLineOut, bill: BillOut) -> ft.Control:
        return ft.Row(
            [
                ft.Text(
                    " · ".join((bill.bill_number or "—", bill.unit_code, rupees(bill.payable), bill.status.value)),
                    size=12,
                ),
                ft.FilledButton(
                    _("Match"),
                    key=f"match-bill-{line.id}-{bill.id}",
                    disabled=bill.bill_number is None,  # a draft takes no payment
                    on_click=partial(self._match, line, bill),
                ),
            ]
        )

    async def _match(self, line: StatementLineOut, bill: BillOut, _event: ft.Event[Any]) -> None:
        try:
            await self.client.match_statement_line(line.id, bill.id)
        except ApiClientError as error:
            self.notice.say(error.message, error=True)
        else:
            self.notice.say(
                _("{amount} recorded as a payment of {bill}").format(
                    amount=rupees(line.amount), bill=bill.bill_number or ""
                )
            )
        await self._load_unmatched()

    def _open_dismiss(self, line: StatementLineOut, panel: ft.Column, _event: ft.Event[Any]) -> None:
        reason = ft.TextField(
            label=_("Why it is no bill's payment"), key=f"dismiss-reason-{line.id}", width=320, dense=True
        )
        panel.controls = [
            ft.Row(
                [
                    reason,
                    ft.OutlinedButton(
                        _("Dismiss"), key=f"dismiss-confirm-{line.id}", on_click=partial(self._dismiss, line, reason)
                    ),
                ]
            )
        ]
        push_update(panel)

    async def _dismiss(self, line: StatementLineOut, reason: ft.TextField, _event: ft.Event[Any]) -> None:
        text = (reason.value or "").strip()
        if not text:
            reason.error = _("Say why, for the audit log")
            push_update(reason)
            return
        try:
            await self.client.dismiss_statement_line(line.id, text)
        except ApiClientError as error:
            self.notice.say(error.message, error=True)
        else:
            self.notice.say(_("{amount} dismissed").format(amount=rupees(line.amount)))
        await self._load_unmatched()
