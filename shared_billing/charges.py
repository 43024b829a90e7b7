"""The charges of one bill segment (a stretch of days billed by one tariff version), line by line.

Order (docs/domain.md, "Levies and subsidies"): energy; fixed charge, pro-rated by the factor; the
minimum charge as max(energy + fixed, minimum) — a top-up line when energy + fixed falls short — before any
tax; the tariff's recurring charges (meter rent, …), pro-rated likewise. Levies and subsidies follow
(``shared_billing.levies``), computed on the figures this returns. Every line is rounded to paise half-up on its own
(docs/domain.md "Rounding").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from shared_billing.bill_lines import BillLine, LineCode, inr
from shared_billing.energy import EnergySource, FlatRate, Priced
from shared_billing.errors import MissingSanctionedLoad
from shared_billing.levies import LevyBase, PartBase
from shared_billing.money import round_paise
from shared_billing.periods import DaySpan
from shared_billing.recurring_charges import recurring_line
from shared_billing.tariffs import ANY_UNIT_TYPE, FixedBasis, RateOverride, Tariff

__all__ = ["Segment", "segment_charges"]


@dataclass(frozen=True)
class Segment:
    """Days billed by one version: ``span`` (``None`` for a plain month at the monthly charges) and its factor."""

    span: DaySpan | None
    version: Tariff
    factor: Decimal
    # The lines that do not depend on the units (``_standing_lines``), by the account's terms: a bill run prices a
    # block's hundreds of units with the same segments (``TariffSchedule.cuts``) and a handful of terms.
    standing: dict[Any, Any] = field(default_factory=dict, init=False, repr=False, compare=False)


def _override_note(rate_override: RateOverride | None) -> str:
    if rate_override is None:
        return ""
    return f" (rate override{': ' + rate_override.reason if rate_override.reason else ''})"


def _fixed(
    segment: Segment, unit_type: str, load_kw: Decimal | None, rate_override: RateOverride | None
) -> tuple[BillLine, str]:
    version, factor = segment.version, segment.factor
    monthly = version.fixed_charge_for(unit_type)
    # A tariff with one fixed charge for every type ("*") says just "Fixed charge".
    named = "" if unit_type == ANY_UNIT_TYPE else f" ({unit_type})"
    for_type = "" if unit_type == ANY_UNIT_TYPE else f" for {unit_type}"
    scaled = "" if factor == 1 else f" a month × {factor}"
    if rate_override is not None and rate_override.fixed_charge is not None:
        monthly = rate_override.fixed_charge
        amount = round_paise(monthly * factor)
        line = BillLine(LineCode.FIXED.value, f"Fixed charge{named}", factor, monthly, amount)
        equals = f" = {inr(amount)}" if scaled else ""
        note = _override_note(rate_override)
        return line, f"Fixed charge: {inr(monthly)}{scaled}{equals}{note}, due whatever the consumption"
    if version.fixed_basis == FixedBasis.KW:
        if load_kw is None:
            raise MissingSanctionedLoad(
                f"Tariff {version.code} charges the fixed charge per kW: the sanctioned load is needed",
                tariff=version.code,
            )
        quantity = load_kw * factor
        amount = round_paise(monthly * quantity)
        line = BillLine(LineCode.FIXED.value, f"Fixed charge ({load_kw} kW sanctioned)", quantity, monthly, amount)
        trace = (
            f"Fixed charge: {load_kw} kW × {inr(monthly)} per kW{scaled} = {inr(amount)}, due whatever the consumption"
        )
        return line, trace
    amount = round_paise(monthly * factor)
    line = BillLine(LineCode.FIXED.value, f"Fixed charge{named}", factor, monthly, amount)
    equals = f" = {inr(amount)}" if scaled else ""
    return line, (
        f"Fixed charge{for_type} under tariff {version.code}: {inr(monthly)}{scaled}{equals}, "
        "due whatever the consumption"
    )


def _standing_lines(
    segment: Segment, unit_type: str, load_kw: Decimal | None, rate_override: RateOverride | None
) -> tuple[tuple[BillLine, str], tuple[tuple[BillLine | None, str], ...]]:
    """The fixed charge and the recurring charges of a segment for the account's terms: whatever its units."""
    key = repr((unit_type, load_kw, rate_override))  # exact: 5 kW and 5.0 kW are equal but print differently
    lines = segment.standing.get(key)
    if lines is None:
        fixed = _fixed(segment, unit_type, load_kw, rate_override)
        recurring = tuple(
            recurring_line(charge, unit_type, segment.factor) for charge in segment.version.recurring_charges
        )
        lines = segment.standing[key] = (fixed, recurring)
    return lines


def segment_charges(
    segment: Segment,
    *,
    sources: Sequence[EnergySource],
    unit_type: str,
    sanctioned_load_kw: Decimal | None,
    rate_override: RateOverride | None,
    label: str = "",
) -> tuple[Priced, PartBase]:
    """The charge lines of one segment (energy, fixed, minimum top-up, recurring charges) with their trace —
    ``None`` lines are trace-only notes — and the figures its levies and subsidies are computed on."""
    version = segment.version
    overridden_rate = None if rate_override is None else rate_override.rate_per_unit
    energy = version.energy if overridden_rate is None else FlatRate(overridden_rate)
    priced: Priced = list(energy.price(sources, segment.factor, version.limit_places))
    energy_total = sum((line.amount for line, _ in priced if line is not None), Decimal(0))
    priced.append((None, f"Energy subtotal: {inr(energy_total)}"))
    (fixed_line, fixed_trace), recurring_lines = _standing_lines(segment, unit_type, sanctioned_load_kw, rate_override)
    priced.append((fixed_line, fixed_trace))
    charges = energy_total + fixed_line.amount
    if version.minimum_charge is not None:
        # docs/domain.md "Fixed and minimum charges": max(energy + fixed, minimum), before any levy.
        minimum = round_paise(version.minimum_charge * segment.factor)
        how = f"Minimum charge {inr(version.minimum_charge)} a month × {segment.factor} = {inr(minimum)}"
        if charges < minimum:
            top_up = minimum - charges
            line = BillLine(LineCode.MINIMUM_CHARGE.value, "Minimum charge top-up", Decimal(1), None, top_up)
            priced.append((line, f"{how}; energy + fixed {inr(charges)} falls short by {inr(top_up)}"))
            charges = minimum
        else:
            priced.append((None, f"{how}; energy + fixed {inr(charges)} meets it"))
    amounts = {LevyBase.ENERGY.value: energy_total, LevyBase.FIXED.value: fixed_line.amount}
    amounts[LevyBase.CHARGES.value] = charges
    subtotal = charges
    for charge, (recurring, trace) in zip(version.recurring_charges, recurring_lines, strict=True):
        priced.append((recurring, trace))
        if recurring is not None:
            amounts[charge.code] = recurring.amount
            subtotal += recurring.amount
    part = PartBase(
        units=sum((source.units for source in sources), Decimal(0)),
        amounts=amounts,
        subtotal=subtotal,
        names=version.charge_names,
        label=label,
    )
    if label:
        priced = [
            (None if line is None else replace(line, description=line.description + label), text)
            for line, text in priced
        ]
    return priced, part
