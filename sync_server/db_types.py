"""Column types that keep the storage rules: times are aware UTC, money and units are exact decimals, enumerated
values are their enum's members."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import JSON, DateTime, Numeric, String
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from shared_billing.money import plain_rate

__all__ = ["JSON", "ExactDecimal", "Money", "StrEnumColumn", "UTCDateTime", "UnitRate", "Units"]

E = TypeVar("E", bound=StrEnum)


class UTCDateTime(TypeDecorator[datetime]):
    """Refuses naive datetimes; stores UTC; returns aware UTC on every backend (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: store timezone-aware UTC")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class ExactDecimal(TypeDecorator[Decimal]):
    """NUMERIC on PostgreSQL; on SQLite, which would store a float, the decimal's text (exact, comparable in
    Python only: nothing sorts or sums these columns in SQL).

    A value with more places than the column is rounded half-up, the billing engine's rule (docs/domain.md
    "Rounding"), not Decimal's default half-even: the same figure must never round two ways."""

    impl = Numeric
    cache_ok = True

    def __init__(self, precision: int, scale: int) -> None:
        super().__init__(precision, scale, asdecimal=True)
        self.precision = precision
        self.scale = scale
        self._quantum = Decimal(1).scaleb(-scale)

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(40))
        return dialect.type_descriptor(Numeric(self.precision, self.scale, asdecimal=True))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if not isinstance(value, Decimal):
            raise TypeError(f"exact decimal columns take Decimal, not {type(value).__name__}")
        quantized = value.quantize(self._quantum, rounding=ROUND_HALF_UP)
        return str(quantized) if dialect.name == "sqlite" else quantized

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return Decimal(value).quantize(self._quantum, rounding=ROUND_HALF_UP)


def Money() -> ExactDecimal:
    return ExactDecimal(14, 2)


def Units() -> ExactDecimal:
    return ExactDecimal(18, 4)


class RateDecimal(ExactDecimal):
    """₹ a unit as tariff orders write them, to four places (₹4.125), read back as a bill prints it (``plain_rate``:
    ₹9.00, not ₹9.0000)."""

    cache_ok = True

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        exact = super().process_result_value(value, dialect)
        return None if exact is None else plain_rate(exact)


def UnitRate() -> ExactDecimal:
    return RateDecimal(14, 4)


class StrEnumColumn(TypeDecorator[E]):
    """A ``StrEnum`` stored as its value in a VARCHAR of ``length``; loads as the member, so code compares members.

    Binding takes a member or its value (a ``StrEnum`` member is its value) and refuses anything else, so a
    misspelt status never reaches the table; a stored value the enum does not know fails the load loudly. No
    database enum type or check constraint: adding a member is a code change, not a migration.
    """

    impl = String
    cache_ok = True

    def __init__(self, enum_cls: type[E], length: int) -> None:
        longest = max(len(member.value) for member in enum_cls)
        if longest > length:
            raise ValueError(f"{enum_cls.__name__} has a value of {longest} characters: more than {length}")
        super().__init__(length)
        self.enum_cls = enum_cls
        self.length = length
        # Looked up here rather than through the enum's call: a block's thousands of rows load two or three each.
        self._by_value: dict[str, E] = {member.value: member for member in enum_cls}

    @property
    def python_type(self) -> type[E]:
        return self.enum_cls

    def _member(self, value: Any) -> E:
        if isinstance(value, self.enum_cls):
            return value
        try:
            return self.enum_cls(value)
        except ValueError:
            allowed = ", ".join(member.value for member in self.enum_cls)
            raise ValueError(f"{value!r} is not a {self.enum_cls.__name__} (one of: {allowed})") from None

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else self._member(value).value

    def process_result_value(self, value: Any, dialect: Dialect) -> E | None:
        if value is None:
            return None
        found = self._by_value.get(value)
        return found if found is not None else self._member(value)
