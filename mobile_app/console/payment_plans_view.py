"""A unit's payment plans (docs/domain.md "Payment plans"), opened from its row of Defaulters: each plan with its
instalments and where it stands, a form to agree a new one, and a cancel that asks first.

The server decides everything: the plan is for the account's balance on the day it is agreed, in the instalments
asked for; a refusal (a plan already running, a first day before today, a count out of range) is shown as the
server words it, beside its field where it names one, and the form keeps what was typed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, tzinfo
from decimal import Decimal
from functools import partial
from typing import Any

import flet as ft

from mobile_app.api.errors import ApiClientError
from mobile_app.console.client import BillingClient
from mobile_app.console.forms import Form, Notice
from mobile_app.i18n import N_, _, ngettext
from mobile_app.ui.common import day, push_update, rupees, society_time
from shared_billing.api_models import InstalmentOut, PaymentPlanIn, PaymentPlanOut
from shared_billing.payment_plans import MAX_INSTALMENTS, PlanStanding
from shared_billing.report_models import DefaulterRow

__all__ = ["STANDING_COLOURS", "STANDING_WORDS", "PaymentPlansView"]

STANDING_WORDS = {
    PlanStanding.ON_TRACK: N_("On track"),
    PlanStanding.BEHIND: N_("Behind"),
    PlanStanding.COMPLETED: N_("Completed"),
}
STANDING_COLOURS = {
    PlanStanding.ON_TRACK: ft.Colors.GREEN_800,
    PlanStanding.BEHIND: ft.Colors.RED_700,
    PlanStanding.COMPLETED: ft.Colors.BLUE_GREY_700,
}


def _count(text: str | None) -> int | str:
    """The count as typed: a whole number, or the text itself for the server to refuse."""
    text = (text or "").strip()
    return int(text) if text.isdigit() else text


class PaymentPlansView(ft.Column):
    def __init__(self, client: BillingClient, account: DefaulterRow, *, back: Callable[[], Awaitable[None]]) -> None:
        self.client = client
        self.account = account
        self.back = back
        self.zone: tzinfo | None = None
        self.today: date | None = None
        unit = account.unit_id
        self.form = Form(
            "plan",
            {
                "instalments": ft.TextField(
                    label=_("Monthly instalments"),
                    hint_text=_("1 to {most}").format(most=MAX_INSTALMENTS),
                    key="plan_instalments",
                    width=200,
                    dense=True,
                ),
                "first_due_on": ft.TextField(
                    label=_("First instalment on (YYYY-MM-DD)"), key="plan_first_due_on", width=240, dense=True
                ),
            },
            save_label=N_("Agree the plan"),
        )
        self.form.on_save(self._create)
        self.notice = Notice("plans_notice")
        self.plans = ft.Column(spacing=10, key="plans_list")
        total = sum(account.owed.values(), Decimal(0))
        super().__init__(
            spacing=12,
            key=f"plans-{unit}",
            controls=[
                ft.Row(
                    [
                        ft.TextButton(
                            _("Back to defaulters"), icon=ft.Icons.ARROW_BACK, key="plans_back", on_click=self._back
                        ),
                        ft.Text(
                            _("Payment plans · {unit} · {consumer}").format(
                                unit=account.unit_code, consumer=account.consumer_name or "—"
                            ),
                            size=18,
                            weight=ft.FontWeight.BOLD,
                        ),
                    ],
                    wrap=True,
                ),
                ft.Text(
                    _("Owes {total} in all, {overdue} of it past the due day").format(
                        total=rupees(total), overdue=rupees(account.overdue)
                    ),
                    key="plans_owed",
                ),
                ft.Text(_("A new plan"), weight=ft.FontWeight.BOLD),
                ft.Text(
                    _(
                        "The plan is for what the account owes on the day it is agreed, in equal monthly "
                        "instalments. While they are paid on time, the bills it covers are not overdue. One plan "
                        "at a time: cancel a plan before agreeing another."
                    ),
                    size=12,
                ),
                self.form,
                ft.Divider(),
                ft.Row([ft.Text(_("Plans"), weight=ft.FontWeight.BOLD), self.notice], wrap=True),
                self.plans,
            ],
        )

    async def load(self) -> None:
        if self.today is None:
            try:
                society = await self.client.society_time()
            except ApiClientError as error:
                self.notice.say(error.message, error=True)
                return
            self.zone, self.today = society.zone, society.today
            self.form.fields["first_due_on"].value = society.today.isoformat()
        await self._load_plans()

    async def _load_plans(self) -> None:
        try:
            plans = await self.client.payment_plans(self.account.unit_id)
        except ApiClientError as error:
            self.plans.controls = [ft.Text(error.message, color=ft.Colors.RED_700, key="plans_error")]
            push_update(self)
            return
        self.plans.controls = [self._plan(plan) for plan in plans] or [
            ft.Text(_("No payment plan yet"), key="no_plans", italic=True)
        ]
        push_update(self)

    async def _back(self, _event: ft.Event[Any] | None = None) -> None:
        await self.back()

    # --- Creating ---

    async def _create(self, _event: ft.Event[Any] | None = None) -> None:
        # As typed: the server judges each value and names the field at fault (model_construct validates nothing).
        typed: dict[str, Any] = {
            "instalments": _count(self.form.fields["instalments"].value),
            "first_due_on": self.form.text("first_due_on") or "",
        }
        unit = self.account.unit_id
        plan = await self.form.submit(
            lambda: self.client.create_payment_plan(unit, PaymentPlanIn.model_construct(**typed))
        )
        if plan is None:
            return
        self.form.notice.say(
            ngettext(
                "Plan {id} agreed: {total} in {count} instalment",
                "Plan {id} agreed: {total} in {count} instalments",
                len(plan.instalments),
            ).format(id=plan.id, total=rupees(plan.total), count=len(plan.instalments))
        )
        await self._load_plans()

    # --- A plan ---

    def _plan(self, plan: PaymentPlanOut) -> ft.Control:
        if plan.cancelled_at is not None:
            when = (
                society_time(plan.cancelled_at, self.zone) if self.zone is not None else day(plan.cancelled_at.date())
            )
            standing, colour = _("Cancelled {when}").format(when=when), ft.Colors.GREY_700
        elif plan.standing is not None:
            standing, colour = _(STANDING_WORDS[plan.standing]), STANDING_COLOURS[plan.standing]
        else:
            standing, colour = "—", None
        lines: list[ft.Control] = [
            ft.Row(
                [
                    ft.Text(
                        _("Plan {id} · {total} · agreed {day}").format(
                            id=plan.id, total=rupees(plan.total), day=day(plan.starts_on)
                        ),
                        weight=ft.FontWeight.BOLD,
                        expand=True,
                    ),
                    ft.Text(standing, key=f"plan-standing-{plan.id}", color=colour, weight=ft.FontWeight.W_500),
                ]
            ),
            ft.Text(self._paid_text(plan), key=f"plan-paid-{plan.id}", size=13),
            ft.Column(
                [self._instalment(plan, instalment) for instalment in plan.instalments],
                spacing=0,
                key=f"plan-instalments-{plan.id}",
            ),
        ]
        if plan.cancelled_at is None:
            confirm = ft.Row(key=f"plan-confirm-{plan.id}", wrap=True)
            lines += [
                ft.TextButton(
                    _("Cancel the plan…"),
                    key=f"plan-cancel-{plan.id}",
                    on_click=partial(self._ask_cancel, plan, confirm),
                ),
                confirm,
            ]
        return ft.Container(
            key=f"plan-{plan.id}",
            padding=10,
            border=ft.Border.all(1, ft.Colors.OUTLINE_VARIANT),
            border_radius=8,
            content=ft.Column(lines, spacing=6),
        )

    @staticmethod
    def _paid_text(plan: PaymentPlanOut) -> str:
        if plan.cancelled_at is None and plan.next_due_on is not None and plan.next_amount is not None:
            return _("Paid {paid} of {total} · next {amount} by {day}").format(
                paid=rupees(plan.paid),
                total=rupees(plan.total),
                amount=rupees(plan.next_amount),
                day=day(plan.next_due_on),
            )
        return _("Paid {paid} of {total}").format(paid=rupees(plan.paid), total=rupees(plan.total))

    def _instalment(self, plan: PaymentPlanOut, instalment: InstalmentOut) -> ft.Control:
        """Its number, day and amount, and whether the payments cover it: those before the plan's next instalment
        are paid; the next is owed (in part, when part of it is paid)."""
        paid = plan.next_due_on is None or instalment.due_on < plan.next_due_on
        late = not paid and plan.cancelled_at is None and self.today is not None and instalment.due_on < self.today
        part = instalment.due_on == plan.next_due_on and plan.next_amount is not None
        if paid:
            state = _("paid")
        elif part and plan.next_amount is not None and plan.next_amount < instalment.amount:
            words = _("{amount} to pay, late") if late else _("{amount} to pay")
            state = words.format(amount=rupees(plan.next_amount))
        else:
            state = _("to pay, late") if late else _("to pay")
        return ft.Text(
            _("Instalment {number} · {day} · {amount} · {state}").format(
                number=instalment.number, day=day(instalment.due_on), amount=rupees(instalment.amount), state=state
            ),
            key=f"instalment-{plan.id}-{instalment.number}",
            size=12,
        )

    # --- Cancelling ---

    def _ask_cancel(self, plan: PaymentPlanOut, confirm: ft.Row, _event: ft.Event[Any] | None = None) -> None:
        confirm.controls = [
            ft.Text(
                _("Cancel plan {id}? The bills it covers follow their own due dates again.").format(id=plan.id),
                color=ft.Colors.RED_700,
            ),
            ft.TextButton(_("Keep it"), key=f"plan-keep-{plan.id}", on_click=partial(self._keep, confirm)),
            ft.FilledButton(
                _("Cancel the plan"), key=f"plan-cancel-confirm-{plan.id}", on_click=partial(self._cancel, plan)
            ),
        ]
        push_update(confirm)

    def _keep(self, confirm: ft.Row, _event: ft.Event[Any] | None = None) -> None:
        confirm.controls = []
        push_update(confirm)

    async def _cancel(self, plan: PaymentPlanOut, _event: ft.Event[Any] | None = None) -> None:
        try:
            await self.client.cancel_payment_plan(plan.id)
        except ApiClientError as error:
            self.notice.say(error.message, error=True)
        else:
            self.notice.say(_("Plan {id} cancelled").format(id=plan.id))
        await self._load_plans()
