"""Request and public models of the HTTP API beyond the sync protocol (``protocol.py``): the server validates and
publishes them (OpenAPI), the console and the phone parse them. One definition each, so a field cannot mean one thing
on the server and another in a client.

Enumerated fields are typed with the wire enums (``shared_billing.protocol``, flags ``shared_billing.checks``), so
OpenAPI lists their values, a request naming another value is a 422 and a client compares members, not strings.
Bounded fields use ``shared_billing.api_types``. Pure pydantic: no I/O here.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Generic, Literal, TypeVar
from uuid import UUID

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from shared_billing.api_types import (
    Amount,
    Day,
    DeviceId,
    Id,
    IdList,
    NewPassword,
    NewUsername,
    PageOffset,
    Password,
    Period,
    Reason,
    Reference,
    SearchText,
    Token,
    Username,
)
from shared_billing.checks import ReadingFlag
from shared_billing.labels import LabelVerdict
from shared_billing.payment_plans import MAX_INSTALMENTS, PlanStanding
from shared_billing.protocol import (
    NO_NUL,
    BillStatus,
    EscalationKind,
    EscalationOutcome,
    ExportFile,
    ImportKind,
    ImportStatus,
    LedgerEntryKind,
    MatchRule,
    MeterKind,
    MeterStatus,
    NoteKind,
    NotificationChannel,
    NotificationEvent,
    NotificationLanguage,
    NotificationStatus,
    OcrVerdict,
    PaymentMode,
    PhotoCheckVerdict,
    PreviousReading,
    QualityCheckStatus,
    ReadingStatus,
    ReadType,
    ReviewSort,
    Role,
    RunStatus,
    ScheduleCadence,
    ScheduleKind,
    ScheduleStatus,
    SkipReason,
    StatementLineStatus,
    UnitCategory,
)

__all__ = [
    "AccountChange",
    "AccountRole",
    "AssignmentIn",
    "AuditOut",
    "AuditQuery",
    "BillLineOut",
    "BillMonthUnits",
    "BillOut",
    "BillRequest",
    "BlockIn",
    "BlockOut",
    "BlockPdfRequest",
    "BulkApproval",
    "BulkApprovalOut",
    "BulkPaid",
    "BulkResult",
    "ChainCheck",
    "ClockOut",
    "CloseRequest",
    "ClosedPeriodOut",
    "DecisionReason",
    "DownloadLink",
    "EscalationOut",
    "EscalationStepIn",
    "EscalationStepOut",
    "EscalationStepsIn",
    "ExpectedRange",
    "ExportRequest",
    "Facet",
    "Health",
    "ImportIssueOut",
    "ImportJobOut",
    "ImportReportOut",
    "InstalmentOut",
    "Ledger",
    "LedgerLine",
    "LoginRequest",
    "Me",
    "MembershipEnd",
    "MembershipIn",
    "MembershipOut",
    "MeterIn",
    "MeterOut",
    "NoteIn",
    "NoteOut",
    "NotificationOut",
    "Page",
    "PasswordChange",
    "PasswordReset",
    "PaymentIn",
    "PaymentOut",
    "PaymentPlanIn",
    "PaymentPlanOut",
    "PeriodRead",
    "QualityCheckBatch",
    "QualityCheckOut",
    "QualityCheckRequest",
    "RefreshRequest",
    "ReplacementIn",
    "ReplacementOut",
    "RereadDecision",
    "ResidentAccount",
    "ResidentConsumption",
    "ResidentPayment",
    "ReviewEvidence",
    "ReviewFacets",
    "ReviewFilter",
    "ReviewItem",
    "ReviewOcr",
    "ReviewPage",
    "ReviewPageLimit",
    "ReviewQuery",
    "ReviewReplacement",
    "RouteMove",
    "RouteMoved",
    "RouteOrder",
    "RouteStop",
    "RunOut",
    "RunRequest",
    "ScheduleChange",
    "ScheduleOut",
    "StaffRole",
    "StatementCounts",
    "StatementDismissIn",
    "StatementImportOut",
    "StatementLineOut",
    "StatementMatchIn",
    "StatementOutcome",
    "StatementProblemOut",
    "StatusRefresh",
    "TariffAssigned",
    "TariffAssignmentIn",
    "TariffOut",
    "TokenPair",
    "UnitIn",
    "UnitOut",
    "UserIn",
    "UserOut",
]


# --- Auth (docs/api.md "Auth") ---


class LoginRequest(BaseModel):
    """``POST /api/auth/login``: a sign-in on one device (its refresh tokens are bound to ``device_id``)."""

    username: Username
    password: Password
    device_id: DeviceId


class RefreshRequest(BaseModel):
    """``POST /api/auth/refresh``: exchange a refresh token of this device for a new pair."""

    refresh_token: Token
    device_id: DeviceId


class TokenPair(BaseModel):
    """The answer to login and refresh: what the server issues and what the clients keep (the phone persists it)."""

    # The wire always carries token_type; the default only reads pairs a client stored before it was sent.
    model_config = ConfigDict(frozen=True, json_schema_serialization_defaults_required=True)

    access_token: str
    refresh_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth token type, not a secret
    expires_in: int
    role: Role
    user_id: int
    # True: the password was set by an admin; until POST /api/auth/password every other route answers 403
    # auth.password_change_required (the default reads pairs stored before the field existed).
    password_change_required: bool = False


class Me(BaseModel):
    """``GET /api/me``: who the bearer token belongs to."""

    id: int
    username: str
    full_name: str
    role: Role
    password_change_required: bool = False  # as in TokenPair: the apps show the change-password form


# --- Health and clock ---


class Health(BaseModel):
    status: str  # "ok" (a 503's details say "unavailable")
    version: str
    checks: dict[str, str]  # database, schema, data_dir: "ok" or a short reason (unreachable, locked, missing...)


class ClockOut(BaseModel):
    now: datetime  # aware UTC, from the server's clock (FIELDMETER_NOW pins it)
    today: date  # the society's calendar date
    period: str  # the society's billing month, YYYY-MM
    timezone: str  # IANA name of the society's zone, for showing times


# --- Directory and users ---


class BlockOut(BaseModel):
    id: int
    code: str
    name: str


class UnitOut(BaseModel):
    id: int
    code: str
    block_id: int
    category: UnitCategory
    unit_type: str
    floor: str | None
    tariff_id: int | None
    rate_override: Decimal | None
    fixed_charge_waived: bool
    sanctioned_load_kw: Decimal | None
    # Personal data: None in a supervisor's answer (only admins and accountants see it), never in the pull.
    consumer_name: str | None
    phone: str | None
    email: str | None
    # How the consumer is told of bills and payments (docs/notifications.md); absent from older servers.
    notify_language: NotificationLanguage = NotificationLanguage.ENGLISH
    notify_channels: list[NotificationChannel] = [NotificationChannel.EMAIL, NotificationChannel.SMS]
    notify_opt_out: bool = False


class MeterOut(BaseModel):
    id: int
    number: str
    block_id: int
    unit_id: int | None
    kind: MeterKind
    label: str | None
    dials: int
    decimals: int
    multiplier: Decimal
    lat: float | None
    lon: float | None
    engineer_id: int | None
    install_date: date | None
    status: MeterStatus


class TariffOut(BaseModel):
    id: int
    code: str
    name: str
    valid_from: date
    config: dict[str, Any]


class UserOut(BaseModel):
    """A user account as the user list and the account switches show it."""

    id: int
    username: str
    full_name: str
    role: Role
    active: bool  # False: deactivated, every session ended (POST /users/{id}/reactivate lets them back)
    password_change_required: bool = False  # an admin set the password; the user has not changed it yet
    unit_id: int | None = None  # a resident's unit (docs/residents.md); None for staff
    unit_code: str | None = None


class AssignmentIn(BaseModel):
    engineer_id: Id


class AccountChange(BaseModel):
    reason: Reason


# --- Review ---


class ReviewReplacement(BaseModel):
    """The meter replacement a reading reported (protocol 2) and where its decision stands: ``pending`` until the
    supervisor confirms it (the event: ``new_meter_id``) or rejects it with the reading."""

    old_final_value: str
    new_meter_number: str
    new_initial_value: str
    state: Literal["pending", "confirmed", "rejected"]
    new_meter_id: int | None = None


class ExpectedRange(BaseModel):
    """The register values a read at its capture time could plausibly show (``plausibility.expected_window`` from
    the meter's approved history before it), at the register's decimals."""

    low: str
    high: str
    expected: str


class PeriodRead(BaseModel):
    """Another reading of the same meter in the same period (a re-read, a second visit): shown beside it."""

    uuid: UUID
    value: str | None
    skip_reason: SkipReason | None
    captured_at: datetime
    status: ReadingStatus
    engineer_name: str | None


class ReviewOcr(BaseModel):
    """The register the server read off the reading's photo (docs/review.md "OCR"): pending until it has been read;
    ``value`` and ``confidence`` (0–1) once a register was found."""

    verdict: OcrVerdict
    value: str | None = None
    confidence: Decimal | None = None


class ReviewEvidence(BaseModel):
    """What a protocol-3 reading carried beyond its value, fix and photo (docs/review.md "Evidence"): the phone's
    photo checks with the engineer's override reason, the label as scanned with the server's verdict on it (against
    the meter's number at the push), the meter-room session it was read in."""

    photo_checks: PhotoCheckVerdict | None = None
    label: str | None = None
    label_verdict: LabelVerdict | None = None  # None without a label
    room_session: UUID | None = None


class ReviewItem(BaseModel):
    uuid: UUID
    meter_id: int
    meter_number: str
    meter_kind: MeterKind
    unit_code: str | None
    block_code: str
    read_type: ReadType
    skip_reason: SkipReason | None
    value: str | None
    previous_value: str | None
    consumption: str | None
    captured_at: datetime
    received_at: datetime
    period: str
    engineer_id: int | None
    gps_lat: float | None
    gps_lon: float | None
    gps_accuracy_m: float | None
    distance_m: float | None
    meter_lat: float | None
    meter_lon: float | None
    note: str | None
    replaces: UUID | None
    flags: list[ReadingFlag]
    photo_sha256: str | None
    photo_url: str | None
    photo_pending: bool
    status: ReadingStatus
    decision_reason: str | None
    replacement: ReviewReplacement | None = None  # protocol 2: a replacement reported with the reading
    due_on: date | None = None  # a rejection's or re-read's due date (society's calendar)
    engineer_name: str | None = None
    # The meter's approved reads before this one, newest first (the first is ``previous_value``), at most six.
    history: list[PreviousReading] = []
    window: ExpectedRange | None = None  # None: too little history to judge
    same_period: list[PeriodRead] = []  # the meter's other readings in this period, oldest first
    clean: bool = False  # what bulk approval takes: a value, no flag, its photo in and read, no replacement reported
    ocr: ReviewOcr | None = None  # None: no photo, or not stored yet, or OCR switched off
    evidence: ReviewEvidence | None = None  # protocol 3: None for a reading that carried none
    # The meter's label confirmed it: the engineer's presence is proven by it, and the GPS verdict (still in
    # gps_*/distance_m) raised no flag (``shared_billing.checks.presence_flags``).
    presence_by_label: bool = False


#: A review page's size: up to 500 readings, so a supervisor can scan a whole block's cards.
ReviewPageLimit = Annotated[int, Field(ge=1, le=500)]


class ReviewFilter(BaseModel):
    """Which readings the review list shows (and bulk approval takes): every field narrows, none widens."""

    model_config = ConfigDict(extra="forbid")

    status: ReadingStatus = ReadingStatus.SUBMITTED
    block_id: Id | None = None
    engineer_id: Id | None = None
    flag: ReadingFlag | None = None
    read_type: ReadType | None = None
    older_than_days: Annotated[int, Field(ge=0, le=3660)] | None = None  # received at least this many days ago
    ocr: OcrVerdict | None = None  # e.g. mismatch: the photo's register differs from the typed value
    q: SearchText | None = None  # a meter number or unit code, any part of it


class ReviewQuery(ReviewFilter):
    """The review list's query: a filter, an order and a page."""

    sort: ReviewSort = ReviewSort.OLDEST
    limit: ReviewPageLimit = 50
    offset: PageOffset = 0

    def selection(self) -> ReviewFilter:
        return ReviewFilter.model_validate(self.model_dump(include=set(ReviewFilter.model_fields)))


class BulkApproval(BaseModel):
    """Approve every clean reading the filter selects; ``expected`` is the count the supervisor confirmed: if it
    changed meanwhile (a new push, another supervisor), nothing is approved (409 review.bulk_changed)."""

    model_config = ConfigDict(extra="forbid")

    filter: ReviewFilter = ReviewFilter()
    expected: Annotated[int, Field(ge=1, le=5000)]


class BulkApprovalOut(BaseModel):
    approved: int


class Facet(BaseModel):
    """One choice of a review filter and how many readings it selects."""

    id: int | None = None
    code: str
    label: str
    count: int


class ReviewFacets(BaseModel):
    """The choices of the review filters for one status, each with its count: engineers, blocks, flags."""

    total: int
    engineers: list[Facet]
    blocks: list[Facet]
    flags: list[Facet]


class DecisionReason(BaseModel):
    reason: Reason


class RereadDecision(DecisionReason):
    """A rejection or a re-read: the reason, and the day the new read is due (society's calendar; not before
    today). Left out, the server sets today + its ``reread_due_days``."""

    due_on: date | None = None


# --- Bills and bill runs ---


class BillRequest(BaseModel):
    reading_uuid: UUID


class BillLineOut(BaseModel):
    code: str
    description: str
    quantity: Decimal
    rate: Decimal | None
    amount: Decimal


class BillMonthUnits(BaseModel):
    """One month of a bill's usage history: the units billed to its unit then, ``None`` when it had no bill."""

    period: str
    units: Decimal | None


class BillOut(BaseModel):
    id: int
    bill_number: str | None
    status: BillStatus
    unit_id: int
    unit_code: str
    block_id: int
    period: str
    issued_at: datetime | None
    due_on: date | None
    charges: Decimal
    reading_uuid: UUID | None  # None: billed on an estimate
    estimated_units: Decimal | None
    lines: list[BillLineOut]
    trace: list[str]
    total: Decimal
    round_off: Decimal
    payable: Decimal
    created_at: datetime
    # The bill's month and the five before, oldest first (GET /api/bills/{id} only; lists leave it out): what the
    # printed bill's usage chart shows.
    history: list[BillMonthUnits] | None = None


class RunRequest(BaseModel):
    block_id: Id
    period: Period


class RunOut(BaseModel):
    id: int
    block_id: int
    block_code: str
    period: str
    status: RunStatus
    total_units: int
    processed: int
    created: int
    skipped: list[dict[str, Any]]
    started_at: datetime
    finished_at: datetime | None
    error: str | None  # plain words for people; the details of an unexpected failure are in the server log
    error_code: str | None  # billing.run_failed, billing.run_superseded, billing.run_interrupted
    started_by: str | None = Field(
        description="Username of the person who started the run; null when the server's schedule started it"
    )
    drafts: int = Field(description="The run's bills still draft: issuing the run numbers and charges them")


class CloseRequest(BaseModel):
    block_id: Id
    period: Period


class ClosedPeriodOut(BaseModel):
    """A block's period closed to bill runs (corrections go through credit and debit notes)."""

    block_id: int
    period: str
    closed_at: datetime


class StatusRefresh(BaseModel):
    changed: int


# --- Documents ---


class DownloadLink(BaseModel):
    url: str


class BlockPdfRequest(BaseModel):
    block_id: Id
    period: Period


class ExportRequest(BaseModel):
    """``POST /api/exports/link``: a signed link to one export file, for a browser to download."""

    model_config = ConfigDict(extra="forbid")

    file: ExportFile
    period: Period
    block_id: Id | None = None


# --- Payments, notes and the ledger ---


class PaymentIn(BaseModel):
    unit_id: Id
    bill_id: Id | None = None
    amount: Amount
    paid_on: Day
    mode: PaymentMode
    reference: Reference | None = None


class PaymentOut(BaseModel):
    id: int
    unit_id: int
    bill_id: int | None
    amount: Decimal
    paid_on: date
    mode: PaymentMode
    balance: Decimal  # the account's balance after the payment; negative is a credit


class PaymentPlanIn(BaseModel):
    """A payment plan for what the account owes now: ``instalments`` monthly instalments from ``first_due_on``."""

    model_config = ConfigDict(extra="forbid")

    instalments: Annotated[StrictInt, Field(ge=1, le=MAX_INSTALMENTS)]
    first_due_on: Day


class InstalmentOut(BaseModel):
    number: int
    due_on: date
    amount: Decimal


class PaymentPlanOut(BaseModel):
    """A plan and where it stands on the society's today (docs/domain.md "Payment plans")."""

    id: int
    unit_id: int
    total: Decimal
    starts_on: date
    instalments: list[InstalmentOut]
    paid: Decimal  # payments booked since ``starts_on``
    standing: PlanStanding | None  # None once cancelled
    next_due_on: date | None  # the first instalment not yet covered
    next_amount: Decimal | None  # what is left to pay of it
    cancelled_at: datetime | None


class LedgerLine(BaseModel):
    kind: LedgerEntryKind
    amount: Decimal
    booked_on: date
    description: str
    bill_id: int | None
    created_at: datetime


class Ledger(BaseModel):
    unit_id: int
    unit_code: str
    balance: Decimal
    entries: list[LedgerLine]


class NoteIn(BaseModel):
    kind: NoteKind
    amount: Amount
    reason: Annotated[Reason, StringConstraints(max_length=300)]


class NoteOut(BaseModel):
    id: int
    bill_id: int
    kind: NoteKind
    amount: Decimal
    reason: str
    balance: Decimal


class BulkPaid(BaseModel):
    bill_ids: IdList
    paid_on: Day
    mode: PaymentMode
    reference: Reference | None = None


class BulkResult(BaseModel):
    paid: list[int]
    skipped: list[dict[str, str | int]]


# --- Audit ---


class AuditOut(BaseModel):
    id: int
    at: datetime
    actor_id: int | None
    action: str
    entity: str
    entity_id: str
    reason: str | None
    detail: dict[str, Any]
    actor: str | None = None  # the actor's username; None for the server's own jobs


class AuditQuery(BaseModel):
    """The audit log's filters (each narrows) and page: newest first."""

    model_config = ConfigDict(extra="forbid")

    action: SearchText | None = None  # exactly, e.g. reading.approved
    entity: SearchText | None = None  # the kind of object: reading, bill, payment, user, …
    entity_id: SearchText | None = None
    actor_id: Id | None = None
    since: Day | None = None  # from this day on (the society's calendar)
    until: Day | None = None  # up to and including this day
    limit: Annotated[int, Field(ge=1, le=1000)] = 200
    offset: PageOffset = 0


class ChainCheck(BaseModel):
    intact: bool
    checked: int = Field(description="Sealed events verified before the first break (all of them when intact)")
    sealed: int = Field(description="Events sealed into the chain")
    unsealed: int = Field(description="Events not sealed yet (written a moment ago, or waiting for the sealer)")
    head_seq: int = Field(description="Where the keyed chain head says the chain ends")
    first_broken_seq: int | None = Field(description="Chain position where verification failed")
    first_broken_id: int | None = Field(description="Id of the first event that does not verify, when known")
    problem: str | None = Field(
        description="event.altered | event.missing | chain.truncated | head.missing | head.invalid | head.mismatch"
    )
    message: str


# --- Paged lists ---

Item = TypeVar("Item", bound=BaseModel)


class Page(BaseModel, Generic[Item]):
    """One page of a list: ``items`` from ``offset`` on, ``total`` matching the search in all."""

    items: list[Item]
    total: int
    limit: int
    offset: int


class ReviewPage(Page[ReviewItem]):
    """A page of the review list with the whole filter's counts: ``total`` readings, ``clean`` of them with
    nothing to look at (what "approve the clean ones" would approve)."""

    clean: int


# --- Quality checks: approved reads sampled to be read again ---

SharePercent = Annotated[Decimal, Field(gt=0, le=100, max_digits=5, decimal_places=2)]


class QualityCheckRequest(BaseModel):
    """``POST /api/review/quality-checks``: pick ``share_percent`` of the period's approved field reads (at least
    one when there are any) to be read again by their meters' engineers."""

    model_config = ConfigDict(extra="forbid")

    period: Period
    share_percent: SharePercent = Decimal(2)
    due_on: Day | None = None


class QualityCheckOut(BaseModel):
    id: int
    meter_id: int
    meter_number: str
    unit_code: str | None
    block_code: str
    period: str
    engineer_id: int
    engineer_name: str
    status: QualityCheckStatus
    approved_value: str | None  # the approved read checked
    approved_at: datetime
    check_value: str | None  # the check read, once pushed
    checked_at: datetime | None
    difference: Decimal | None  # check − approved, register units
    requested_at: datetime
    due_on: date | None


class QualityCheckBatch(BaseModel):
    eligible: int  # the period's approved field reads not checked yet
    requested: list[QualityCheckOut]


# --- Directory writes: blocks, units, meters, shared-meter membership ---

# Field bounds of the directory forms: the columns' lengths (sync_server/models/directory.py), so a value that
# passes here always fits the table.
BlockCode = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=16, pattern=NO_NUL)]
UnitCode = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40, pattern=NO_NUL)]
MeterNumber = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32, pattern=NO_NUL)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=16, pattern=NO_NUL)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120, pattern=NO_NUL)]
Floor = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4, pattern=NO_NUL)]
MeterLabel = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40, pattern=NO_NUL)]
# A rate per unit in rupees (a unit's override): zero allowed (a free connection), four places at most (₹4.125, as
# tariff orders write rates; the column keeps four).
Rate = Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=4)]
LoadKw = Annotated[Decimal, Field(gt=0, max_digits=8, decimal_places=2)]
Dials = Annotated[int, Field(ge=1, le=12)]
DecimalDials = Annotated[int, Field(ge=0, le=3)]
Multiplier = Annotated[Decimal, Field(gt=0, max_digits=18, decimal_places=4)]
Latitude = Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False)]
Longitude = Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False)]
# A plain pattern, not pydantic's EmailStr: email-validator is not a dependency, and a society's office only
# needs to catch a mistyped address, not prove it delivers.
Email = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=254, pattern=r"^[^@\s\x00]+@[^@\s\x00]+\.[^@\s\x00]+$")
]


