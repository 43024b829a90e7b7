"""Shared meters (water motors, common areas): splitting their units between the flats they serve.

docs/domain.md "Shared meters": motor share = motor units × flat units ÷ units of all flats on that motor.
docs/domain.md "Rounding": shares are in 0.01 unit, rounded either per flat half-up (seed-compatible) or by largest
remainder so that they sum exactly to the motor's units (``apportionment``, exact integer arithmetic).
docs/domain.md "Shared meters": membership is effective-dated, so a flat that joins or leaves inside the
period counts its units pro-rated by the days it was a member (``shared_meter_uses``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from shared_billing.apportionment import largest_remainder, rounded_shares
from shared_billing.errors import SharedMeterError, SharedMeterIncomplete, SharedMeterUnallocatable
from shared_billing.money import round_units
from shared_billing.periods import DaySpan
from shared_billing.tariffs import ShareRounding

__all__ = [
    "SHARE_PLACES",
    "Membership",
    "SharedMeterUse",
    "allocate_shares",
    "exact_share",
    "shared_meter_uses",
]

#: Shares are whole hundredths of a unit (0.01 kWh).
SHARE_PLACES = 2


def _check_units(what: str, units: Decimal) -> None:
    if not isinstance(units, Decimal) or not units.is_finite() or units < 0:
        raise SharedMeterError(f"{what} must be a finite Decimal ≥ 0, not {units!r}", field=what)


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
    if rounding == ShareRounding.PER_UNIT_HALF_UP:
        return rounded_shares(meter_units, member_units, SHARE_PLACES)
    if rounding == ShareRounding.LARGEST_REMAINDER:
        return largest_remainder(meter_units, member_units, SHARE_PLACES)
    raise ValueError(f"unknown share rounding {rounding!r}")


@dataclass(frozen=True)
class SharedMeterUse:
    """One flat's use of one shared meter in a period.

    ``meter_units``: the shared meter's consumption; ``own_units``: the flat's consumption; ``group_units``:
    the consumption of all flats on that meter, this one included. ``share_units`` is the flat's share when it
    was allocated over the whole group (``for_member``), which largest-remainder rounding needs; with per-flat
    half-up rounding it may be left out and is computed from the three figures. ``counted_units`` is the part
    of the flat's units counted in the split when it was a member for only part of the period (its units
    pro-rated by its days of membership, see ``shared_meter_uses``); ``None`` counts all of ``own_units``.
    """

    meter_number: str
    meter_units: Decimal
    own_units: Decimal
    group_units: Decimal
    share_units: Decimal | None = None
    counted_units: Decimal | None = None

    def __post_init__(self) -> None:
        _check_units("meter_units", self.meter_units)
        _check_units("own_units", self.own_units)
        _check_units("group_units", self.group_units)
        if self.counted_units is not None:
            _check_units("counted_units", self.counted_units)
            if self.counted_units > self.own_units:
                raise SharedMeterError(
                    f"{self.meter_number}: counted units {self.counted_units} exceed the flat's {self.own_units}",
                    meter=self.meter_number,
                )
        if self.counted > self.group_units:
            raise SharedMeterError(
                f"{self.meter_number}: the flat's {self.counted} units exceed its group's {self.group_units}",
                meter=self.meter_number,
            )
        if self.group_units == 0 and self.meter_units != 0:
            raise SharedMeterUnallocatable(
                f"{self.meter_number}: {self.meter_units} units but its flats used none: the share is undefined",
                meter=self.meter_number,
            )
        if self.share_units is not None:
            _check_units("share_units", self.share_units)
            exact = exact_share(self.meter_units, self.counted, self.group_units)
            if abs(self.share_units - exact) >= Decimal(1).scaleb(-SHARE_PLACES):
                raise SharedMeterError(
                    f"{self.meter_number}: share {self.share_units} is not within 0.01 of {exact:.6f}",
                    meter=self.meter_number,
                )

    @property
    def counted(self) -> Decimal:
        """The flat's units that count in the split (``counted_units``, else ``own_units``)."""
        return self.own_units if self.counted_units is None else self.counted_units

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
        others = {"own": self.counted, "others": self.group_units - self.counted}
        share = allocate_shares(self.meter_units, others, rounding)["own"]
        if self.share_units is not None and self.share_units != share:
            raise SharedMeterError(
                f"{self.meter_number}: share {self.share_units} differs from the per-flat rounded {share}",
                meter=self.meter_number,
            )
        return share


@dataclass(frozen=True)
class Membership:
    """A flat served by a shared meter from ``valid_from`` until the day before ``valid_to`` (``None``: still)."""

    member: str
    valid_from: date
    valid_to: date | None = None


def _member_days(span: DaySpan, memberships: Sequence[Membership]) -> dict[str, int]:
    days: dict[str, int] = {}
    for membership in memberships:
        last = None if membership.valid_to is None else membership.valid_to - timedelta(days=1)
        part = span.overlap(membership.valid_from, last)
        if part is not None:
            days[membership.member] = days.get(membership.member, 0) + part.days
    return days


def shared_meter_uses(
    meter_number: str,
    meter_units: Decimal,
    *,
    span: DaySpan,
    memberships: Sequence[Membership],
    member_units: Mapping[str, Decimal | None],
    rounding: ShareRounding,
) -> dict[str, SharedMeterUse]:
    """Every member's use of the shared meter over ``span`` (the billed days), keyed by member.

    A flat counts if its membership covers any day of the span. A member for the whole span counts its own
    units; one that joined or left inside it counts ``own × member days ÷ span days``, half-up to 0.01 unit
    (docs/domain.md "Shared meters": membership is effective-dated). ``member_units`` gives each flat's
    consumption for the span, ``None`` (or absent) when it has no approved reading yet: ``SharedMeterIncomplete``.
    """
    days = _member_days(span, memberships)
    missing = sorted(member for member in days if member_units.get(member) is None)
    if missing:
        raise SharedMeterIncomplete(
            f"{meter_number}: no consumption yet for {', '.join(missing)} ({len(missing)} of {len(days)} flats)",
            meter=meter_number,
            missing=",".join(missing),
        )
    own = {member: member_units[member] for member in days}
    counted: dict[str, Decimal] = {}
    for member, member_days in days.items():
        units = own[member]
        assert units is not None
        _check_units(f"units of {member}", units)
        full = member_days >= span.days
        counted[member] = units if full else round_units(units * member_days / span.days, SHARE_PLACES)
    shares = allocate_shares(meter_units, counted, rounding)
    group = sum(counted.values(), Decimal(0))
    uses: dict[str, SharedMeterUse] = {}
    for member, units in own.items():
        assert units is not None
        partial = days[member] < span.days
        uses[member] = SharedMeterUse(
            meter_number=meter_number,
            meter_units=meter_units,
            own_units=units,
            group_units=group,
            share_units=shares[member],
            counted_units=counted[member] if partial else None,
        )
    return uses
