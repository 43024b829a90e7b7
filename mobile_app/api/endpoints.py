"""The routes the apps call, each a typed :class:`~mobile_app.api.answers.Call` (docs/api.md): what to send and
what the answer is. Auth's calls are in ``mobile_app.api.session``.

Request bodies are the server's own models (``shared_billing.api_models``, ``shared_billing.protocol``), built
with ``model_construct``: the server judges the values (see ``json_body``).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal
from uuid import UUID

from mobile_app.api.answers import (
    JSON,
    Call,
    json_body,
    read_bytes,
    read_created,
    read_list,
    read_model,
)
from shared_billing.api_models import (
    BillOut,
    BillRequest,
    BlockOut,
    BlockPdfRequest,
    BulkPaid,
    BulkResult,
    ClockOut,
    DecisionReason,
    DownloadLink,
    MeterOut,
    PaymentIn,
    PaymentOut,
    ReviewItem,
    RunOut,
    RunRequest,
    UnitOut,
)
from shared_billing.protocol import (
    BillStatus,
    PaymentMode,
    PullResponse,
    PushRequest,
    PushResponse,
    ReadingStatus,
)

__all__ = [
    "DECISIONS",
    "Decision",
    "approved_readings",
    "bill_pdf_link",
    "bills",
    "block_pdf_link",
    "blocks",
    "clock",
    "create_bill",
    "decide",
    "issue_run",
    "mark_paid",
    "meters",
    "photo",
    "pull",
    "push",
    "record_payment",
    "review_queue",
    "run",
    "start_run",
    "units",
    "upload_photo",
]

# Review decisions (``POST /api/review/readings/{uuid}/{decision}``) and whether each needs a reason.
Decision = Literal["approve", "reject", "reread"]
DECISIONS: dict[Decision, bool] = {"approve": False, "reject": True, "reread": True}


# --- Sync (the phone) ---


def push(request: PushRequest) -> Call[PushResponse]:
    """``POST /api/sync/push``: one result per reading, in the order sent."""
    return Call("POST", "/sync/push", read_model(PushResponse), body=json_body(request), content_type=JSON)


def upload_photo(sha256: str, data: bytes, content_type: str) -> Call[bool]:
    """``PUT /api/photos/{sha256}``: True if the server stored it now (201), False if it had it (200)."""
    return Call("PUT", f"/photos/{sha256}", read_created, body=data, content_type=content_type)


def pull(cursor: int) -> Call[PullResponse]:
    """``GET /api/sync/pull?cursor=N``: assignments (all when cursor is 0, else changes) and decisions."""
    return Call("GET", "/sync/pull", read_model(PullResponse), params={"cursor": cursor})


# --- Clock, review and directory (the console) ---


def clock() -> Call[ClockOut]:
    """``GET /api/clock``: the server's now and the society's date, billing month and zone."""
    return Call("GET", "/clock", read_model(ClockOut))


def review_queue() -> Call[list[ReviewItem]]:
    return Call("GET", "/review/readings", read_list(ReviewItem))


def decide(reading_uuid: UUID, decision: Decision, reason: str | None = None) -> Call[ReviewItem]:
    """``approve``, ``reject`` or ``reread`` (see :data:`DECISIONS`; the last two carry the reason: without one
    the server answers 422)."""
    path = f"/review/readings/{reading_uuid}/{decision}"
    if not DECISIONS[decision]:
        return Call("POST", path, read_model(ReviewItem))
    body = json_body(DecisionReason.model_construct(reason=reason or ""))
    return Call("POST", path, read_model(ReviewItem), body=body, content_type=JSON)


def photo(sha256: str) -> Call[bytes]:
    return Call("GET", f"/photos/{sha256}", read_bytes)


def blocks() -> Call[list[BlockOut]]:
    return Call("GET", "/blocks", read_list(BlockOut))


def units() -> Call[list[UnitOut]]:
    return Call("GET", "/units", read_list(UnitOut))


def meters() -> Call[list[MeterOut]]:
    return Call("GET", "/meters", read_list(MeterOut))


def approved_readings() -> Call[list[ReviewItem]]:
    return Call("GET", "/readings", read_list(ReviewItem), params={"status": ReadingStatus.APPROVED.value})


# --- Bills, runs, documents and payments (the console) ---


def create_bill(reading_uuid: UUID) -> Call[BillOut]:
    body = json_body(BillRequest.model_construct(reading_uuid=reading_uuid))
    return Call("POST", "/bills", read_model(BillOut), body=body, content_type=JSON)


def bills(
    *, block_id: int | None = None, period: str | None = None, status: BillStatus | None = None
) -> Call[list[BillOut]]:
    """``GET /api/bills``, filtered by whichever of block, month and status are given."""
    given = {"block_id": block_id, "period": period, "status": status.value if status else None}
    return Call("GET", "/bills", read_list(BillOut), params={k: v for k, v in given.items() if v})


def start_run(block_id: int, period: str) -> Call[RunOut]:
    body = json_body(RunRequest.model_construct(block_id=block_id, period=period))
    return Call("POST", "/billing/runs", read_model(RunOut), body=body, content_type=JSON)


def run(run_id: int) -> Call[RunOut]:
    return Call("GET", f"/billing/runs/{run_id}", read_model(RunOut))


def issue_run(run_id: int) -> Call[list[BillOut]]:
    return Call("POST", f"/billing/runs/{run_id}/issue", read_list(BillOut))


def bill_pdf_link(bill_id: int) -> Call[DownloadLink]:
    return Call("POST", f"/bills/{bill_id}/pdf-link", read_model(DownloadLink))


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
