"""Levies (duty, per-unit adjustments, surcharges) and subsidies, each on a declared base.

docs/domain.md "Levies and subsidies": levies (electricity duty %, fuel adjustment per unit, surcharges) each have a
declared base and order; the minimum charge is max(energy + fixed, minimum), before any levy; subsidies are
separate negative lines. Levies apply in ascending ``order``; subsidies follow, in the order the tariff lists them.

Bases: ``energy`` (energy and shared-meter lines), ``fixed`` (fixed charge lines), ``charges`` (energy + fixed +
minimum-charge top-up, i.e. max(energy + fixed, minimum)), ``units`` (units billed, for ₹-per-unit rates) and
``subtotal`` (charges plus every levy of a lower order: a surcharge on the duty-inclusive amount).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from shared_billing.bill_lines import BillLine, LineCode, inr
from shared_billing.errors import TariffError
from shared_billing.money import round_paise, round_units
from shared_billing.tariff_data import (
    checked_amount,
    decimal_from_data,
    mapping_from_data,
    only_keys,
    whole_from_data,
)

__all__ = ["ChargeBases", "Levy", "LevyBase", "Subsidy", "levy_lines", "subsidy_lines"]

_CODE = re.compile(r"[a-z0-9_]+")


class LevyBase(StrEnum):
    """What a levy or subsidy is computed on (see the module docstring)."""

    ENERGY = "energy"
    FIXED = "fixed"
    CHARGES = "charges"
    UNITS = "units"
    SUBTOTAL = "subtotal"


def _base(value: object) -> LevyBase:
    if isinstance(value, LevyBase):
        return value
    known = ", ".join(member.value for member in LevyBase)
    if isinstance(value, str) and value in {member.value for member in LevyBase}:
        return LevyBase(value)
    raise TariffError(
        f"unknown levy base {value!r} (known: {known})", field="base", value=str(value), problem="unknown_levy_base"
    )


def _check_rate(base: LevyBase, percent: Decimal | None, rate_per_unit: Decimal | None) -> None:
    if (percent is None) == (rate_per_unit is None):
        raise TariffError("give either `percent` or `rate_per_unit`", field="percent")
    if percent is not None:
        checked_amount("percent", percent)
        if base == LevyBase.UNITS:
            raise TariffError("a levy on `units` is a `rate_per_unit` in ₹, not a percent", field="percent")
    if rate_per_unit is not None:
        checked_amount("rate_per_unit", rate_per_unit)
        if base != LevyBase.UNITS:
            raise TariffError(f"`rate_per_unit` needs base `units`, not `{base}`", field="rate_per_unit")


def _check_code(code: str) -> None:
    if not isinstance(code, str) or not _CODE.fullmatch(code):
        raise TariffError(f"a code is lower-case letters, digits and _, not {code!r}", field="code")


def _optional_decimal(what: str, data: Mapping[str, Any]) -> Decimal | None:
    return None if data.get(what) is None else decimal_from_data(what, data[what])


@dataclass(frozen=True)
class ChargeBases:
    """The figures levies and subsidies are computed on, for one segment of the bill."""

    energy: Decimal
    fixed: Decimal
    charges: Decimal
    units: Decimal


@dataclass(frozen=True)
class Levy:
    """A levy: ``percent`` of a money base, or ``rate_per_unit`` ₹ on the units; applied by ``order``."""

    code: str
    name: str
    order: int
    base: LevyBase
    percent: Decimal | None = None
    rate_per_unit: Decimal | None = None

    def __post_init__(self) -> None:
        _check_code(self.code)
        object.__setattr__(self, "base", _base(self.base))
        _check_rate(self.base, self.percent, self.rate_per_unit)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"code": self.code, "name": self.name, "order": self.order, "base": self.base.value}
        if self.percent is not None:
            data["percent"] = str(self.percent)
        if self.rate_per_unit is not None:
            data["rate_per_unit"] = str(self.rate_per_unit)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Levy:
        data = mapping_from_data("levy", data)
        only_keys("levy", data, {"code", "name", "order", "base"}, {"percent", "rate_per_unit"}, at="")
        return cls(
            code=data["code"],
            name=str(data["name"]),
            order=whole_from_data("order", data["order"]),
            base=_base(data["base"]),
            percent=_optional_decimal("percent", data),
            rate_per_unit=_optional_decimal("rate_per_unit", data),
        )


@dataclass(frozen=True)
class Subsidy:
    """A subsidy line (negative): ``percent`` of a money base, or ``rate_per_unit`` ₹ off each unit.

    ``up_to_units`` limits a per-unit subsidy to the first units; ``when_units_at_most`` grants it only when
    the units billed are at most that. Both are monthly figures, scaled and rounded like slab limits.
    """

    code: str
    name: str
    base: LevyBase
    percent: Decimal | None = None
    rate_per_unit: Decimal | None = None
    up_to_units: Decimal | None = None
    when_units_at_most: Decimal | None = None

    def __post_init__(self) -> None:
        _check_code(self.code)
        object.__setattr__(self, "base", _base(self.base))
        _check_rate(self.base, self.percent, self.rate_per_unit)
        if self.base == LevyBase.SUBTOTAL:
            raise TariffError("a subsidy is on energy, fixed, charges or units", field="base")
        for what in ("up_to_units", "when_units_at_most"):
            value = getattr(self, what)
            if value is not None:
                checked_amount(what, value)
        if self.up_to_units is not None and self.base != LevyBase.UNITS:
            raise TariffError("`up_to_units` applies to a subsidy on `units`", field="up_to_units")

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"code": self.code, "name": self.name, "base": self.base.value}
        for what in ("percent", "rate_per_unit", "up_to_units", "when_units_at_most"):
            value = getattr(self, what)
            if value is not None:
                data[what] = str(value)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Subsidy:
        data = mapping_from_data("subsidy", data)
        optional = {"percent", "rate_per_unit", "up_to_units", "when_units_at_most"}
        only_keys("subsidy", data, {"code", "name", "base"}, optional, at="")
        return cls(
            code=data["code"],
            name=str(data["name"]),
            base=_base(data["base"]),
            **{what: _optional_decimal(what, data) for what in optional},
        )


def _money_base(base: LevyBase, bases: ChargeBases, subtotal: Decimal) -> Decimal:
    return {
        LevyBase.ENERGY: bases.energy,
        LevyBase.FIXED: bases.fixed,
        LevyBase.CHARGES: bases.charges,
        LevyBase.SUBTOTAL: subtotal,
    }[base]


def levy_lines(levies: Sequence[Levy], bases: ChargeBases) -> list[tuple[BillLine | None, str]]:
    """One line per levy, in ``order``, with its trace."""
    priced: list[tuple[BillLine | None, str]] = []
    subtotal = bases.charges
    for levy in sorted(levies, key=lambda levy: levy.order):
        code = f"{LineCode.LEVY.value}:{levy.code}"
        if levy.rate_per_unit is not None:
            amount = round_paise(bases.units * levy.rate_per_unit)
            line = BillLine(code, levy.name, bases.units, levy.rate_per_unit, amount)
            trace = f"{levy.name}: {bases.units} units × ₹{levy.rate_per_unit} = {inr(amount)}"
        else:
            assert levy.percent is not None
            base = _money_base(levy.base, bases, subtotal)
            amount = round_paise(base * levy.percent / 100)
            line = BillLine(code, f"{levy.name} ({levy.percent}% of {levy.base.value})", base, None, amount)
            trace = f"{levy.name}: {levy.percent}% of {levy.base.value} {inr(base)} = {inr(amount)}"
        priced.append((line, trace))
        subtotal += amount
    return priced


def subsidy_lines(
    subsidies: Sequence[Subsidy], bases: ChargeBases, factor: Decimal, limit_places: int
) -> list[tuple[BillLine | None, str]]:
    """One negative line per subsidy that applies (a trace note for one that does not)."""
    priced: list[tuple[BillLine | None, str]] = []
    for subsidy in subsidies:
        code = f"{LineCode.SUBSIDY.value}:{subsidy.code}"
        if subsidy.when_units_at_most is not None:
            ceiling = round_units(subsidy.when_units_at_most * factor, limit_places)
            if bases.units > ceiling:
                priced.append((None, f"{subsidy.name}: not granted, {bases.units} units > {ceiling}"))
                continue
        if subsidy.rate_per_unit is not None:
            units = bases.units
            if subsidy.up_to_units is not None:
                units = min(units, round_units(subsidy.up_to_units * factor, limit_places))
            amount = round_paise(-(units * subsidy.rate_per_unit))
            line = BillLine(code, subsidy.name, units, subsidy.rate_per_unit, amount)
            trace = f"{subsidy.name}: {units} units × ₹{subsidy.rate_per_unit} off = {inr(amount)}"
        else:
            assert subsidy.percent is not None
            base = _money_base(subsidy.base, bases, bases.charges)
            amount = round_paise(-(base * subsidy.percent / 100))
            line = BillLine(code, f"{subsidy.name} ({subsidy.percent}% of {subsidy.base.value})", base, None, amount)
            trace = f"{subsidy.name}: {subsidy.percent}% of {subsidy.base.value} {inr(base)} off = {inr(amount)}"
        priced.append((line, trace))
    return priced
