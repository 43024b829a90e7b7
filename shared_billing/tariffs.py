"""Tariffs as data: one version of a tariff (``Tariff``), stored by the server as JSON (``to_dict``).

A version holds the energy charge (``FlatRate``, telescopic ``Slabs`` or ``Bands``), the monthly fixed charge
(per connection by unit type, ``"*"`` for any type, or per kW of sanctioned load), an optional monthly minimum
charge, recurring charges (meter rent, …), levies and subsidies, and its settings: which days a period bills
(``DayCount``), the places of the pro-ration factor and of scaled slab limits, how shared meters are split and what
the payable is rounded to. ``TariffSchedule`` (in
``schedules``) strings versions together by ``effective_from``.

The seed system's bill is *a configuration* of this model (``blessings_tariff()``), not code: a flat ₹12 rate,
fixed charges by unit type, calendar months, per-flat half-up motor shares, no levies.

Stored form (``to_dict``): ``schema`` stays 1 and the keys added since are optional and written only when they
differ from their defaults, so a tariff that uses none of them serialises exactly as before (the demo seed's
stored Blessings tariff reads back equal), and an older reader refuses, by its unknown-key check, any tariff
that does use them instead of mis-billing it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from functools import cached_property
from types import MappingProxyType
from typing import Any

from shared_billing.energy import Bands, Energy, FlatRate, Slabs, energy_from_dict
from shared_billing.errors import TariffError, UnknownUnitType
from shared_billing.levies import Levy, LevyBase, Subsidy
from shared_billing.periods import DayCount
from shared_billing.recurring_charges import RecurringCharge
from shared_billing.tariff_data import (
    ANY_UNIT_TYPE,
    amount_for_unit_type,
    amounts_by_unit_type,
    checked_amount,
    date_from_data,
    decimal_from_data,
    list_from_data,
    mapping_from_data,
    only_keys,
    under,
    whole_from_data,
)

__all__ = [
    "ANY_UNIT_TYPE",
    "SCHEMA_VERSION",
    "FixedBasis",
    "FlatRate",
    "PayableRounding",
    "RateOverride",
    "ShareRounding",
    "Tariff",
    "blessings_tariff",
]

SCHEMA_VERSION = 1


class ShareRounding(StrEnum):
    """How a shared meter's (water motor's) units are split between its flats, at 0.01 unit.

    docs/domain.md "Rounding": new tariffs use largest remainder, so shares sum exactly to the meter's units
    (100 units over three equal flats → 33.34/33.33/33.33); the seed-compatible configuration rounds each
    flat's share on its own, half-up (its shares need not sum to the meter's units).
    """

    PER_UNIT_HALF_UP = "per_unit_half_up_0.01"
    LARGEST_REMAINDER = "largest_remainder"


class FixedBasis(StrEnum):
    """Fixed/demand charge per connection or per kW of sanctioned load, pro-rated by days (docs/domain.md "Fixed and
    minimum charges")."""

    CONNECTION = "connection"
    KW = "kw"


class PayableRounding(StrEnum):
    """What the payable is rounded to (docs/domain.md "Rounding"): the whole rupee (50 paise and above up, most Indian
    utilities), ten paise, or not at all (billed to the paisa); a round-off line shows the difference."""

    RUPEE = "rupee"
    TEN_PAISE = "ten_paise"
    NONE = "none"


def _enum_from_data(what: str, value: object, kind: type[StrEnum]) -> Any:
    if value not in {member.value for member in kind}:
        known = ", ".join(member.value for member in kind)
        raise TariffError(f"unknown {what.replace('_', ' ')} {value!r} (known: {known})", field=what)
    return kind(str(value))


@dataclass(frozen=True)
class Tariff:
    """One version of a tariff, as data. Monthly amounts; a period's pro-ration factor scales them.

    ``fixed_by_unit_type`` maps a unit type ("2BHK", "VILLA", …, or ``"*"`` for any) to its monthly fixed
    charge, per connection or per kW (``fixed_basis``). Unit types match exactly (case-sensitive). Mappings are
    copied and frozen on construction; ``levies`` and ``subsidies`` become tuples.
    """

    code: str
    name: str
    energy: Energy
    fixed_by_unit_type: Mapping[str, Decimal]
    share_rounding: ShareRounding = ShareRounding.LARGEST_REMAINDER
    # Whether shared meters (water motors) are shared out onto the flats' bills at the energy rate.
    bill_shared_meters: bool = True
    effective_from: date | None = None
    fixed_basis: FixedBasis = FixedBasis.CONNECTION
    minimum_charge: Decimal | None = None
    levies: Sequence[Levy] = field(default=())
    subsidies: Sequence[Subsidy] = field(default=())
    day_count: DayCount = DayCount.CALENDAR_MONTH
    factor_places: int = 4
    limit_places: int = 0
    recurring_charges: Sequence[RecurringCharge] = field(default=())
    payable_rounding: PayableRounding = PayableRounding.RUPEE

    def __post_init__(self) -> None:
        if not self.code.strip():
            raise TariffError("a tariff needs a code", field="code")
        if not isinstance(self.energy, FlatRate | Slabs | Bands):
            raise TariffError(f"energy must be a FlatRate, Slabs or Bands, not {self.energy!r}", field="energy")
        for what, kind in (
            ("share_rounding", ShareRounding),
            ("fixed_basis", FixedBasis),
            ("day_count", DayCount),
            ("payable_rounding", PayableRounding),
        ):
            if not isinstance(getattr(self, what), kind):
                raise TariffError(f"unknown {what.replace('_', ' ')} {getattr(self, what)!r}", field=what)
        object.__setattr__(
            self, "fixed_by_unit_type", amounts_by_unit_type("fixed_by_unit_type", self.fixed_by_unit_type)
        )
        if self.minimum_charge is not None:
            checked_amount("minimum_charge", self.minimum_charge)
        for what in ("factor_places", "limit_places"):
            places = getattr(self, what)
            if not isinstance(places, int) or isinstance(places, bool) or not 0 <= places <= 6:
                raise TariffError(f"{what} must be a whole number from 0 to 6, not {places!r}", field=what)
        object.__setattr__(self, "levies", tuple(self.levies))
        object.__setattr__(self, "subsidies", tuple(self.subsidies))
        object.__setattr__(self, "recurring_charges", tuple(self.recurring_charges))
        self._check_unique("levies", [levy.code for levy in self.levies], "code")
        self._check_unique("levies", [str(levy.order) for levy in self.levies], "order")
        self._check_unique("subsidies", [subsidy.code for subsidy in self.subsidies], "code")
        self._check_unique("recurring_charges", [charge.code for charge in self.recurring_charges], "code")
        self._check_names()

    def _check_names(self) -> None:
        """Codes that a base can name are distinct, and every name a base uses exists (a lower-order levy's code for a
        levy: a levy cannot be computed on one not computed yet)."""
        builtin = {member.value for member in LevyBase} | {"minimum_charge"}
        charge_codes = {charge.code for charge in self.recurring_charges}
        for what, codes in (
            ("recurring_charges", [charge.code for charge in self.recurring_charges]),
            ("levies", [levy.code for levy in self.levies]),
        ):
            for index, code in enumerate(codes):
                taken = code in builtin or (what == "levies" and code in charge_codes)
                if taken:
                    raise TariffError(
                        f"code {code!r} is already the name of a base or a recurring charge",
                        field=f"{what}[{index}].code",
                        problem="duplicate",
                    )
        for index, levy in enumerate(self.levies):
            earlier = {other.code for other in self.levies if other.order < levy.order}
            self._check_terms(f"levies[{index}].base", levy.terms, builtin | charge_codes | earlier)
        for index, subsidy in enumerate(self.subsidies):
            self._check_terms(f"subsidies[{index}].base", subsidy.terms, builtin | charge_codes)

    @staticmethod
    def _check_terms(where: str, terms: tuple[str, ...], known: set[str]) -> None:
        for term in terms:
            if term not in known:
                raise TariffError(
                    f"unknown levy base {term!r} (known: {', '.join(sorted(known - {'minimum_charge'}))})",
                    field=where,
                    value=term,
                    problem="unknown_levy_base",
                )

    @cached_property
    def charge_names(self) -> Mapping[str, str]:
        """People's names for the codes a base may use besides the built-in ones: recurring charges and levies
        (once per version: every part of every bill it prices asks)."""
        names = {charge.code: charge.name for charge in self.recurring_charges}
        names.update({levy.code: levy.name for levy in self.levies})
        return MappingProxyType(names)

    @staticmethod
    def _check_unique(what: str, values: list[str], key: str) -> None:
        for index, value in enumerate(values):
            if value in values[:index]:
                raise TariffError(f"two {what} with {key} {value}", field=f"{what}[{index}].{key}", problem="duplicate")

    def __hash__(self) -> int:
        # The frozen mapping is not hashable itself; hash its items so tariffs can key caches.
        fixed = tuple(sorted(self.fixed_by_unit_type.items()))
        return hash(
            (self.code, self.effective_from, self.energy, fixed, self.levies, self.subsidies, self.recurring_charges)
        )

    def fixed_charge_for(self, unit_type: str) -> Decimal:
        """The monthly fixed charge for ``unit_type`` (else ``"*"``); ``UnknownUnitType`` if neither is set."""
        amount = amount_for_unit_type(self.fixed_by_unit_type, unit_type)
        if amount is not None:
            return amount
        known = ", ".join(sorted(self.fixed_by_unit_type))
        raise UnknownUnitType(
            f"Tariff {self.code} has no fixed charge for unit type {unit_type!r} (known: {known})",
            tariff=self.code,
            unit_type=unit_type,
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form (decimals as strings), as the server stores it; ``from_dict`` reads it back."""
        data: dict[str, Any] = {
            "schema": SCHEMA_VERSION,
            "code": self.code,
            "name": self.name,
            "energy": self.energy.to_dict(),
            "fixed_by_unit_type": {unit_type: str(amount) for unit_type, amount in self.fixed_by_unit_type.items()},
            "share_rounding": self.share_rounding.value,
            "bill_shared_meters": self.bill_shared_meters,
        }
        optional: dict[str, Any] = {
            "effective_from": None if self.effective_from is None else self.effective_from.isoformat(),
            "fixed_basis": None if self.fixed_basis == FixedBasis.CONNECTION else self.fixed_basis.value,
            "minimum_charge": None if self.minimum_charge is None else str(self.minimum_charge),
            "levies": [levy.to_dict() for levy in self.levies] or None,
            "subsidies": [subsidy.to_dict() for subsidy in self.subsidies] or None,
            "day_count": None if self.day_count == DayCount.CALENDAR_MONTH else self.day_count.value,
            "factor_places": None if self.factor_places == 4 else self.factor_places,
            "limit_places": None if self.limit_places == 0 else self.limit_places,
            "recurring_charges": [charge.to_dict() for charge in self.recurring_charges] or None,
            "payable_rounding": (
                None if self.payable_rounding == PayableRounding.RUPEE else self.payable_rounding.value
            ),
        }
        data.update({key: value for key, value in optional.items() if value is not None})
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Tariff:
        """Build a tariff from its ``to_dict`` form, refusing unknown keys, floats and negative amounts.

        Every ``TariffError`` names the value at fault in ``details["field"]`` (``levies[1].base``).
        """
        data = mapping_from_data("tariff", data)
        optional = {"schema", "share_rounding", "bill_shared_meters", *_OPTIONAL}
        only_keys("tariff", data, {"code", "name", "energy", "fixed_by_unit_type"}, optional)
        if data.get("schema", SCHEMA_VERSION) != SCHEMA_VERSION:
            raise TariffError(f"tariff schema {data['schema']!r} is not supported", field="schema")
        for key in ("code", "name"):
            if not isinstance(data[key], str):
                raise TariffError(f"{key} must be a string, not {data[key]!r}", field=key)
        fixed = mapping_from_data("fixed_by_unit_type", data["fixed_by_unit_type"])
        bill_shared = data.get("bill_shared_meters", True)
        if not isinstance(bill_shared, bool):
            raise TariffError("bill_shared_meters must be true or false", field="bill_shared_meters")
        rounding = data.get("share_rounding", ShareRounding.LARGEST_REMAINDER.value)
        return cls(
            code=data["code"],
            name=data["name"],
            energy=energy_from_dict(data["energy"]),
            fixed_by_unit_type={
                str(unit_type): decimal_from_data(f"fixed_by_unit_type[{unit_type}]", amount)
                for unit_type, amount in fixed.items()
            },
            share_rounding=_enum_from_data("share_rounding", rounding, ShareRounding),
            bill_shared_meters=bill_shared,
            **_optional_from_dict(data),
        )


_OPTIONAL = (
    "effective_from",
    "fixed_basis",
    "minimum_charge",
    "levies",
    "subsidies",
    "day_count",
    "factor_places",
    "limit_places",
    "recurring_charges",
    "payable_rounding",
)


def _optional_from_dict(data: Mapping[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if "effective_from" in data:
        values["effective_from"] = date_from_data("effective_from", data["effective_from"])
    if "fixed_basis" in data:
        values["fixed_basis"] = _enum_from_data("fixed_basis", data["fixed_basis"], FixedBasis)
    if "day_count" in data:
        values["day_count"] = _enum_from_data("day_count", data["day_count"], DayCount)
    if "payable_rounding" in data:
        values["payable_rounding"] = _enum_from_data("payable_rounding", data["payable_rounding"], PayableRounding)
    if "minimum_charge" in data:
        values["minimum_charge"] = decimal_from_data("minimum_charge", data["minimum_charge"])
    for what in ("factor_places", "limit_places"):
        if what in data:
            values[what] = whole_from_data(what, data[what])
    for what, kind in (("levies", Levy), ("subsidies", Subsidy), ("recurring_charges", RecurringCharge)):
        if what in data:
            items: list[Any] = []
            for index, item in enumerate(list_from_data(what, data[what])):
                with under(f"{what}[{index}]"):
                    items.append(kind.from_dict(item))
            values[what] = tuple(items)
    return values


@dataclass(frozen=True)
class RateOverride:
    """A per-account exception to the tariff, an input to the bill (not part of the tariff).

    The seed bills three flats at ₹9/unit with no fixed charge: ``RateOverride(Decimal(9), Decimal(0))``.
    The rate prices every unit on the bill, the flat's own and its shared-meter share alike (the seed
    multiplies their sum by the flat's rate), in place of the tariff's energy charge (flat, slabs or bands).
    ``rate_per_unit=None`` keeps the tariff's energy charge (an account whose only exception is its fixed charge);
    ``fixed_charge=None`` keeps the tariff's fixed charge for the unit type; a given one is monthly, pro-rated
    like the tariff's. Levies and subsidies of the tariff still apply.
    """

    rate_per_unit: Decimal | None
    fixed_charge: Decimal | None = None
    reason: str = ""

    def __post_init__(self) -> None:
        if self.rate_per_unit is None and self.fixed_charge is None:
            raise ValueError("a rate override changes the rate, the fixed charge or both")
        if self.rate_per_unit is not None:
            checked_amount("rate_override.rate_per_unit", self.rate_per_unit)
        if self.fixed_charge is not None:
            checked_amount("rate_override.fixed_charge", self.fixed_charge)


def blessings_tariff() -> Tariff:
    """The seed system's tariff (docs/domain.md "The seed-compatible bill"), for the server to store via ``to_dict``.

    ``(flat units + share of the motor's units) × ₹12 + fixed charge by unit type``; each flat's motor share
    rounded on its own to 0.01 unit, half-up, before pricing; monthly bills for calendar months.
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
        day_count=DayCount.CALENDAR_MONTH,
    )
