"""The routes the apps call, each a typed :class:`~mobile_app.api.answers.Call` (docs/api.md): what to send and
what the answer is. Auth's calls are in ``mobile_app.api.session``.

Request bodies are the server's own models (``shared_billing.api_models``, ``shared_billing.protocol``), built
with ``model_construct``: the server judges the values (see ``json_body``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal, TypeVar
from uuid import UUID

from pydantic import BaseModel

from mobile_app.api.answers import (
    JSON,
    Answer,
    Call,
    Reader,
    checked,
    json_body,
    read_bytes,
    read_created,
    read_list,
    read_model,
    read_nothing,
)
from shared_billing.api_models import (
    AccountChange,
    AssignmentIn,
    AuditOut,
    AuditQuery,
    BillOut,
    BillRequest,
    BlockIn,
    BlockOut,
    BlockPdfRequest,
    BulkApproval,
    BulkApprovalOut,
    BulkPaid,
    BulkResult,
    ChainCheck,
    ClockOut,
    DecisionReason,
    DownloadLink,
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
    PaymentIn,
    PaymentOut,
    QualityCheckBatch,
    QualityCheckOut,
    QualityCheckRequest,
    ReplacementIn,
    ReplacementOut,
    RereadDecision,
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
    RunRequest,
    ScheduleChange,
    ScheduleOut,
    StatementDismissIn,
    StatementImportOut,
    StatementLineOut,
    StatementMatchIn,
    TariffAssigned,
    TariffAssignmentIn,
    TariffOut,
    UnitIn,
    UnitOut,
    UserIn,
    UserOut,
)
from shared_billing.protocol import (
    BillStatus,
    ImportKind,
    PaymentMode,
    PullResponse,
    PushRequest,
    PushResponse,
    ReadingStatus,
    Role,
    StatementLineStatus,
)

__all__ = [
    "DECISIONS",
    "TOML",
    "Decision",
    "ReplacementDecision",
    "add_member",
    "approve_clean",
    "approved_readings",
    "assign_meter",
    "assign_tariff",
    "audit_check",
    "audit_page",
    "bill_page",
    "bill_pdf_link",
    "block_page",
    "block_pdf_link",
    "change_schedule",
    "clock",
    "create_bill",
    "create_block",
    "create_meter",
    "create_unit",
    "create_user",
    "deactivate_user",
    "decide",
    "decide_replacement",
    "end_member",
    "import_job",
    "import_page",
    "import_quarantine_csv",
    "import_tariff",
    "issue_run",
    "mark_paid",
    "members",
    "meter_page",
    "move_route",
    "my_account",
    "my_bill_page",
    "my_bill_pdf_link",
    "my_consumption",
    "my_payment_page",
    "photo",
    "photo_upload_state",
    "pull",
    "push",
    "reactivate_user",
    "record_payment",
    "reorder_route",
    "replace_meter",
    "reset_password",
    "review_facets",
    "review_queue",
    "route",
    "run",
    "run_page",
    "run_schedule",
    "schedules",
    "start_import",
    "start_run",
    "tariff_page",
    "unassign_meter",
    "unit_page",
    "update_block",
    "update_meter",
    "update_unit",
    "upload_photo",
    "upload_photo_piece",
    "user_page",
]

T = TypeVar("T")
R = TypeVar("R", bound=BaseModel)

# A reported meter replacement's decisions (``POST /api/review/readings/{uuid}/replacement/{decision}``), each
# with a reason.
ReplacementDecision = Literal["confirm", "reject"]

# Review decisions (``POST /api/review/readings/{uuid}/{decision}``) and whether each needs a reason.
Decision = Literal["approve", "reject", "reread"]
DECISIONS: dict[Decision, bool] = {"approve": False, "reject": True, "reread": True}
TOML = "application/toml"  # a tariff file's media type (docs/tariff-format.md)


# --- Sync (the phone) ---


def push(request: PushRequest) -> Call[PushResponse]:
    """``POST /api/sync/push``: one result per reading, in the order sent."""
    return Call("POST", "/sync/push", read_model(PushResponse), body=json_body(request), content_type=JSON)


def upload_photo(sha256: str, data: bytes, content_type: str) -> Call[bool]:
    """``PUT /api/photos/{sha256}``: True if the server stored it now (201), False if it had it (200)."""
    return Call("PUT", f"/photos/{sha256}", read_created, body=data, content_type=content_type)


@dataclass(frozen=True)
class PieceCall(Call[T]):
    """A ``PUT`` of one piece of a photo: the call with its ``Content-Range`` (docs/api.md "Photos")."""

    content_range: str = ""

    def headers(self, access_token: str | None) -> dict[str, str]:
        return super().headers(access_token) | {"Content-Range": self.content_range}


def _read_piece(answer: Answer) -> bool | None:
    """True: the piece completed the photo and it is stored (201); False: it was stored already (200); None: kept,
    more to send (204)."""
    status = checked(answer).status
    return None if status == 204 else status == 201


def upload_photo_piece(sha256: str, data: bytes, start: int, total: int, content_type: str) -> Call[bool | None]:
    """``PUT /api/photos/{sha256}`` with ``Content-Range: bytes START-END/TOTAL``: ``data`` is bytes ``start``.. of
    the ``total``; the answer as ``_read_piece``. A 409 (``ApiError``) names the server's offset in its details."""
    content_range = f"bytes {start}-{start + len(data) - 1}/{total}"
    return PieceCall(
        "PUT", f"/photos/{sha256}", _read_piece, body=data, content_type=content_type, content_range=content_range
    )


