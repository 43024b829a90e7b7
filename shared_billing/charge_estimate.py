"""The capture screen's estimate of a unit's own charges for a reading: energy and fixed charge at its tariff.

docs/domain.md "Expected window and estimate". No motor share, no arrears, no rate override: the screen labels it an
estimate. The figures are ``billing.compute_bill``'s for one calendar month (factor 1, the monthly slab limits),
so the estimate is the bill's own arithmetic, never a second pricing rule; levies, subsidies and a minimum charge
on the unit's own consumption are in the total as the bill would have them.

Two warnings for the engineer, each a reason to look at the dials again rather than a verdict:
- ``crosses_slab``: the units reach a dearer energy slab (or band) than the meter's usual month does;
- ``far_above_usual``: the total is at least ``FAR_ABOVE_USUAL`` times the usual month's.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from shared_billing.bill_lines import LineCode
from shared_billing.billing import compute_bill
from shared_billing.consumption import MeterRegister
from shared_billing.energy import Bands, Slab, Slabs
from shared_billing.plausibility import Usage
from shared_billing.tariffs import Tariff

__all__ = ["DAYS_IN_A_MONTH", "FAR_ABOVE_USUAL", "ChargeEstimate", "estimate_own_charges", "usual_month_units"]

#: A bill half as large again as usual: beyond a hot month's air conditioning on these slabs (a summer bill runs some
#: 20–40 % above the year's average in the seed's history), so it points at a misread digit or a real fault worth a
#: second look, and rarely at an ordinary month.
FAR_ABOVE_USUAL = Decimal("1.5")
#: The average month (365.25 ÷ 12 days): the usual month's units from a daily use.
DAYS_IN_A_MONTH = Decimal("30.4375")


@dataclass(frozen=True)
class ChargeEstimate:
    units: Decimal  # consumption after the multiplier
    energy: Decimal
    fixed: Decimal
    total: Decimal  # what compute_bill would charge for these units alone (rounded as a bill is)
    usual_total: Decimal | None  # the same for the meter's usual month, when its usage is known
    crosses_slab: bool  # these units reach a dearer slab than the usual month's
    far_above_usual: bool  # total is far above usual_total (the threshold lives here)


def usual_month_units(usage: Usage, register: MeterRegister) -> Decimal:
    """The units (after the multiplier, at the meter's precision) of the meter's usual month: its average daily
    use over an average month."""
    return register.units(usage.daily_use * DAYS_IN_A_MONTH)


def _slab_rate(ranges: tuple[Slab, ...], units: Decimal) -> Decimal:
    """The rate of the slab (or band) the last of ``units`` falls in, at the monthly limits: a slab covers the units
    above the previous one's ``to`` up to its own (``energy.Slabs``), so 100.5 units on 0–100 / 101–300 is in the
    second."""
    for slab in ranges:
        if slab.to_units is None or units <= slab.to_units:
            return slab.rate
    return ranges[-1].rate


def _crosses_slab(tariff: Tariff, units: Decimal, usual_units: Decimal) -> bool:
    energy = tariff.energy
    if isinstance(energy, Slabs):
        return _slab_rate(energy.slabs, units) > _slab_rate(energy.slabs, usual_units)
    if isinstance(energy, Bands):
        return _slab_rate(energy.bands, units) > _slab_rate(energy.bands, usual_units)
    return False  # a flat rate has one price for every unit


def _charges(
    tariff: Tariff, unit_type: str, units: Decimal, load_kw: Decimal | None
) -> tuple[Decimal, Decimal, Decimal]:
    """(energy, fixed, payable) of one month's bill for ``units`` alone."""
    bill = compute_bill(tariff, unit_type=unit_type, own_units=units, sanctioned_load_kw=load_kw)
    energy = sum((line.amount for line in bill.lines if line.code == LineCode.ENERGY.value), Decimal("0.00"))
    fixed = sum((line.amount for line in bill.lines if line.code == LineCode.FIXED.value), Decimal("0.00"))
    return energy, fixed, bill.payable


def estimate_own_charges(
    tariff: Tariff,
    *,
    unit_type: str,
    units: Decimal,
    sanctioned_load_kw: Decimal | None = None,
    usual_units: Decimal | None = None,
) -> ChargeEstimate:
    """The unit's own charges for ``units`` in one month at ``tariff``, and how they compare with its usual month.

    ``units`` and ``usual_units`` are consumption AFTER the meter's multiplier: the caller turns register values
    into units (``MeterRegister.units``; ``usual_month_units`` for the usual month). ``usual_units`` None (no usage
    known): no comparison, both warnings off. ``sanctioned_load_kw`` is needed by a per-kW fixed charge. Raises as
    ``compute_bill`` does (``UnknownUnitType``, ``MissingSanctionedLoad``, ``BelowPrevious`` for negative units).
    """
    energy, fixed, total = _charges(tariff, unit_type, units, sanctioned_load_kw)
    if usual_units is None:
        return ChargeEstimate(units, energy, fixed, total, None, crosses_slab=False, far_above_usual=False)
    _, _, usual_total = _charges(tariff, unit_type, usual_units, sanctioned_load_kw)
    return ChargeEstimate(
        units=units,
        energy=energy,
        fixed=fixed,
        total=total,
        usual_total=usual_total,
        crosses_slab=_crosses_slab(tariff, units, usual_units),
        # A usual month of nothing (a vacant flat billed its fixed charge only) still compares: the fixed charge
        # keeps usual_total above zero, and a zero-charge tariff never warns.
        far_above_usual=usual_total > 0 and total >= FAR_ABOVE_USUAL * usual_total,
    )