def indian_phone(value: str) -> str:
    """An Indian mobile or landline as people write it, kept without spaces and hyphens: digits with an optional
    leading +91, 10 to 13 digits in all (a mobile's 10, a landline with its STD code, a number with 91)."""
    compact = re.sub(r"[\s-]", "", value)
    digits = sum(character.isdigit() for character in compact)
    if not re.fullmatch(r"(\+91)?[0-9]+", compact) or not 10 <= digits <= 13:
        raise ValueError("a phone number is 10 to 13 digits with an optional +91 (spaces and hyphens allowed)")
    return compact


Phone = Annotated[str, StringConstraints(max_length=32), AfterValidator(indian_phone)]


class BlockIn(BaseModel):
    """``POST /api/blocks`` and ``PUT /api/blocks/{block_id}``: the whole block as the admin's form sends it."""

    code: BlockCode
    name: Name
    reason: Reason | None = None


class UnitIn(BaseModel):
    """``POST /api/units`` and ``PUT /api/units/{unit_id}``: the whole unit (an edit sends every field)."""

    code: UnitCode
    block_id: Id
    category: UnitCategory
    unit_type: ShortText  # 2BHK, VILLA, SCO...: picks the tariff's fixed charge
    floor: Floor | None = None
    sanctioned_load_kw: LoadKw | None = None
    tariff_id: Id | None = None
    rate_override: Rate | None = None
    fixed_charge_waived: bool = False
    consumer_name: Name | None = None
    phone: Phone | None = None
    email: Email | None = None
    # Notifications (docs/notifications.md): the language, the channels wanted (each needs its address), opted out.
    notify_language: NotificationLanguage = NotificationLanguage.ENGLISH
    notify_channels: Annotated[list[NotificationChannel], Field(max_length=3)] = [
        NotificationChannel.EMAIL,
        NotificationChannel.SMS,
    ]
    notify_opt_out: bool = False
    reason: Reason | None = None

    @field_validator("notify_channels")
    @classmethod
    def _each_channel_once(cls, channels: list[NotificationChannel]) -> list[NotificationChannel]:
        return list(dict.fromkeys(channels))