def photo_upload_state(sha256: str) -> Call[bool]:
    """``HEAD /api/photos/{sha256}``: True if the photo is stored (200), False if not yet (204); how many bytes
    the server holds is the answer's ``Upload-Offset`` header, which the sending wrapper reads."""
    return Call("HEAD", f"/photos/{sha256}", lambda answer: checked(answer).status == 200)


def pull(cursor: int) -> Call[PullResponse]:
    """``GET /api/sync/pull?cursor=N``: assignments (all when cursor is 0, else changes) and decisions."""
    return Call("GET", "/sync/pull", read_model(PullResponse), params={"cursor": cursor})


# --- Clock, review and directory (the console) ---


def clock() -> Call[ClockOut]:
    """``GET /api/clock``: the server's now and the society's date, billing month and zone."""
    return Call("GET", "/clock", read_model(ClockOut))


def review_queue(query: ReviewQuery | None = None) -> Call[ReviewPage]:
    """A page of the review list (``GET /api/review/readings``): the filter's fields left at their defaults are
    not sent."""
    params = (query or ReviewQuery()).model_dump(mode="json", exclude_defaults=True)
    return Call("GET", "/review/readings", read_model(ReviewPage), params=params)


def review_facets(status: ReadingStatus = ReadingStatus.SUBMITTED) -> Call[ReviewFacets]:
    """The review filters' choices with their counts."""
    return Call("GET", "/review/facets", read_model(ReviewFacets), params={"status": status.value})


def approve_clean(selection: ReviewFilter, expected: int) -> Call[BulkApprovalOut]:
    """Approve the clean readings ``selection`` selects, if still exactly ``expected`` (409 otherwise)."""
    body = json_body(BulkApproval.model_construct(filter=selection, expected=expected))
    return Call("POST", "/review/readings/approve-clean", read_model(BulkApprovalOut), body=body, content_type=JSON)


def quality_checks(period: str) -> Call[list[QualityCheckOut]]:
    """The period's quality checks, those whose check read differs first."""
    return Call("GET", "/review/quality-checks", read_list(QualityCheckOut), params={"period": period})


def ask_for_checks(request: QualityCheckRequest) -> Call[QualityCheckBatch]:
    """Pick a share of the period's approved reads to be read again."""
    return Call(
        "POST", "/review/quality-checks", read_model(QualityCheckBatch), body=json_body(request), content_type=JSON
    )


def decide(
    reading_uuid: UUID, decision: Decision, reason: str | None = None, due_on: date | None = None
) -> Call[ReviewItem]:
    """``approve``, ``reject`` or ``reread`` (see :data:`DECISIONS`; the last two carry the reason: without one
    the server answers 422, and may name the day the new read is due: without one the server sets its default)."""
    path = f"/review/readings/{reading_uuid}/{decision}"
    if not DECISIONS[decision]:
        return Call("POST", path, read_model(ReviewItem))
    body = json_body(RereadDecision.model_construct(reason=reason or "", due_on=due_on))
    return Call("POST", path, read_model(ReviewItem), body=body, content_type=JSON)


def photo(sha256: str) -> Call[bytes]:
    return Call("GET", f"/photos/{sha256}", read_bytes)


