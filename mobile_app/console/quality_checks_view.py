"""Quality checks in the review console (docs/review.md "Quality checks"): ask for a random share of the month's
approved reads to be read again, and see each check — those whose check read differs from the approved one first."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

import flet as ft

from mobile_app.api.errors import ApiClientError
from mobile_app.console.client import ConsoleClient
from mobile_app.i18n import N_, _, ngettext
from mobile_app.ui.common import indian_number, mounted_page, push_update, show_message
from shared_billing.api_models import QualityCheckOut, QualityCheckRequest
from shared_billing.protocol import QualityCheckStatus
from shared_billing.readings import format_quantity

__all__ = ["DEFAULT_SHARE", "QualityChecksPanel"]

DEFAULT_SHARE = "2"
_STATUS_WORDS = {
    QualityCheckStatus.OPEN: N_("waiting for the check read"),
    QualityCheckStatus.AGREES: N_("agrees"),
    QualityCheckStatus.DIFFERS: N_("differs"),
}
_STATUS_COLORS = {
    QualityCheckStatus.OPEN: ft.Colors.GREY_800,
    QualityCheckStatus.AGREES: ft.Colors.GREEN_800,
    QualityCheckStatus.DIFFERS: ft.Colors.RED_700,
}


def check_line(check: QualityCheckOut) -> str:
    """One check in words: where, who, the approved read, the check read and what it says."""
    place = f"{check.block_code} · {check.unit_code or '—'} · {check.meter_number}"
    seen = _("approved {value}").format(value=indian_number(check.approved_value or "0"))
    if check.check_value is not None and check.difference is not None:
        sign = "+" if check.difference >= 0 else "−"
        seen += " → " + _("check {value} ({difference})").format(
            value=indian_number(check.check_value),
            difference=f"{sign}{indian_number(format_quantity(abs(check.difference)))}",
        )
    return f"{place} · {check.engineer_name} · {seen} · {_(_STATUS_WORDS[check.status])}"


class QualityChecksPanel(ft.Column):
    def __init__(self, client: ConsoleClient) -> None:
        self.client = client
        self.period: str | None = None
        self.share = ft.TextField(
            label=_("Share of approved reads (%)"), value=DEFAULT_SHARE, key="checks_share", width=220, dense=True
        )
        self.summary = ft.Text("", key="checks_summary")
        self.rows = ft.Column(spacing=4, key="checks_rows")
        super().__init__(
            visible=False,
            key="checks_panel",
            controls=[
                ft.Row(
                    [
                        self.share,
                        ft.FilledButton(
                            _("Ask for check reads"), icon=ft.Icons.FACT_CHECK, key="checks_ask", on_click=self._ask
                        ),
                        self.summary,
                    ],
                    wrap=True,
                ),
                self.rows,
            ],
        )

    async def toggle(self) -> None:
        self.visible = not self.visible
        if self.visible:
            await self.load()
        push_update(self)

    async def load(self) -> None:
        try:
            if self.period is None:
                self.period = (await self.client.society_time()).period
            checks = await self.client.quality_checks(self.period)
        except ApiClientError as error:
            self.summary.value = error.message
            push_update(self)
            return
        differs = sum(check.status is QualityCheckStatus.DIFFERS for check in checks)
        self.summary.value = ngettext(
            "{count} check this month, {differs} differing",
            "{count} checks this month, {differs} differing",
            len(checks),
        ).format(count=indian_number(len(checks)), differs=indian_number(differs))
        self.rows.controls = [
            ft.Text(check_line(check), key=f"check-{check.id}", color=_STATUS_COLORS[check.status]) for check in checks
        ] or [ft.Text(_("No quality checks this month"), key="checks_none")]
        push_update(self)

    async def _ask(self, _event: ft.Event[Any]) -> None:
        try:
            share = Decimal((self.share.value or "").strip())
            request = QualityCheckRequest(period=self.period or "", share_percent=share)
        except (InvalidOperation, ValueError):
            self.share.error = _("A share between 0 and 100 per cent")
            push_update(self)
            return
        self.share.error = None
        try:
            batch = await self.client.ask_for_checks(request)
        except ApiClientError as error:
            self.summary.value = error.message
            push_update(self)
            return
        if (page := mounted_page(self)) is not None:
            show_message(
                page,
                _("{requested} check reads asked for, of {eligible} approved reads").format(
                    requested=indian_number(len(batch.requested)), eligible=indian_number(batch.eligible)
                ),
            )
        await self.load()