class MeterIn(BaseModel):
    """``POST /api/meters`` and ``PUT /api/meters/{meter_id}``: the whole meter. With a unit it is that unit's
    meter; without one it is a shared meter (its units are its members)."""

    number: MeterNumber
    block_id: Id
    unit_id: Id | None = None
    label: MeterLabel | None = None
    dials: Dials = 6
    decimals: DecimalDials = 0
    multiplier: Multiplier = Decimal(1)
    lat: Latitude | None = None
    lon: Longitude | None = Field(default=None, validate_default=True)
    install_date: Day | None = None
    status: MeterStatus = MeterStatus.ACTIVE
    reason: Reason | None = None  # required when the edit retires the meter

    @field_validator("decimals")
    @classmethod
    def _decimals_within_dials(cls, decimals: int, info: ValidationInfo) -> int:
        dials = info.data.get("dials")
        if dials is not None and decimals >= dials:
            raise ValueError(f"a meter of {dials} dials shows fewer than {dials} decimals")
        return decimals

    @field_validator("lon")
    @classmethod
    def _both_coordinates_or_neither(cls, lon: float | None, info: ValidationInfo) -> float | None:
        # Runs for a missing lon too (validate_default): a lone latitude is caught here, named by its partner.
        if "lat" in info.data and (info.data["lat"] is None) != (lon is None):
            raise ValueError("a registered location has both lat and lon, or neither")
        return lon