def approved_readings() -> Call[list[ReviewItem]]:
    return Call("GET", "/readings", read_list(ReviewItem), params={"status": ReadingStatus.APPROVED.value})


# --- Bills, runs, documents and payments (the console) ---


def create_bill(reading_uuid: UUID) -> Call[BillOut]:
    body = json_body(BillRequest.model_construct(reading_uuid=reading_uuid))
    return Call("POST", "/bills", read_model(BillOut), body=body, content_type=JSON)


def bill_page(
    q: str | None = None,
    limit: int = 50,
    offset: int = 0,
    *,
    block_id: int | None = None,
    period: str | None = None,
    status: BillStatus | None = None,
) -> Call[Page[BillOut]]:
    """``GET /api/bills``, newest first, filtered by whichever of block, month and status are given."""
    filters = _paged(
        q, limit, offset, block_id=block_id, period=period or None, status=status.value if status else None
    )
    return Call("GET", "/bills", read_model(Page[BillOut]), params=filters)


def start_run(block_id: int, period: str) -> Call[RunOut]:
    body = json_body(RunRequest.model_construct(block_id=block_id, period=period))
    return Call("POST", "/billing/runs", read_model(RunOut), body=body, content_type=JSON)


def run(run_id: int) -> Call[RunOut]:
    return Call("GET", f"/billing/runs/{run_id}", read_model(RunOut))


def run_page(
    q: str | None = None, limit: int = 50, offset: int = 0, *, period: str | None = None
) -> Call[Page[RunOut]]:
    """``GET /api/billing/runs``, newest first; ``period`` keeps one month's (the schedule's drafts among them)."""
    return Call(
        "GET", "/billing/runs", read_model(Page[RunOut]), params=_paged(q, limit, offset, period=period or None)
    )


def issue_run(run_id: int) -> Call[list[BillOut]]:
    return Call("POST", f"/billing/runs/{run_id}/issue", read_list(BillOut))


def bill(bill_id: int) -> Call[BillOut]:
    """``GET /api/bills/{id}``: one bill with its lines, trace and six months of its unit's billed units."""
    return Call("GET", f"/bills/{bill_id}", read_model(BillOut))


def bill_pdf_link(bill_id: int) -> Call[DownloadLink]:
    return Call("POST", f"/bills/{bill_id}/pdf-link", read_model(DownloadLink))


def export_link(request: ExportRequest) -> Call[DownloadLink]:
    """A signed link (10 minutes) to one export file (admin, accountant)."""
    return Call("POST", "/exports/link", read_model(DownloadLink), body=json_body(request), content_type=JSON)


def block_pdf_link(block_id: int, period: str) -> Call[DownloadLink]:
    body = json_body(BlockPdfRequest.model_construct(block_id=block_id, period=period))
    return Call("POST", "/billing/block-pdf-link", read_model(DownloadLink), body=body, content_type=JSON)


def record_payment(
    *, unit_id: int, bill_id: int, amount: Decimal, paid_on: date, mode: PaymentMode
) -> Call[PaymentOut]:
    payment = PaymentIn.model_construct(
        unit_id=unit_id, bill_id=bill_id, amount=amount, paid_on=paid_on, mode=mode, reference=None
    )
    return Call("POST", "/payments", read_model(PaymentOut), body=json_body(payment), content_type=JSON)


def mark_paid(bill_ids: list[int], paid_on: date, mode: PaymentMode) -> Call[BulkResult]:
    body = json_body(BulkPaid.model_construct(bill_ids=bill_ids, paid_on=paid_on, mode=mode, reference=None))
    return Call("POST", "/bills/mark-paid", read_model(BulkResult), body=body, content_type=JSON)


# --- Directory, people, routes and tariffs (the admin console; every list is a Page: q, limit, offset) ---


def _paged(q: str | None, limit: int, offset: int, **filters: str | int | None) -> dict[str, str | int]:
    given: dict[str, str | int | None] = {"q": q or None, "limit": limit, "offset": offset, **filters}
    return {name: value for name, value in given.items() if value is not None}


def block_page(q: str | None = None, limit: int = 50, offset: int = 0) -> Call[Page[BlockOut]]:
    return Call("GET", "/blocks", read_model(Page[BlockOut]), params=_paged(q, limit, offset))


