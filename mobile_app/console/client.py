"""The browser console's client of the server's own API (supervisor and admin views): the asynchronous wrapper of
the client core (``mobile_app.api``), the phone's ``SyncApi`` being the synchronous one.

Async httpx, so calls from the mounted Flet app never block the server's event loop; the transport is injected:
an in-process ASGI transport when the console is mounted in the server, a network one otherwise. One
authorization path for phones and browsers: every call carries the signed-in user's bearer token.

The core builds every request, reads every answer into a typed model or an error of ``mobile_app.api.errors``,
and decides the token refresh (``mobile_app.api.session``): a 401 on a signed-in call exchanges the refresh token
once (under an asyncio lock: refresh tokens rotate, and presenting a used one revokes the device) and retries the
call once. When the session is over (``AuthExpired``) the tokens are forgotten, ``on_session_expired`` runs (the
app shows sign-in) and the call raises. A refresh race nobody won in time is a ``TransportError`` with the code
``auth.refresh_in_use``: the tab keeps its session and the person tries again.

"Today", the billing month and the zone times are shown in are the society's, asked of the server
(``GET /api/clock``), never taken from this process's clock or zone.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar
from uuid import UUID
from zoneinfo import ZoneInfo

import httpx
from pydantic import BaseModel

from mobile_app.api import endpoints, session
from mobile_app.api.answers import JSON, Answer, Call, json_body, no_answer, read_list, read_model
from mobile_app.api.errors import ApiClientError, AuthExpired
from mobile_app.api.over_httpx import NO_ANSWER, answer_of, request_args
from shared_billing.api_models import (
    AuditOut,
    AuditQuery,
    BillOut,
    BlockIn,
    BlockOut,
    BulkResult,
    ChainCheck,
    ClockOut,
    EscalationOut,
    EscalationStepOut,
    EscalationStepsIn,
    ExportRequest,
    ImportJobOut,
    MembershipEnd,
    MembershipIn,
    MembershipOut,
    MeterIn,
    MeterOut,
    NotificationOut,
    Page,
    PasswordReset,
    PaymentOut,
    PaymentPlanIn,
    PaymentPlanOut,
    QualityCheckBatch,
    QualityCheckOut,
    QualityCheckRequest,
    ReplacementIn,
    ReplacementOut,
    ResidentAccount,
    ResidentConsumption,
    ResidentPayment,
    ReviewFacets,
    ReviewFilter,
    ReviewItem,
    ReviewPage,
    ReviewQuery,
    RouteMove,
    RouteMoved,
    RouteOrder,
    RouteStop,
    RunOut,
    ScheduleChange,
    ScheduleOut,
    StatementImportOut,
    StatementLineOut,
    TariffAssigned,
    TariffAssignmentIn,
    TariffOut,
    TokenPair,
    UnitIn,
    UnitOut,
    UserIn,
    UserOut,
)
from shared_billing.protocol import BillStatus, ImportKind, PaymentMode, Role, StatementLineStatus
from shared_billing.report_models import DefaultersReport

__all__ = ["AdminClient", "BillingClient", "ConsoleClient", "PageFetch", "SocietyTime", "every_item"]

T = TypeVar("T")
R = TypeVar("R", bound=BaseModel)
# (search text or None, limit, offset) -> one page of a list.
PageFetch = Callable[[str | None, int, int], Awaitable[Page[Any]]]


async def every_item(fetch: PageFetch, limit: int = 200) -> list[Any]:
    """Every item of a paged list, page by page (a form's choices: blocks, tariffs, engineers; a whole route)."""
    items: list[Any] = []
    while True:
        page = await fetch(None, limit, len(items))
        items.extend(page.items)
        if not page.items or len(items) >= page.total:
            return items


@dataclass(frozen=True)
class SocietyTime:
    """``GET /api/clock``: the server's now, and the society's date, billing month and zone."""

    now: datetime
    today: date
    period: str
    zone: ZoneInfo

    @classmethod
    def of(cls, clock: ClockOut) -> SocietyTime:
        return cls(now=clock.now, today=clock.today, period=clock.period, zone=ZoneInfo(clock.timezone))


class ConsoleClient:
    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        on_session_expired: Callable[[], None] | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.http = http
        self.on_session_expired = on_session_expired
        self.tokens: TokenPair | None = None
        self.role: Role | None = None
        self.username: str | None = None
        self._device_id: str | None = None
        self._sleep = sleep
        self._refresh_lock = asyncio.Lock()

    async def _exchange(self, call: Call[Any], access_token: str | None) -> Answer:
        try:
            return answer_of(await self.http.request(**request_args(call, "", access_token)))
        except NO_ANSWER as error:
            raise no_answer(error) from error

    async def _send(self, call: Call[T]) -> T:
        """Send ``call``; a signed-in one with the access token, refreshed once and retried once on a 401."""
        if not call.signed_in:
            return call.read(await self._exchange(call, None))
        tokens = self.tokens
        if tokens is None:
            raise AuthExpired("not signed in")
        answer = await self._exchange(call, tokens.access_token)
        if answer.status == 401:
            try:
                fresh = await self._renew(tokens)
                answer = session.after_retry(await self._exchange(call, fresh.access_token))
            except AuthExpired:
                if self.tokens is not None:  # else another call already ended the session
                    self._end_session()
                raise
        return call.read(answer)

    async def _renew(self, refused: TokenPair) -> TokenPair:
        async with self._refresh_lock:
            step = session.after_401(refused, self.tokens, self._device_id)
            if isinstance(step, TokenPair):
                return step
            outcome = step.read(await self._exchange(step, None))
            if isinstance(outcome, session.AwaitWinner):
                for wait in outcome.waits:
                    await self._sleep(wait)
                    if (winner := outcome.winner(self.tokens)) is not None:
                        return winner
                raise outcome.give_up()
            self.tokens = outcome
            return outcome

    def _end_session(self) -> None:
        self.sign_out()
        if self.on_session_expired is not None:
            self.on_session_expired()

    async def sign_in(self, username: str, password: str, device_id: str) -> Role:
        tokens = await self._send(session.login_call(username, password, device_id))
        self.tokens, self.role, self.username, self._device_id = tokens, tokens.role, username, device_id
        return tokens.role

    def sign_out(self) -> None:
        """Forget the session here (the server's side ends with :meth:`log_out`, or when the tokens expire)."""
        self.tokens = None
        self.role = self.username = None

    async def log_out(self) -> None:
        """End the sign-in on the server too (``POST /api/auth/logout``: its tokens stop working at once), then
        forget it; the local sign-out happens even if the server cannot be reached."""
        tokens = self.tokens
        self.sign_out()
        if tokens is not None:
            call = session.logout_call()
            # The server is away: the access token still expires by itself.
            with contextlib.suppress(ApiClientError):
                call.read(await self._exchange(call, tokens.access_token))

    @property
    def must_change_password(self) -> bool:
        """The admin chose this sign-in's password: the server answers nothing else until the user picks their own."""
        return self.tokens is not None and self.tokens.password_change_required

    async def change_password(self, current: str, new: str) -> None:
        """Pick one's own password; this sign-in goes on (the server ends every other one)."""
        await self._send(session.password_call(current, new))
        if self.tokens is not None:
            self.tokens = self.tokens.model_copy(update={"password_change_required": False})

    async def society_time(self) -> SocietyTime:
        return SocietyTime.of(await self._send(endpoints.clock()))

    async def review_queue(self, query: ReviewQuery | None = None) -> ReviewPage:
        return await self._send(endpoints.review_queue(query))

    async def review_facets(self) -> ReviewFacets:
        return await self._send(endpoints.review_facets())

    async def approve_clean(self, selection: ReviewFilter, expected: int) -> int:
        """Approve the clean readings of ``selection``, if still ``expected`` of them; how many were approved."""
        return (await self._send(endpoints.approve_clean(selection, expected))).approved

    async def decide(
        self, reading_uuid: UUID, action: endpoints.Decision, reason: str | None = None, due_on: date | None = None
    ) -> ReviewItem:
        return await self._send(endpoints.decide(reading_uuid, action, reason, due_on))

    async def decide_replacement(
        self, reading_uuid: UUID, decision: endpoints.ReplacementDecision, reason: str, due_on: date | None = None
    ) -> ReviewItem:
        return await self._send(endpoints.decide_replacement(reading_uuid, decision, reason, due_on))

    async def quality_checks(self, period: str) -> list[QualityCheckOut]:
        return await self._send(endpoints.quality_checks(period))

    async def ask_for_checks(self, request: QualityCheckRequest) -> QualityCheckBatch:
        return await self._send(endpoints.ask_for_checks(request))

    async def photo(self, sha256: str) -> bytes:
        return await self._send(endpoints.photo(sha256))

    async def block_page(self, q: str | None, limit: int, offset: int) -> Page[BlockOut]:
        return await self._send(endpoints.block_page(q, limit, offset))

    async def unit_page(self, q: str | None, limit: int, offset: int, block_id: int | None = None) -> Page[UnitOut]:
        return await self._send(endpoints.unit_page(q, limit, offset, block_id=block_id))

    async def meter_page(self, q: str | None, limit: int, offset: int) -> Page[MeterOut]:
        return await self._send(endpoints.meter_page(q, limit, offset))

    async def blocks(self) -> list[BlockOut]:
        return await every_item(self.block_page)

    async def meters(self) -> list[MeterOut]:
        return await every_item(self.meter_page)

    async def units(self) -> list[UnitOut]:
        return await every_item(self.unit_page)

    async def approved_readings(self) -> list[ReviewItem]:
        return await self._send(endpoints.approved_readings())

    async def create_bill(self, reading_uuid: UUID) -> BillOut:
        return await self._send(endpoints.create_bill(reading_uuid))

    async def bill_page(self, q: str | None, limit: int, offset: int) -> Page[BillOut]:
        return await self._send(endpoints.bill_page(q, limit, offset))

    async def bills(self) -> list[BillOut]:
        return await every_item(self.bill_page)

    # A resident's own account: every call is scoped by the server to the resident's unit.

    async def my_account(self) -> ResidentAccount:
        return await self._send(endpoints.my_account())

    async def my_bill_page(self, q: str | None, limit: int, offset: int) -> Page[BillOut]:
        return await self._send(endpoints.my_bill_page(q, limit, offset))

    async def my_bill_pdf_link(self, bill_id: int) -> str:
        return (await self._send(endpoints.my_bill_pdf_link(bill_id))).url

    async def my_payment_page(self, q: str | None, limit: int, offset: int) -> Page[ResidentPayment]:
        return await self._send(endpoints.my_payment_page(q, limit, offset))

    async def my_consumption(self, months: int = 12) -> ResidentConsumption:
        return await self._send(endpoints.my_consumption(months))


class BillingClient(ConsoleClient):
    """The billing calls of the console (admins run and issue; accountants record payments)."""

    async def start_run(self, block_id: int, period: str) -> RunOut:
        return await self._send(endpoints.start_run(block_id, period))

    async def run(self, run_id: int) -> RunOut:
        return await self._send(endpoints.run(run_id))

    async def run_page(self, limit: int, *, period: str | None = None) -> Page[RunOut]:
        """The newest ``limit`` bill runs, of ``period`` if given."""
        return await self._send(endpoints.run_page(None, limit, 0, period=period))

    async def issue_run(self, run_id: int) -> list[BillOut]:
        return await self._send(endpoints.issue_run(run_id))

    async def find_bills(
        self, *, block_id: int | None = None, period: str | None = None, status: BillStatus | None = None
    ) -> list[BillOut]:
        """Every bill matching the filters, page by page (a block's month is counted and selected as a whole)."""

        async def fetch(q: str | None, limit: int, offset: int) -> Page[BillOut]:
            call = endpoints.bill_page(q, limit, offset, block_id=block_id, period=period, status=status)
            return await self._send(call)

        return await every_item(fetch)

    async def bill(self, bill_id: int) -> BillOut:
        """One bill as its detail: with ``history``, the units of its unit's bills over six months."""
        return await self._send(endpoints.bill(bill_id))

    async def pdf_link(self, bill_id: int) -> str:
        return (await self._send(endpoints.bill_pdf_link(bill_id))).url

    async def export_link(self, request: ExportRequest) -> str:
        return (await self._send(endpoints.export_link(request))).url

    async def block_pdf_link(self, block_id: int, period: str) -> str:
        return (await self._send(endpoints.block_pdf_link(block_id, period))).url

    async def record_payment(
        self, *, unit_id: int, bill_id: int, amount: Decimal, paid_on: date, mode: PaymentMode
    ) -> PaymentOut:
        call = endpoints.record_payment(unit_id=unit_id, bill_id=bill_id, amount=amount, paid_on=paid_on, mode=mode)
        return await self._send(call)

    async def mark_paid(self, bill_ids: list[int], paid_on: date, mode: PaymentMode) -> BulkResult:
        return await self._send(endpoints.mark_paid(bill_ids, paid_on, mode))

    async def import_statement(self, data: bytes, *, file_name: str, content_type: str) -> StatementImportOut:
        return await self._send(endpoints.import_statement(data, file_name=file_name, content_type=content_type))

    async def statement_lines(
        self, status: StatementLineStatus | None, q: str | None = None, limit: int = 50, offset: int = 0
    ) -> Page[StatementLineOut]:
        return await self._send(endpoints.statement_line_page(q, limit, offset, status=status))

    async def match_statement_line(self, line_id: int, bill_id: int) -> StatementLineOut:
        return await self._send(endpoints.match_statement_line(line_id, bill_id))

    async def dismiss_statement_line(self, line_id: int, reason: str) -> StatementLineOut:
        return await self._send(endpoints.dismiss_statement_line(line_id, reason))

    # Defaulters and payment plans (docs/api.md "Reports" and "Payments"; docs/domain.md "Payment plans").

    async def defaulters(self, block_id: int | None = None) -> DefaultersReport:
        """``GET /api/reports/defaulters``: the accounts owing past their due day on the society's today."""
        return await self._send(endpoints.report(DefaultersReport, "defaulters", block_id=block_id))

    async def payment_plans(self, unit_id: int) -> list[PaymentPlanOut]:
        """``GET /api/units/{id}/payment-plans``: the account's plans, the newest first."""
        return await self._send(Call("GET", f"/units/{unit_id}/payment-plans", read_list(PaymentPlanOut)))

    async def create_payment_plan(self, unit_id: int, plan: PaymentPlanIn) -> PaymentPlanOut:
        """``POST /api/units/{id}/payment-plans`` (``plan`` as typed, for the server to judge: ``model_construct``)."""
        call = Call(
            "POST",
            f"/units/{unit_id}/payment-plans",
            read_model(PaymentPlanOut),
            body=json_body(plan),
            content_type=JSON,
        )
        return await self._send(call)

    async def cancel_payment_plan(self, plan_id: int) -> PaymentPlanOut:
        return await self._send(Call("POST", f"/payment-plans/{plan_id}/cancel", read_model(PaymentPlanOut)))

    async def escalation_page(
        self, q: str | None, limit: int, offset: int, *, outcome: str | None = None
    ) -> Page[EscalationOut]:
        return await self._send(endpoints.escalation_page(q, limit, offset, outcome=outcome))


class AdminClient(BillingClient):
    """The admin's directory, people, routes and tariffs. Lists come a page at a time (``q``, ``limit``,
    ``offset``), as the console's paged lists ask for them."""

    async def user_page(self, q: str | None, limit: int, offset: int, role: Role | None = None) -> Page[UserOut]:
        return await self._send(endpoints.user_page(q, limit, offset, role=role))

    async def audit_page(self, query: AuditQuery) -> Page[AuditOut]:
        return await self._send(endpoints.audit_page(query))

    async def notification_page(
        self, q: str | None, limit: int, offset: int, *, status: str | None = None
    ) -> Page[NotificationOut]:
        return await self._send(endpoints.notification_page(q, limit, offset, status=status))

    async def retry_notification(self, notification_id: int) -> NotificationOut:
        return await self._send(endpoints.retry_notification(notification_id))

    async def escalation_steps(self) -> list[EscalationStepOut]:
        return await self._send(endpoints.escalation_steps())

    async def replace_escalation_steps(self, steps: EscalationStepsIn) -> list[EscalationStepOut]:
        return await self._send(endpoints.replace_escalation_steps(steps))

    async def audit_check(self) -> ChainCheck:
        return await self._send(endpoints.audit_check())

    async def report(self, kind: type[R], name: str, **params: str | int | None) -> R:
        return await self._send(endpoints.report(kind, name, **params))

    async def tariff_page(self, q: str | None, limit: int, offset: int) -> Page[TariffOut]:
        return await self._send(endpoints.tariff_page(q, limit, offset))

    async def import_tariff(self, text: str) -> list[TariffOut]:
        return await self._send(endpoints.import_tariff(text))

    async def deactivate_user(self, user_id: int, reason: str) -> UserOut:
        return await self._send(endpoints.deactivate_user(user_id, reason))

    async def reactivate_user(self, user_id: int, reason: str) -> UserOut:
        return await self._send(endpoints.reactivate_user(user_id, reason))

    async def assign_meter(self, meter_id: int, engineer_id: int) -> None:
        await self._send(endpoints.assign_meter(meter_id, engineer_id))

    async def unassign_meter(self, meter_id: int) -> None:
        await self._send(endpoints.unassign_meter(meter_id))

    async def save_block(self, block_id: int | None, block: BlockIn) -> BlockOut:
        """Create (``block_id`` None) or replace a block."""
        call = endpoints.create_block(block) if block_id is None else endpoints.update_block(block_id, block)
        return await self._send(call)

    async def save_unit(self, unit_id: int | None, unit: UnitIn) -> UnitOut:
        call = endpoints.create_unit(unit) if unit_id is None else endpoints.update_unit(unit_id, unit)
        return await self._send(call)

    async def save_meter(self, meter_id: int | None, meter: MeterIn) -> MeterOut:
        call = endpoints.create_meter(meter) if meter_id is None else endpoints.update_meter(meter_id, meter)
        return await self._send(call)

    async def members(self, meter_id: int, q: str | None, limit: int, offset: int) -> Page[MembershipOut]:
        return await self._send(endpoints.members(meter_id, q, limit, offset))

    async def add_member(self, meter_id: int, membership: MembershipIn) -> MembershipOut:
        return await self._send(endpoints.add_member(meter_id, membership))

    async def end_member(self, meter_id: int, membership_id: int, end: MembershipEnd) -> MembershipOut:
        return await self._send(endpoints.end_member(meter_id, membership_id, end))

    async def create_user(self, user: UserIn) -> UserOut:
        return await self._send(endpoints.create_user(user))

    async def reset_password(self, user_id: int, reset: PasswordReset) -> UserOut:
        return await self._send(endpoints.reset_password(user_id, reset))

    async def route(self, engineer_id: int, q: str | None, limit: int, offset: int) -> Page[RouteStop]:
        return await self._send(endpoints.route(engineer_id, q, limit, offset))

    async def reorder_route(self, engineer_id: int, order: RouteOrder) -> None:
        await self._send(endpoints.reorder_route(engineer_id, order))

    async def move_route(self, move: RouteMove) -> RouteMoved:
        return await self._send(endpoints.move_route(move))

    async def assign_tariff(self, tariff_id: int, assignment: TariffAssignmentIn) -> TariffAssigned:
        return await self._send(endpoints.assign_tariff(tariff_id, assignment))

    async def replace_meter(self, meter_id: int, replacement: ReplacementIn) -> ReplacementOut:
        return await self._send(endpoints.replace_meter(meter_id, replacement))

    async def start_import(
        self,
        kind: ImportKind,
        data: bytes,
        *,
        file_name: str,
        content_type: str,
        dry_run: bool = False,
        tariff: str | None = None,
    ) -> ImportJobOut:
        call = endpoints.start_import(
            kind, data, file_name=file_name, content_type=content_type, dry_run=dry_run, tariff=tariff
        )
        return await self._send(call)

    async def import_job(self, job_id: int) -> ImportJobOut:
        return await self._send(endpoints.import_job(job_id))

    async def import_page(self, q: str | None, limit: int, offset: int) -> Page[ImportJobOut]:
        return await self._send(endpoints.import_page(q, limit, offset))

    async def import_quarantine_csv(self, job_id: int) -> bytes:
        return await self._send(endpoints.import_quarantine_csv(job_id))

    async def schedules(self) -> list[ScheduleOut]:
        return await self._send(endpoints.schedules())

    async def change_schedule(self, name: str, change: ScheduleChange) -> ScheduleOut:
        return await self._send(endpoints.change_schedule(name, change))

    async def run_schedule(self, name: str) -> ScheduleOut:
        return await self._send(endpoints.run_schedule(name))