class MembershipIn(BaseModel):
    """``POST /api/meters/{meter_id}/members``: a unit shares the meter from ``valid_from`` on."""

    unit_id: Id
    valid_from: Day
    reason: Reason | None = None


class MembershipEnd(BaseModel):
    """``POST /api/meters/{meter_id}/members/{membership_id}/end``: the unit stops sharing from ``valid_to``
    (that day on, it is no longer a member). Removing someone always says why."""

    valid_to: Day
    reason: Reason


class MembershipOut(BaseModel):
    """A unit's membership of a shared meter: from ``valid_from`` until ``valid_to`` (exclusive; None: still)."""

    id: int
    meter_id: int
    unit_id: int
    unit_code: str
    valid_from: date
    valid_to: date | None


# --- People, routes and tariffs ---

#: The society's staff roles.
StaffRole = Literal[Role.ENGINEER, Role.SUPERVISOR, Role.ADMIN, Role.ACCOUNTANT]
#: The roles an admin gives an account: staff, or the resident of one unit.
AccountRole = Literal[Role.ENGINEER, Role.SUPERVISOR, Role.ADMIN, Role.ACCOUNTANT, Role.RESIDENT]


class UserIn(BaseModel):
    """``POST /api/users``: a new account. Its password is the admin's choice, so it must be changed at the first
    sign-in. A resident's account names their unit (``unit_id``); a staff account names none."""

    username: NewUsername
    full_name: Name
    role: AccountRole
    password: NewPassword
    unit_id: Id | None = None