def unit_page(
    q: str | None = None, limit: int = 50, offset: int = 0, *, block_id: int | None = None
) -> Call[Page[UnitOut]]:
    """Units by code; ``block_id`` keeps one block's."""
    return Call("GET", "/units", read_model(Page[UnitOut]), params=_paged(q, limit, offset, block_id=block_id))


def meter_page(q: str | None = None, limit: int = 50, offset: int = 0) -> Call[Page[MeterOut]]:
    return Call("GET", "/meters", read_model(Page[MeterOut]), params=_paged(q, limit, offset))


def user_page(
    q: str | None = None, limit: int = 50, offset: int = 0, *, role: Role | None = None
) -> Call[Page[UserOut]]:
    params = _paged(q, limit, offset, role=role.value if role else None)
    return Call("GET", "/users", read_model(Page[UserOut]), params=params)


def audit_page(query: AuditQuery) -> Call[Page[AuditOut]]:
    """``GET /api/audit/events``: a page of the audit log, newest first (admin)."""
    return Call(
        "GET", "/audit/events", read_model(Page[AuditOut]), params=query.model_dump(mode="json", exclude_none=True)
    )


def notification_page(
    q: str | None = None, limit: int = 50, offset: int = 0, *, status: str | None = None
) -> Call[Page[NotificationOut]]:
    """``GET /api/notifications``: the delivery log, newest first (admin)."""
    params = _paged(q, limit, offset, status=status)
    return Call("GET", "/notifications", read_model(Page[NotificationOut]), params=params)


def retry_notification(notification_id: int) -> Call[NotificationOut]:
    """``POST /api/notifications/{id}/retry``: a dead letter sent again (admin)."""
    return Call("POST", f"/notifications/{notification_id}/retry", read_model(NotificationOut))


def escalation_page(
    q: str | None = None, limit: int = 50, offset: int = 0, *, outcome: str | None = None
) -> Call[Page[EscalationOut]]:
    """``GET /api/escalations``: the escalation log, newest first (admin, accountant)."""
    params = _paged(q, limit, offset, outcome=outcome)
    return Call("GET", "/escalations", read_model(Page[EscalationOut]), params=params)


def escalation_steps() -> Call[list[EscalationStepOut]]:
    """``GET /api/escalation-steps``: the steps for a bill still overdue, by day (admin)."""
    return Call("GET", "/escalation-steps", read_list(EscalationStepOut))


def replace_escalation_steps(steps: EscalationStepsIn) -> Call[list[EscalationStepOut]]:
    """``PUT /api/escalation-steps`` (``steps`` as typed, for the server to judge: ``model_construct``)."""
    return Call("PUT", "/escalation-steps", read_list(EscalationStepOut), body=json_body(steps), content_type=JSON)


def audit_check() -> Call[ChainCheck]:
    """``GET /api/audit/verify``: whether the audit log's keyed chain is intact (admin)."""
    return Call("GET", "/audit/verify", read_model(ChainCheck))


def report(kind: type[R], name: str, **params: str | int | None) -> Call[R]:
    """``GET /api/reports/{name}``: one report's figures (docs/reports.md); parameters left None take the
    server's default (the society's current month, every block)."""
    given = {key: value for key, value in params.items() if value is not None}
    return Call("GET", f"/reports/{name}", read_model(kind), params=given)


def tariff_page(q: str | None = None, limit: int = 50, offset: int = 0) -> Call[Page[TariffOut]]:
    return Call("GET", "/tariffs", read_model(Page[TariffOut]), params=_paged(q, limit, offset))


def import_tariff(text: str) -> Call[list[TariffOut]]:
    """``POST /api/tariffs`` with a tariff file's text: the stored versions, or ``422 tariff.file_invalid`` whose
    message and ``details.line`` name the line at fault."""
    return Call("POST", "/tariffs", read_list(TariffOut), body=text.encode(), content_type=TOML)


def deactivate_user(user_id: int, reason: str) -> Call[UserOut]:
    body = json_body(AccountChange.model_construct(reason=reason))
    return Call("POST", f"/users/{user_id}/deactivate", read_model(UserOut), body=body, content_type=JSON)


def reactivate_user(user_id: int, reason: str) -> Call[UserOut]:
    body = json_body(AccountChange.model_construct(reason=reason))
    return Call("POST", f"/users/{user_id}/reactivate", read_model(UserOut), body=body, content_type=JSON)


