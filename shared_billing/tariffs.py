"""Tariffs as data: rates, fixed charges and allocation settings, stored by the server as JSON.

This slice prices energy at one rate per unit (``FlatRate``); DOMAIN.md's telescopic slabs and band tariffs
are later ``energy`` kinds beside it (``to_dict`` already tags the kind), and levies, pro-ration and effective
dates are later fields. The seed system's bill is *a configuration* of ``Tariff`` (``blessings_tariff()``),
not code.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from types import MappingProxyType
from typing import Any, ClassVar

from shared_billing.errors import TariffError, UnknownUnitType
from shared_billing.money import round_paise

__all__ = [
    "SCHEMA_VERSION",
    "FlatRate",
    "RateOverride",
    "ShareRounding",
    "Tariff",
    "blessings_tariff",
]

SCHEMA_VERSION = 1


class ShareRounding(StrEnum):
    """How a shared meter's (water motor's) units are split between its flats, at 0.01 unit.

    DOMAIN.md "Rounding": new tariffs use largest remainder, so shares sum exactly to the meter's units
    (100 units over three equal flats → 33.34/33.33/33.33); the seed-compatible configuration rounds each
    flat's share on its own, half-up (its shares need not sum to the meter's units).
    """

    PER_UNIT_HALF_UP = "per_unit_half_up_0.01"
    LARGEST_REMAINDER = "largest_remainder"


def _checked_amount(what: str, value: object) -> Decimal:
    # Money and rates are Decimal only: the system we replace lost paise to float artefacts.
    if not isinstance(value, Decimal) or not value.is_finite():
        raise TariffError(f"{what} must be a finite Decimal, not {value!r}", field=what)
    if value < 0:
        raise TariffError(f"{what} must not be negative (got {value})", field=what, value=str(value))
    return value


def _decimal_from_json(what: str, value: object) -> Decimal:
    # JSON carries decimals as strings (or whole numbers written by hand); floats and booleans are refused.
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise TariffError(f"{what} must be a decimal string, not {value!r}", field=what)
    try:
        return _checked_amount(what, Decimal(value))
    except InvalidOperation:
        raise TariffError(f"{what} must be a decimal string, not {value!r}", field=what) from None


def _mapping_from_json(what: str, value: object) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise TariffError(f"{what} must be an object, not {value!r}", field=what)
    return value


def _only_keys(what: str, data: Mapping[str, Any], required: set[str], optional: set[str]) -> None:
    missing = required - data.keys()
    unknown = data.keys() - required - optional
    if missing or unknown:
        raise TariffError(
            f"{what}: missing {sorted(missing)}, unknown {sorted(unknown)}",
            field=what,
            missing=",".join(sorted(missing)),
            unknown=",".join(sorted(unknown)),
        )


@dataclass(frozen=True)
class FlatRate:
    """Energy priced at one rate for every unit (the seed's ₹12/unit)."""

    KIND: ClassVar[str] = "flat"

    rate_per_unit: Decimal

    def __post_init__(self) -> None:
        _checked_amount("energy.rate_per_unit", self.rate_per_unit)

    def amount_for(self, units: Decimal) -> Decimal:
        """The charge for ``units`` at this rate, rounded to paise (DOMAIN.md: each line to paise)."""
        return round_paise(units * self.rate_per_unit)

    def to_dict(self) -> dict[str, str]:
        """JSON-safe form, tagged with its kind so slab and band kinds can join later."""
        return {"kind": self.KIND, "rate_per_unit": str(self.rate_per_unit)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FlatRate:
        """Inverse of ``to_dict``; raises ``TariffError`` on anything else."""
        data = _mapping_from_json("energy", data)
        _only_keys("energy", data, {"kind", "rate_per_unit"}, set())
        if data["kind"] != cls.KIND:
            raise TariffError(f"energy kind {data['kind']!r} is not supported (known: flat)", field="energy.kind")
        return cls(rate_per_unit=_decimal_from_json("energy.rate_per_unit", data["rate_per_unit"]))


@dataclass(frozen=True)
class Tariff:
    """A tariff as data. ``fixed_by_unit_type`` maps a unit type ("2BHK", "VILLA", …) to its monthly charge.

    Unit types match exactly (case-sensitive). The mapping is copied and frozen on construction.
    """

    code: str
    name: str
    energy: FlatRate
    fixed_by_unit_type: Mapping[str, Decimal]
    share_rounding: ShareRounding = ShareRounding.LARGEST_REMAINDER
    # Whether shared meters (water motors) are shared out onto the flats' bills at the energy rate.
    bill_shared_meters: bool = True

    def __post_init__(self) -> None:
        if not self.code.strip():
            raise TariffError("a tariff needs a code", field="code")
        if not isinstance(self.energy, FlatRate):
            raise TariffError(f"energy must be a FlatRate, not {self.energy!r}", field="energy")
        if not isinstance(self.share_rounding, ShareRounding):
            raise TariffError(f"unknown share rounding {self.share_rounding!r}", field="share_rounding")
        fixed: dict[str, Decimal] = {}
        for unit_type, amount in self.fixed_by_unit_type.items():
            if not isinstance(unit_type, str) or not unit_type.strip() or unit_type != unit_type.strip():
                raise TariffError(f"unit type {unit_type!r} must be a non-blank string", field="fixed_by_unit_type")
            fixed[unit_type] = _checked_amount(f"fixed_by_unit_type[{unit_type}]", amount)
        object.__setattr__(self, "fixed_by_unit_type", MappingProxyType(fixed))

    def __hash__(self) -> int:
        # The frozen mapping is not hashable itself; hash its items so tariffs can key caches.
        fixed = tuple(sorted(self.fixed_by_unit_type.items()))
        return hash((self.code, self.name, self.energy, fixed, self.share_rounding, self.bill_shared_meters))

    def fixed_charge_for(self, unit_type: str) -> Decimal:
        """The monthly fixed charge for ``unit_type``; ``UnknownUnitType`` if the tariff has none."""
        try:
            return self.fixed_by_unit_type[unit_type]
        except KeyError:
            known = ", ".join(sorted(self.fixed_by_unit_type))
            raise UnknownUnitType(
                f"Tariff {self.code} has no fixed charge for unit type {unit_type!r} (known: {known})",
                tariff=self.code,
                unit_type=unit_type,
            ) from None

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form (decimals as strings), as the server stores it; ``from_dict`` reads it back."""
        return {
            "schema": SCHEMA_VERSION,
            "code": self.code,
            "name": self.name,
            "energy": self.energy.to_dict(),
            "fixed_by_unit_type": {unit_type: str(amount) for unit_type, amount in self.fixed_by_unit_type.items()},
            "share_rounding": self.share_rounding.value,
            "bill_shared_meters": self.bill_shared_meters,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Tariff:
        """Build a tariff from its ``to_dict`` form, refusing unknown keys, floats and negative amounts."""
        data = _mapping_from_json("tariff", data)
        _only_keys(
            "tariff",
            data,
            {"code", "name", "energy", "fixed_by_unit_type"},
            {"schema", "share_rounding", "bill_shared_meters"},
        )
        if data.get("schema", SCHEMA_VERSION) != SCHEMA_VERSION:
            raise TariffError(f"tariff schema {data['schema']!r} is not supported", field="schema")
        for key in ("code", "name"):
            if not isinstance(data[key], str):
                raise TariffError(f"{key} must be a string, not {data[key]!r}", field=key)
        fixed = _mapping_from_json("fixed_by_unit_type", data["fixed_by_unit_type"])
        rounding = data.get("share_rounding", ShareRounding.LARGEST_REMAINDER.value)
        if rounding not in {member.value for member in ShareRounding}:
            known = ", ".join(member.value for member in ShareRounding)
            raise TariffError(f"unknown share rounding {rounding!r} (known: {known})", field="share_rounding")
        bill_shared = data.get("bill_shared_meters", True)
        if not isinstance(bill_shared, bool):
            raise TariffError("bill_shared_meters must be true or false", field="bill_shared_meters")
        return cls(
            code=data["code"],
            name=data["name"],
            energy=FlatRate.from_dict(data["energy"]),
            fixed_by_unit_type={
                str(unit_type): _decimal_from_json(f"fixed_by_unit_type[{unit_type}]", amount)
                for unit_type, amount in fixed.items()
            },
            share_rounding=ShareRounding(rounding),
            bill_shared_meters=bill_shared,
        )


@dataclass(frozen=True)
class RateOverride:
    """A per-account exception to the tariff, an input to the bill (not part of the tariff).

    The seed bills three flats at ₹9/unit with no fixed charge: ``RateOverride(Decimal(9), Decimal(0))``.
    The rate prices every unit on the bill, the flat's own and its shared-meter share alike (the seed
    multiplies their sum by the flat's rate). ``fixed_charge=None`` keeps the tariff's fixed charge for the
    unit type.
    """

    rate_per_unit: Decimal
    fixed_charge: Decimal | None = None
    reason: str = ""

    def __post_init__(self) -> None:
        _checked_amount("rate_override.rate_per_unit", self.rate_per_unit)
        if self.fixed_charge is not None:
            _checked_amount("rate_override.fixed_charge", self.fixed_charge)


def blessings_tariff() -> Tariff:
    """The seed system's tariff (DOMAIN.md "Its production bill"), for the server to store via ``to_dict``.

    ``(flat units + share of the motor's units) × ₹12 + fixed charge by unit type``; each flat's motor share
    rounded on its own to 0.01 unit, half-up, before pricing.
    """
    return Tariff(
        code="BLESSINGS",
        name="Blessings City (seed-compatible)",
        energy=FlatRate(rate_per_unit=Decimal(12)),
        fixed_by_unit_type={
            "2BHK": Decimal(1474),
            "4BHK": Decimal(1890),
            "5BHK": Decimal(2311),
            "VILLA": Decimal(1857),
            "SCO": Decimal(2157),
        },
        share_rounding=ShareRounding.PER_UNIT_HALF_UP,
        bill_shared_meters=True,
    )