# --- Residents (docs/residents.md): a resident's own unit, nothing of any other ---


class ResidentAccount(BaseModel):
    """``GET /api/me/account``: the resident's unit and where its account stands."""

    unit_id: int
    unit_code: str
    block_code: str
    consumer_name: str | None
    balance: Decimal  # the ledger balance: positive owed, negative a credit the next bill uses up
    overdue: bool  # an issued bill is past its due date with money still owed
    overdue_since: date | None  # the earliest such due date


class ResidentPayment(BaseModel):
    """A payment booked to the resident's unit (``GET /api/me/payments``)."""

    id: int
    bill_id: int | None
    bill_number: str | None
    amount: Decimal
    paid_on: date
    mode: PaymentMode
    reference: str | None


class ResidentConsumption(BaseModel):
    """``GET /api/me/consumption``: the units on the unit's issued bills month by month, oldest first, up to the
    society's current month (``units`` null: no issued bill that month) — the figures of a bill's ``history``."""

    months: list[BillMonthUnits]


class PasswordReset(BaseModel):
    """``POST /api/users/{user_id}/password``: a temporary password; the user's sessions end."""

    password: NewPassword
    reason: Reason


class PasswordChange(BaseModel):
    """``POST /api/auth/password``: the caller's own password."""

    current_password: Password
    new_password: NewPassword