def assign_meter(meter_id: int, engineer_id: int) -> Call[None]:
    body = json_body(AssignmentIn.model_construct(engineer_id=engineer_id))
    return Call("PUT", f"/meters/{meter_id}/assignment", read_nothing, body=body, content_type=JSON)


def unassign_meter(meter_id: int) -> Call[None]:
    return Call("DELETE", f"/meters/{meter_id}/assignment", read_nothing)


def _write(method: str, path: str, request: BaseModel, answer: Reader[T]) -> Call[T]:
    return Call(method, path, answer, body=json_body(request), content_type=JSON)


def create_block(block: BlockIn) -> Call[BlockOut]:
    return _write("POST", "/blocks", block, read_model(BlockOut))


def update_block(block_id: int, block: BlockIn) -> Call[BlockOut]:
    return _write("PUT", f"/blocks/{block_id}", block, read_model(BlockOut))


def create_unit(unit: UnitIn) -> Call[UnitOut]:
    return _write("POST", "/units", unit, read_model(UnitOut))


def update_unit(unit_id: int, unit: UnitIn) -> Call[UnitOut]:
    return _write("PUT", f"/units/{unit_id}", unit, read_model(UnitOut))


def create_meter(meter: MeterIn) -> Call[MeterOut]:
    return _write("POST", "/meters", meter, read_model(MeterOut))


def update_meter(meter_id: int, meter: MeterIn) -> Call[MeterOut]:
    return _write("PUT", f"/meters/{meter_id}", meter, read_model(MeterOut))


def members(meter_id: int, q: str | None = None, limit: int = 50, offset: int = 0) -> Call[Page[MembershipOut]]:
    """A shared meter's memberships, past and present."""
    params = _paged(q, limit, offset)
    return Call("GET", f"/meters/{meter_id}/members", read_model(Page[MembershipOut]), params=params)


def add_member(meter_id: int, membership: MembershipIn) -> Call[MembershipOut]:
    return _write("POST", f"/meters/{meter_id}/members", membership, read_model(MembershipOut))


def end_member(meter_id: int, membership_id: int, end: MembershipEnd) -> Call[MembershipOut]:
    return _write("POST", f"/meters/{meter_id}/members/{membership_id}/end", end, read_model(MembershipOut))


def create_user(user: UserIn) -> Call[UserOut]:
    return _write("POST", "/users", user, read_model(UserOut))


def reset_password(user_id: int, reset: PasswordReset) -> Call[UserOut]:
    return _write("POST", f"/users/{user_id}/password", reset, read_model(UserOut))


def route(engineer_id: int, q: str | None = None, limit: int = 50, offset: int = 0) -> Call[Page[RouteStop]]:
    """An engineer's meters in walk order."""
    return Call("GET", f"/routes/{engineer_id}", read_model(Page[RouteStop]), params=_paged(q, limit, offset))


def reorder_route(engineer_id: int, order: RouteOrder) -> Call[None]:
    """``PUT /api/routes/{engineer_id}``: the whole route in its new walk order (``204``)."""
    return _write("PUT", f"/routes/{engineer_id}", order, read_nothing)


def move_route(move: RouteMove) -> Call[RouteMoved]:
    return _write("POST", "/routes/move", move, read_model(RouteMoved))


def assign_tariff(tariff_id: int, assignment: TariffAssignmentIn) -> Call[TariffAssigned]:
    return _write("POST", f"/tariffs/{tariff_id}/units", assignment, read_model(TariffAssigned))


# --- Meter replacement ---


def replace_meter(meter_id: int, replacement: ReplacementIn) -> Call[ReplacementOut]:
    """``POST /api/meters/{meter_id}/replacement``: the old meter retired, the new one in its place."""
    return _write("POST", f"/meters/{meter_id}/replacement", replacement, read_model(ReplacementOut))


def decide_replacement(
    reading_uuid: UUID, decision: ReplacementDecision, reason: str, due_on: date | None = None
) -> Call[ReviewItem]:
    """The supervisor confirms (the replacement is recorded, the reading approved) or rejects a reported one; a
    rejection may name the day the new read is due, as :func:`decide` does."""
    body: DecisionReason = (
        RereadDecision.model_construct(reason=reason, due_on=due_on)
        if decision == "reject"
        else DecisionReason.model_construct(reason=reason)
    )
    return _write("POST", f"/review/readings/{reading_uuid}/replacement/{decision}", body, read_model(ReviewItem))


# --- Imports (docs/api.md "Imports") ---


