"""Reading tariff data (the stored JSON form, or a TOML file parsed by ``tariff_file``) into typed values.

Every refusal is a ``TariffError`` whose ``details["field"]`` is the path of the value at fault, written
``energy.slabs[1].from`` (keys joined by dots, list positions in brackets). ``tariff_file`` turns that path into
the line of the file. ``details["problem"]`` names the kind of fault where one is known (``negative_rate``,
``slabs_overlap``, ``slabs_gap``, ``unknown_levy_base``, …).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from types import MappingProxyType
from typing import Any

from shared_billing.errors import TariffError

__all__ = [
    "ANY_UNIT_TYPE",
    "amount_for_unit_type",
    "amounts_by_unit_type",
    "checked_amount",
    "checked_code",
    "date_from_data",
    "decimal_from_data",
    "join_field",
    "list_from_data",
    "mapping_from_data",
    "only_keys",
    "under",
    "whole_from_data",
]


def join_field(prefix: str, field: str) -> str:
    """``join_field("energy", "slabs[1].rate")`` → ``energy.slabs[1].rate`` (no dot before a bracket)."""
    if not prefix:
        return field
    if not field:
        return prefix
    return f"{prefix}{field}" if field.startswith("[") else f"{prefix}.{field}"


@contextmanager
def under(prefix: str) -> Iterator[None]:
    """Re-raise a ``TariffError`` from inside with ``prefix`` put before its field path."""
    try:
        yield
    except TariffError as error:
        error.details["field"] = join_field(prefix, error.details.get("field", ""))
        raise


# Bounds on every figure, far above any real tariff or meter, so that a typo (``1e30``) is refused where it
# is written instead of overflowing the 28-digit decimal context while a bill is priced: units (≤ 10^12) ×
# rates (≤ 10^9) stay exact to the paisa.
_AMOUNT_BOUND = Decimal(10) ** 9
_UNITS_BOUND = Decimal(10) ** 12
# The keys whose figures are units (slab and band limits, subsidy limits); every other figure is an amount, a
# rate, a percent or a factor.
_UNIT_KEYS = frozenset({"from", "to", "up_to_units", "when_units_at_most"})


def _is_units(what: str) -> bool:
    last = what.rsplit(".", 1)[-1].split("[", 1)[0]
    return last in _UNIT_KEYS


def checked_amount(what: str, value: object, *, units: bool | None = None) -> Decimal:
    """A finite, non-negative, bounded ``Decimal`` (rates, charges, limits); anything else is a ``TariffError``.

    Money and rates are Decimal only: the system we replace lost paise to float artefacts. The bound is 10^12
    for units (``units=True``, or by default a key named like a unit limit: ``from``, ``to``, ``up_to_units``,
    ``when_units_at_most``) and 10^9 for everything else (amounts, rates, percents, factors).
    """
    if not isinstance(value, Decimal):
        raise TariffError(f"{what} must be a finite Decimal, not {value!r}", field=what)
    if not value.is_finite():
        raise TariffError(
            f"{what} must be a finite number, not {value}", field=what, value=str(value), problem="not_finite"
        )
    if value < 0:
        raise TariffError(
            f"{what} must not be negative (got {value})", field=what, value=str(value), problem="negative_rate"
        )
    unit_figure = _is_units(what) if units is None else units
    bound = _UNITS_BOUND if unit_figure else _AMOUNT_BOUND
    if value > bound:
        kind = "units" if unit_figure else "amounts, rates and factors"
        raise TariffError(
            f"{what} must be at most {bound:,f} (the bound for {kind}), not {value}",
            field=what,
            value=str(value),
            bound=str(bound),
            problem="out_of_range",
        )
    return value


#: The key of a by-unit-type table (``fixed_by_unit_type``, a recurring charge's amounts) that applies to every unit
#: type not listed on its own.
ANY_UNIT_TYPE = "*"
_CODE = re.compile(r"[a-z0-9_]+")


def checked_code(code: object) -> str:
    """A tariff item's code (a levy, subsidy or recurring charge): it becomes part of a bill line's code
    (``levy:duty``) and a name a levy's base can use, so lower-case letters, digits and ``_`` only."""
    if not isinstance(code, str) or not _CODE.fullmatch(code):
        raise TariffError(f"a code is lower-case letters, digits and _, not {code!r}", field="code")
    return code