class RouteStop(BaseModel):
    """A meter on an engineer's route, in walk order."""

    meter_id: int
    meter_number: str
    block_code: str
    unit_code: str | None  # the shared meter's label when it has no unit
    walk_order: int
    assigned_at: datetime


class RouteOrder(BaseModel):
    """``PUT /api/routes/{engineer_id}``: every meter of the route, each once, in walking order."""

    meter_ids: IdList
    reason: Reason | None = None


class RouteMove(BaseModel):
    """``POST /api/routes/move``: meters of one route go to the end of another, in their order."""

    from_engineer_id: Id
    to_engineer_id: Id
    meter_ids: IdList
    reason: Reason


class RouteMoved(BaseModel):
    to_engineer_id: int
    meter_ids: list[int]  # in their new order
    walk_orders: list[int]  # their places on the new route, one per meter


class TariffAssignmentIn(BaseModel):
    """``POST /api/tariffs/{tariff_id}/units``: the units billed on a tariff from now on, named one by one
    (``unit_ids``) or as every unit of a type (``unit_type``, optionally only of one ``category``)."""

    unit_ids: IdList | None = None
    unit_type: ShortText | None = None
    category: UnitCategory | None = None
    reason: Reason

    @model_validator(mode="after")
    def _one_selection(self) -> TariffAssignmentIn:
        if (self.unit_ids is None) == (self.unit_type is None):
            raise ValueError("name the units (unit_ids) or a unit type (unit_type), not both")
        if self.category is not None and self.unit_type is None:
            raise ValueError("category narrows a unit type: give unit_type too")
        return self