def start_import(
    kind: ImportKind,
    data: bytes,
    *,
    file_name: str,
    content_type: str,
    dry_run: bool = False,
    tariff: str | None = None,
) -> Call[ImportJobOut]:
    """``POST /api/imports/{kind}`` with the file as the body: the job, running (``202``); poll :func:`import_job`."""
    params: dict[str, str | int] = {"file_name": file_name, "dry_run": "true" if dry_run else "false"}
    if tariff:
        params["tariff"] = tariff
    path = f"/imports/{kind.value}"
    return Call("POST", path, read_model(ImportJobOut), params=params, body=data, content_type=content_type)


def import_job(job_id: int) -> Call[ImportJobOut]:
    return Call("GET", f"/imports/{job_id}", read_model(ImportJobOut))


def import_page(q: str | None = None, limit: int = 50, offset: int = 0) -> Call[Page[ImportJobOut]]:
    return Call("GET", "/imports", read_model(Page[ImportJobOut]), params=_paged(q, limit, offset))


def import_quarantine_csv(job_id: int) -> Call[bytes]:
    """The quarantined rows of a done import as CSV (line, unit_id, reason)."""
    return Call("GET", f"/imports/{job_id}/quarantine.csv", read_bytes)


# --- Reconciliation: bank and UPI statements (docs/api.md "Reconciliation") ---


def import_statement(data: bytes, *, file_name: str, content_type: str) -> Call[StatementImportOut]:
    """``POST /api/statements`` with the file as the body: what matching its credits did (``201``)."""
    params: dict[str, str | int] = {"file_name": file_name}
    return Call(
        "POST", "/statements", read_model(StatementImportOut), params=params, body=data, content_type=content_type
    )


def statement_line_page(
    q: str | None = None, limit: int = 50, offset: int = 0, *, status: StatementLineStatus | None = None
) -> Call[Page[StatementLineOut]]:
    filters = _paged(q, limit, offset, status=status.value if status else None)
    return Call("GET", "/statements/lines", read_model(Page[StatementLineOut]), params=filters)


def match_statement_line(line_id: int, bill_id: int) -> Call[StatementLineOut]:
    body = StatementMatchIn.model_construct(bill_id=bill_id)
    return _write("POST", f"/statements/lines/{line_id}/match", body, read_model(StatementLineOut))


def dismiss_statement_line(line_id: int, reason: str) -> Call[StatementLineOut]:
    body = StatementDismissIn.model_construct(reason=reason)
    return _write("POST", f"/statements/lines/{line_id}/dismiss", body, read_model(StatementLineOut))


# --- Schedules (docs/api.md "Schedules") ---


def schedules() -> Call[list[ScheduleOut]]:
    return Call("GET", "/schedules", read_list(ScheduleOut))


def change_schedule(name: str, change: ScheduleChange) -> Call[ScheduleOut]:
    """``PUT /api/schedules/{name}``: on/off, day, time or interval (fields left None stay)."""
    return _write("PUT", f"/schedules/{name}", change, read_model(ScheduleOut))


def run_schedule(name: str) -> Call[ScheduleOut]:
    """``POST /api/schedules/{name}/run``: the job runs at the server's next check."""
    return Call("POST", f"/schedules/{name}/run", read_model(ScheduleOut))


# --- A resident's own account (docs/residents.md) ---


def my_account() -> Call[ResidentAccount]:
    return Call("GET", "/me/account", read_model(ResidentAccount))


def my_bill_page(q: str | None = None, limit: int = 50, offset: int = 0) -> Call[Page[BillOut]]:
    """The resident's issued bills, newest first."""
    return Call("GET", "/me/bills", read_model(Page[BillOut]), params=_paged(q, limit, offset))


def my_bill_pdf_link(bill_id: int) -> Call[DownloadLink]:
    return Call("POST", f"/me/bills/{bill_id}/pdf-link", read_model(DownloadLink))


def my_payment_page(q: str | None = None, limit: int = 50, offset: int = 0) -> Call[Page[ResidentPayment]]:
    return Call("GET", "/me/payments", read_model(Page[ResidentPayment]), params=_paged(q, limit, offset))


def my_consumption(months: int = 12) -> Call[ResidentConsumption]:
    """The units on the resident's bills month by month, up to the society's current month."""
    return Call("GET", "/me/consumption", read_model(ResidentConsumption), params={"months": months})
