"""SQLModel tables of the central database, one module per concept; import from here."""

# The wire vocabulary the tables store, re-exported so server code imports models from one place.
from shared_billing.checks import ReadingFlag
from shared_billing.protocol import (
    BillStatus,
    ImportKind,
    ImportStatus,
    LedgerEntryKind,
    MeterKind,
    MeterStatus,
    NoteKind,
    PaymentMode,
    ReadingStatus,
    ReadType,
    Role,
    RunStatus,
    SkipReason,
    UnitCategory,
)
from sync_server.models.assignment_history import AssignmentHistory
from sync_server.models.audit import AuditChainHead, AuditEvent
from sync_server.models.billing import (
    Bill,
    BillNote,
    BillNumberCounter,
    BillRun,
    ClosedPeriod,
    LedgerEntry,
    Payment,
    TariffRecord,
)
from sync_server.models.directory import Assignment, Block, Meter, SharedMeterMember, Unit
from sync_server.models.escalations import Escalation, EscalationStep
from sync_server.models.imports import ImportJob
from sync_server.models.leases import JobLease
from sync_server.models.notifications import Notification
from sync_server.models.payment_plans import PaymentPlan
from sync_server.models.photo_blobs import PhotoBlob, PhotoPartial
from sync_server.models.quality import QualityCheck
from sync_server.models.readings import (
    Photo,
    PhotoOcr,
    Reading,
    ReadingFlagRecord,
    ReadingSource,
    SyncEvent,
    SyncEventKind,
)
from sync_server.models.replacements import MeterReplacement
from sync_server.models.schedules import ScheduledJob
from sync_server.models.statements import StatementImport, StatementLine
from sync_server.models.users import RefreshToken, User

__all__ = [
    "Assignment",
    "AssignmentHistory",
    "AuditChainHead",
    "AuditEvent",
    "Bill",
    "BillNote",
    "BillNumberCounter",
    "BillRun",
    "BillStatus",
    "Block",
    "ClosedPeriod",
    "Escalation",
    "EscalationStep",
    "ImportJob",
    "ImportKind",
    "ImportStatus",
    "JobLease",
    "LedgerEntry",
    "LedgerEntryKind",
    "Meter",
    "MeterKind",
    "MeterReplacement",
    "MeterStatus",
    "NoteKind",
    "Notification",
    "Payment",
    "PaymentMode",
    "PaymentPlan",
    "Photo",
    "PhotoBlob",
    "PhotoOcr",
    "PhotoPartial",
    "QualityCheck",
    "ReadType",
    "Reading",
    "ReadingFlag",
    "ReadingFlagRecord",
    "ReadingSource",
    "ReadingStatus",
    "RefreshToken",
    "Role",
    "RunStatus",
    "ScheduledJob",
    "SharedMeterMember",
    "SkipReason",
    "StatementImport",
    "StatementLine",
    "SyncEvent",
    "SyncEventKind",
    "TariffRecord",
    "Unit",
    "UnitCategory",
    "User",
]