class TariffAssigned(BaseModel):
    tariff_id: int
    unit_ids: list[int]  # the units whose tariff changed (those already on it are left alone)


# --- Meter replacement ---

# A register value as typed (its meaning is checked against the meter's dials and decimals by the server).
RegisterValue = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32, pattern=NO_NUL)]


class ReplacementIn(BaseModel):
    """``POST /api/meters/{id}/replacement``: the old meter's final read and the new meter's number and initial
    read on one date (the society's); the new meter's register is the old one's unless given."""

    replaced_on: Day
    old_final: RegisterValue
    new_meter_number: MeterNumber
    new_initial: RegisterValue
    new_dials: Dials | None = None
    new_decimals: DecimalDials | None = None
    new_multiplier: Multiplier | None = None
    reason: Reason

    model_config = ConfigDict(extra="forbid")


class ReplacementOut(BaseModel):
    """A recorded replacement: the old meter retired, the new one in its place from ``replaced_on``."""

    id: int
    old_meter_id: int
    old_meter_number: str
    new_meter_id: int
    new_meter_number: str
    replaced_on: date
    old_final: str
    new_initial: str
    reading_uuid: UUID | None  # the reading that reported it; None when an admin recorded it
    recorded_by_id: int
    recorded_at: datetime
    reason: str | None


# --- Imports: master data and opening position (docs/api.md "Imports") ---


class ImportIssueOut(BaseModel):
    """A row of the file quarantined (not imported) or imported with a warning: its line (1-based; a CSV's
    header is line 1), its unit as the file names it when that could be read, and why."""

    line: int
    unit_id: str | None
    reason: str


class ImportReportOut(BaseModel):
    """What an import did (the command line's ``--json``): counts by name (master data: ``units_imported``,
    ``units_updated``, ``units_unchanged``, ``meters_created``, ``shared_meters``), the quarantined rows and the
    warnings."""

    kind: ImportKind
    counts: dict[str, int]
    quarantined: list[ImportIssueOut]
    warnings: list[ImportIssueOut]


class ImportJobOut(BaseModel):
    """``/api/imports``: an import started from the console, its progress (``processed`` of ``total`` rows;
    ``total`` is 0 until the file is read) and, once done, its report."""

    id: int
    kind: ImportKind
    dry_run: bool  # a dry run reports what the import would do and writes nothing
    status: ImportStatus
    file_name: str
    file_sha256: str
    size_bytes: int
    tariff_code: str | None
    members_from: date | None
    total: int
    processed: int
    report: ImportReportOut | None  # when done
    error: str | None  # plain words for people; the details of an unexpected failure are in the server log
    error_code: str | None  # the refusal's code (e.g. a whole file refused), import.failed, import.superseded
    started_by_id: int
    started_at: datetime
    finished_at: datetime | None


# --- Schedules: the jobs the server runs by itself (docs/api.md "Schedules") ---

