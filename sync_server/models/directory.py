from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from shared_billing.consumption import MeterRegister
from shared_billing.protocol import MeterKind, MeterStatus, NotificationLanguage, UnitCategory
from sync_server.db_types import ExactDecimal, StrEnumColumn, UnitRate, Units, UTCDateTime

#: The channels a unit is told on unless its preference says otherwise (each needs its address on the unit).
DEFAULT_CHANNELS = ("email", "sms")


def _default_channels() -> list[str]:
    return list(DEFAULT_CHANNELS)


class Block(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=16, unique=True)
    name: str = Field(max_length=120)


class Unit(SQLModel, table=True):
    """A billable connection: a flat, villa or shop (SCO)."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=40, unique=True)  # e.g. 5BHK-B17-FF
    block_id: int = Field(foreign_key="block.id", index=True)
    category: UnitCategory = Field(sa_type=StrEnumColumn(UnitCategory, 8))
    unit_type: str = Field(max_length=16)  # 2BHK, 4BHK, 5BHK, VILLA, SCO: picks the fixed charge
    floor: str | None = Field(default=None, max_length=4)
    consumer_name: str | None = Field(default=None, max_length=120)
    # Personal data, like the consumer's name: shown to admins and accountants only (docs/domain.md "Directory").
    phone: str | None = Field(default=None, max_length=16)
    email: str | None = Field(default=None, max_length=254)
    # How the consumer is told of bills and payments (docs/notifications.md): in which language, on which channels
    # (of those the unit has an address for), or not at all.
    notify_language: NotificationLanguage = Field(
        default=NotificationLanguage.ENGLISH, sa_type=StrEnumColumn(NotificationLanguage, 2)
    )
    notify_channels: list[str] = Field(
        default_factory=_default_channels, sa_column=Column(JSON, nullable=False, default=_default_channels)
    )
    notify_opt_out: bool = False
    # Needed by tariffs with a per-kW fixed charge.
    sanctioned_load_kw: Decimal | None = Field(default=None, sa_type=ExactDecimal(8, 2))
    tariff_id: int | None = Field(default=None, foreign_key="tariff.id")
    # Blessings bills a few flats at a special rate with no fixed charge.
    rate_override: Decimal | None = Field(default=None, sa_type=UnitRate())
    fixed_charge_waived: bool = False


class Meter(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(max_length=32, unique=True)
    block_id: int = Field(foreign_key="block.id", index=True)
    unit_id: int | None = Field(default=None, foreign_key="unit.id", index=True)  # None for shared meters
    kind: MeterKind = Field(default=MeterKind.UNIT, sa_type=StrEnumColumn(MeterKind, 8))
    label: str | None = Field(default=None, max_length=40)  # e.g. MOTOR-B
    dials: int = 6
    decimals: int = 0
    multiplier: Decimal = Field(default=Decimal(1), sa_type=Units())
    lat: float | None = None
    lon: float | None = None
    install_date: date | None = None  # the society's calendar date
    status: MeterStatus = Field(default=MeterStatus.ACTIVE, sa_type=StrEnumColumn(MeterStatus, 8))

    def register(self) -> MeterRegister:
        """The register the shared rules read: its dials, decimals and multiplying factor."""
        return register_of(self.dials, self.decimals, self.multiplier)


@lru_cache(maxsize=64)
def register_of(dials: int, decimals: int, multiplier: Decimal) -> MeterRegister:
    """One immutable register per kind of meter: a bill run reads thousands of meters of a few kinds."""
    return MeterRegister(dials=dials, decimals=decimals, multiplier=multiplier)


class SharedMeterMember(SQLModel, table=True):
    """Which units share a meter's units (water motors), effective-dated: membership changes over time."""

    __tablename__ = "shared_meter_member"

    id: int | None = Field(default=None, primary_key=True)
    meter_id: int = Field(foreign_key="meter.id", index=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    valid_from: date
    valid_to: date | None = None  # exclusive; None = still a member


class Assignment(SQLModel, table=True):
    """One field engineer per meter, and its place on the engineer's route (docs/domain.md "Routes")."""

    meter_id: int = Field(foreign_key="meter.id", primary_key=True)
    engineer_id: int = Field(foreign_key="user.id", index=True)
    assigned_at: datetime = Field(sa_type=UTCDateTime)
    # The route is walked by (walk_order, meter number): not unique, so a reorder never trips over itself.
    walk_order: int = 0
