"""SQLModel tables of the central database, one module per concept; import from here."""

from sync_server.models.audit import AuditChainHead, AuditEvent
from sync_server.models.billing import (
    Bill,
    BillNote,
    BillNumberCounter,
    BillRun,
    BillStatus,
    ClosedPeriod,
    LedgerEntry,
    Payment,
    TariffRecord,
)
from sync_server.models.directory import Assignment, Block, Meter, SharedMeterMember, Unit
from sync_server.models.leases import JobLease
from sync_server.models.readings import Photo, Reading, ReadingFlagRecord, ReadingStatus, SyncEvent
from sync_server.models.users import RefreshToken, Role, User

__all__ = [
    "Assignment",
    "AuditChainHead",
    "AuditEvent",
    "Bill",
    "BillNote",
    "BillNumberCounter",
    "BillRun",
    "BillStatus",
    "Block",
    "ClosedPeriod",
    "JobLease",
    "LedgerEntry",
    "Meter",
    "Payment",
    "Photo",
    "Reading",
    "ReadingFlagRecord",
    "ReadingStatus",
    "RefreshToken",
    "Role",
    "SharedMeterMember",
    "SyncEvent",
    "TariffRecord",
    "Unit",
    "User",
]