# A local time of day in the society's time zone, 24-hour "HH:MM".
LocalTime = Annotated[str, StringConstraints(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")]
# 1–28: a day every month has (no job skips February).
DayOfMonth = Annotated[int, Field(ge=1, le=28)]
# An interval an admin sets: a minute to a week.
IntervalMinutes = Annotated[int, Field(ge=1, le=7 * 24 * 60)]


class ScheduleOut(BaseModel):
    """A job the server runs by itself: when (its cadence), its next run and how its last run ended. Times are
    UTC; the console shows them in the society's time zone."""

    name: str
    kind: ScheduleKind
    cadence: ScheduleCadence
    enabled: bool
    day_of_month: int | None  # monthly jobs
    at_time: str | None  # monthly and daily jobs: "HH:MM" local
    every_minutes: float | None  # interval jobs
    next_run_at: datetime
    running: bool  # started and not finished yet
    last_started_at: datetime | None
    last_finished_at: datetime | None
    last_status: ScheduleStatus | None
    last_result: str | None


class ScheduleChange(BaseModel):
    """``PUT /api/schedules/{name}``: what changes (fields left out stay); a field must fit the job's cadence
    (a day of the month only for a monthly job, a time for monthly and daily, an interval for an interval job)."""

    enabled: bool | None = None
    day_of_month: DayOfMonth | None = None
    at_time: LocalTime | None = None
    every_minutes: IntervalMinutes | None = None
    reason: Reason | None = None

    model_config = ConfigDict(extra="forbid")


# --- Statements: bank and UPI credits matched to bills (docs/api.md "Reconciliation") ---


class StatementLineOut(BaseModel):
    """A statement's credit: its day, narration, reference and amount, and what became of it (matched: the bill
    and the payment recorded; unmatched: why; dismissed: the accountant's reason)."""

    id: int
    line: int  # in the file that first brought it (1-based, the header's line counted)
    txn_date: date
    narration: str
    reference: str | None
    amount: Decimal
    status: StatementLineStatus
    rule: MatchRule | None
    bill_id: int | None
    bill_number: str | None
    unit_code: str | None
    payment_id: int | None
    reason: str | None
    resolved_at: datetime | None


class StatementProblemOut(BaseModel):
    """A line of the file that names an amount but could not be read: reported, never recorded."""

    line: int
    reason: str


class StatementOutcome(BaseModel):
    """One credit of an import, as this import found it (``already_recorded``: matched or dismissed before, or a
    repeat of an earlier line of the same file; nothing was recorded for it)."""

    line: int
    outcome: Literal["matched", "unmatched", "already_recorded"]
    statement_line: StatementLineOut


class StatementCounts(BaseModel):
    credits: int  # credit lines in the file
    matched: int  # payments recorded by this import
    unmatched: int  # credits left for the accountant (seen before or not)
    already_recorded: int  # matched or dismissed before, or a repeat in this file: nothing recorded
    debits: int  # left out: money going out
    problems: int  # lines that could not be read


class StatementImportOut(BaseModel):
    """``POST /api/statements``: what importing the file did; the list's items leave ``outcomes`` empty."""

    id: int
    file_name: str
    file_sha256: str
    imported_at: datetime
    imported_by_id: int
    counts: StatementCounts
    problems: list[StatementProblemOut]
    outcomes: list[StatementOutcome]


class StatementMatchIn(BaseModel):
    """Match an unmatched credit by hand: its payment is recorded against this bill."""

    model_config = ConfigDict(extra="forbid")

    bill_id: Id


class StatementDismissIn(BaseModel):
    """Dismiss an unmatched credit: not a bill's payment (a refund, a deposit, interest); the reason is kept."""

    model_config = ConfigDict(extra="forbid")

    reason: Annotated[Reason, StringConstraints(max_length=300)]


class NotificationOut(BaseModel):
    """A message of the notifications outbox, as the delivery log lists it (docs/notifications.md)."""

    id: int
    event: NotificationEvent
    channel: NotificationChannel
    unit_id: int
    unit_code: str
    bill_id: int | None
    payment_id: int | None
    recipient: str
    language: NotificationLanguage
    subject: str
    text: str
    status: NotificationStatus
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None


# --- Escalation of bills still overdue (docs/notifications.md "Escalation") ---

#: Days after the due date a step is taken on: 1 to 365 (``sync_server.notifications.rules.MAX_STEP_DAYS``).
StepDays = Annotated[StrictInt, Field(ge=1, le=365)]


class EscalationStepIn(BaseModel):
    kind: EscalationKind
    days_after: StepDays
    active: bool = True

    model_config = ConfigDict(extra="forbid")


class EscalationStepsIn(BaseModel):
    """``PUT /api/escalation-steps``: every step (those left out are removed), at most one of each kind, on days
    of their own, severity rising with the days."""

    steps: Annotated[list[EscalationStepIn], Field(max_length=len(EscalationKind))]
    reason: Reason | None = None

    model_config = ConfigDict(extra="forbid")


class EscalationStepOut(BaseModel):
    kind: EscalationKind
    days_after: int
    active: bool


class EscalationOut(BaseModel):
    """One step of one bill, as the escalation log lists it."""

    id: int
    bill_id: int
    bill_number: str | None
    due_on: date | None
    unit_id: int
    unit_code: str
    kind: EscalationKind
    days_after: int  # the step's day when it was taken
    outcome: EscalationOutcome
    at: datetime
    messages: int  # outbox rows enqueued (0: nobody could be told)
