"""Shared meters (water motors, common areas): splitting their units between the flats they serve.

DOMAIN.md "Its production bill": motor share = motor units × flat units ÷ units of all flats on that motor.
DOMAIN.md "Rounding": shares are in 0.01 unit, rounded either per flat half-up (seed-compatible) or by largest
remainder so that they sum exactly to the motor's units. All arithmetic here is on integers, so ties are exact
ties (a float or a 28-digit Decimal quotient can turn 0.004999… into a false tie, or the reverse).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from shared_billing.errors import SharedMeterError, SharedMeterIncomplete, SharedMeterUnallocatable
from shared_billing.money import round_units
from shared_billing.tariffs import ShareRounding

__all__ = ["SHARE_PLACES", "SharedMeterUse", "allocate_shares", "exact_share"]

#: Shares are whole hundredths of a unit (0.01 kWh).
SHARE_PLACES = 2
_QUANTA_PER_UNIT = 10**SHARE_PLACES


def _check_units(what: str, units: Decimal) -> None:
    if not isinstance(units, Decimal) or not units.is_finite() or units < 0:
        raise SharedMeterError(f"{what} must be a finite Decimal ≥ 0, not {units!r}", field=what)


def _places(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)  # finite values only (checked by the caller)
    return max(0, -exponent)


def exact_share(meter_units: Decimal, own_units: Decimal, group_units: Decimal) -> Decimal:
    """The unrounded share ``meter × own ÷ group`` (for explanations; 0 when the group used nothing)."""
    return Decimal(0) if group_units == 0 else meter_units * own_units / group_units


def allocate_shares(
    meter_units: Decimal, member_units: Mapping[str, Decimal], rounding: ShareRounding
) -> dict[str, Decimal]:
    """Split ``meter_units`` between members in proportion to their own units, in 0.01 unit.

    ``PER_UNIT_HALF_UP`` rounds each share on its own (the sum may be off by a few hundredths);
    ``LARGEST_REMAINDER`` floors every share, then gives the hundredths still missing from the meter's units
    (rounded half-up to 0.01) to the largest remainders, ties to the member id that sorts first; shares then
    sum exactly and each is within 0.01 of its exact value. Members with zero units get 0.00.

    Raises ``SharedMeterUnallocatable`` when the meter has units but the members used none (the seed's formula
    divides by zero there: a person must decide), ``SharedMeterError`` on negative figures.
    """
    _check_units("meter_units", meter_units)
    for member, units in member_units.items():
        _check_units(f"units of {member}", units)
    if sum(member_units.values(), Decimal(0)) == 0:
        if meter_units != 0:
            raise SharedMeterUnallocatable(
                f"{meter_units} units on the shared meter, but its flats used none: the share is undefined",
                meter_units=str(meter_units),
            )
        return {member: Decimal(0).scaleb(-SHARE_PLACES) for member in member_units}
    # Integers scaled by 10**places: share in quanta = M·u·100 ÷ (U·10**places), exactly.
    places = max([_places(meter_units), *(_places(units) for units in member_units.values())])
    meter_int = int(meter_units.scaleb(places))
    units_int = {member: int(units.scaleb(places)) for member, units in member_units.items()}
    denominator = sum(units_int.values()) * 10**places
    floors: dict[str, int] = {}
    remainders: dict[str, int] = {}
    for member, scaled in units_int.items():
        floors[member], remainders[member] = divmod(meter_int * scaled * _QUANTA_PER_UNIT, denominator)
    quanta = dict(floors)
    if rounding == ShareRounding.PER_UNIT_HALF_UP:
        for member, remainder in remainders.items():
            quanta[member] += 1 if 2 * remainder >= denominator else 0
    elif rounding == ShareRounding.LARGEST_REMAINDER:
        target = int(round_units(meter_units, SHARE_PLACES).scaleb(SHARE_PLACES))
        missing = target - sum(floors.values())
        for member in sorted(remainders, key=lambda m: (-remainders[m], m))[:missing]:
            quanta[member] += 1
    else:
        raise ValueError(f"unknown share rounding {rounding!r}")
    return {member: Decimal(count).scaleb(-SHARE_PLACES) for member, count in quanta.items()}


@dataclass(frozen=True)
class SharedMeterUse:
    """One flat's use of one shared meter in a period.

    ``meter_units``: the shared meter's consumption; ``own_units``: the flat's consumption; ``group_units``:
    the consumption of all flats on that meter, this one included. ``share_units`` is the flat's share when it
    was allocated over the whole group (``for_member``), which largest-remainder rounding needs; with per-flat
    half-up rounding it may be left out and is computed from the three figures.
    """

    meter_number: str
    meter_units: Decimal
    own_units: Decimal
    group_units: Decimal
    share_units: Decimal | None = None

    def __post_init__(self) -> None:
        _check_units("meter_units", self.meter_units)
        _check_units("own_units", self.own_units)
        _check_units("group_units", self.group_units)
        if self.own_units > self.group_units:
            raise SharedMeterError(
                f"{self.meter_number}: the flat's {self.own_units} units exceed its group's {self.group_units}",
                meter=self.meter_number,
            )
        if self.group_units == 0 and self.meter_units != 0:
            raise SharedMeterUnallocatable(
                f"{self.meter_number}: {self.meter_units} units but its flats used none: the share is undefined",
                meter=self.meter_number,
            )
        if self.share_units is not None:
            _check_units("share_units", self.share_units)
            exact = exact_share(self.meter_units, self.own_units, self.group_units)
            if abs(self.share_units - exact) >= Decimal(1).scaleb(-SHARE_PLACES):
                raise SharedMeterError(
                    f"{self.meter_number}: share {self.share_units} is not within 0.01 of {exact:.6f}",
                    meter=self.meter_number,
                )

    @classmethod
    def for_member(
        cls,
        meter_number: str,
        meter_units: Decimal,
        member_units: Mapping[str, Decimal | None],
        member: str,
        rounding: ShareRounding,
    ) -> SharedMeterUse:
        """Allocate over the whole group and keep ``member``'s share.

        ``member_units`` maps every flat on the meter to its consumption, ``None`` where the period has no
        approved reading yet: that raises ``SharedMeterIncomplete`` (``bill.shared_meter_incomplete``),
        because every share depends on every flat.
        """
        missing = sorted(flat for flat, units in member_units.items() if units is None)
        if missing:
            raise SharedMeterIncomplete(
                f"{meter_number}: no consumption yet for {', '.join(missing)} "
                f"({len(missing)} of {len(member_units)} flats)",
                meter=meter_number,
                missing=",".join(missing),
            )
        known = {flat: units for flat, units in member_units.items() if units is not None}
        if member not in known:
            raise SharedMeterError(f"{member} is not served by shared meter {meter_number}", meter=meter_number)
        shares = allocate_shares(meter_units, known, rounding)
        return cls(
            meter_number=meter_number,
            meter_units=meter_units,
            own_units=known[member],
            group_units=sum(known.values(), Decimal(0)),
            share_units=shares[member],
        )

    def share(self, rounding: ShareRounding) -> Decimal:
        """The flat's share in 0.01 unit under ``rounding``.

        Largest remainder depends on the other flats, so it needs ``share_units`` (``SharedMeterError`` if
        absent). Per-flat half-up is computed here, and a given ``share_units`` must agree with it.
        """
        if rounding == ShareRounding.LARGEST_REMAINDER:
            if self.share_units is None:
                raise SharedMeterError(
                    f"{self.meter_number}: largest-remainder shares need the whole group; "
                    "build this with SharedMeterUse.for_member",
                    meter=self.meter_number,
                )
            return self.share_units
        others = {"own": self.own_units, "others": self.group_units - self.own_units}
        share = allocate_shares(self.meter_units, others, rounding)["own"]
        if self.share_units is not None and self.share_units != share:
            raise SharedMeterError(
                f"{self.meter_number}: share {self.share_units} differs from the per-flat rounded {share}",
                meter=self.meter_number,
            )
        return share