def amounts_by_unit_type(what: str, amounts: Mapping[str, Decimal]) -> Mapping[str, Decimal]:
    """A frozen copy of a monthly amount by unit type (``{"2BHK": 1474, "*": 1000}``), each a checked amount."""
    checked: dict[str, Decimal] = {}
    for unit_type, amount in amounts.items():
        if not isinstance(unit_type, str) or not unit_type.strip() or unit_type != unit_type.strip():
            raise TariffError(f"unit type {unit_type!r} must be a non-blank string", field=what)
        checked[unit_type] = checked_amount(f"{what}[{unit_type}]", amount)
    return MappingProxyType(checked)


def amount_for_unit_type(amounts: Mapping[str, Decimal], unit_type: str) -> Decimal | None:
    """The amount for ``unit_type`` (unit types match exactly), else the any-type one, else ``None``."""
    for key in (unit_type, ANY_UNIT_TYPE):
        if key in amounts:
            return amounts[key]
    return None


def decimal_from_data(what: str, value: object) -> Decimal:
    """A decimal written as a string, a whole number, or (from TOML) an exact ``Decimal``; ≥ 0.

    Floats and booleans are refused: a float has already lost the figure the admin wrote.
    """
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise TariffError(f"{what} must be a decimal string, not {value!r}", field=what)
    try:
        return checked_amount(what, Decimal(value))
    except InvalidOperation:
        raise TariffError(f"{what} must be a decimal string, not {value!r}", field=what) from None


def whole_from_data(what: str, value: object, *, minimum: int = 0) -> int:
    """A whole number ≥ ``minimum`` (places, orders, unit limits)."""
    amount = decimal_from_data(what, value)
    if amount != amount.to_integral_value() or amount < minimum:
        raise TariffError(f"{what} must be a whole number ≥ {minimum}, not {value!r}", field=what)
    return int(amount)


def date_from_data(what: str, value: object) -> date:
    """A date: ISO text (``2015-04-01``) or a TOML date; a date with a time of day is refused."""
    if isinstance(value, datetime):
        raise TariffError(f"{what} must be a date without a time, not {value!r}", field=what)
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise TariffError(f"{what} must be a date like 2015-04-01, not {value!r}", field=what)


def mapping_from_data(what: str, value: object) -> Mapping[str, Any]:
    """A table (JSON object)."""
    if not isinstance(value, Mapping):
        raise TariffError(f"{what} must be an object, not {value!r}", field=what)
    return value


def list_from_data(what: str, value: object) -> Sequence[Any]:
    """A list (JSON array, TOML array or array of tables)."""
    if isinstance(value, str | bytes) or not isinstance(value, Sequence):
        raise TariffError(f"{what} must be a list, not {value!r}", field=what)
    return value


def only_keys(
    what: str, data: Mapping[str, Any], required: set[str], optional: set[str], *, at: str | None = None
) -> None:
    """Refuse missing and unknown keys of the table ``what`` (at path ``at``, by default ``what``).

    The error's field is the first unknown key, else the table itself.
    """
    missing = required - data.keys()
    unknown = data.keys() - required - optional
    if missing or unknown:
        table = ("" if what == "tariff" else what) if at is None else at
        raise TariffError(
            f"{what}: missing {sorted(missing)}, unknown {sorted(unknown)}",
            field=join_field(table, sorted(unknown)[0] if unknown else ""),
            missing=",".join(sorted(missing)),
            unknown=",".join(sorted(unknown)),
        )
