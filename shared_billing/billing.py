"""Bill computation: one account's consumption for one period, priced by a tariff, explained line by line.

DOMAIN.md "Rounding": each line to paise with ROUND_HALF_UP; the payable total to the rupee (≥ 50 paise up),
with the round-off shown as its own line. DOMAIN.md "Its production bill": ``(flat units + share of the
motor's units) × rate + fixed charge by unit type + arrears``; the fixed charge applies at zero consumption.
Here the flat's units and each motor share are separate lines at the same rate; with the seed's whole-rupee
rates and 0.01-unit shares every line is exact in paise, so the sum equals the seed's single product to the
paisa.

This slice bills one period at one tariff; pro-ration, slabs and levies come with the general tariff model.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from enum import StrEnum

from shared_billing.errors import NegativeConsumption, SharedMeterError
from shared_billing.money import round_paise, round_rupee
from shared_billing.shared_meters import SharedMeterUse, allocate_shares, exact_share
from shared_billing.tariffs import FlatRate, RateOverride, ShareRounding, Tariff

__all__ = [
    "BillLine",
    "BillResult",
    "LineCode",
    "SharedMeterUse",
    "allocate_shares",
    "compute_bill",
]

_ONE = Decimal(1)
_SHARE_RULES = {
    ShareRounding.PER_UNIT_HALF_UP: "this flat's share rounded half-up to 0.01 unit",
    ShareRounding.LARGEST_REMAINDER: "largest remainder, so the flats' shares sum to the meter's units",
}


class LineCode(StrEnum):
    """Stable codes of bill lines (stored with each line; descriptions are for people and may change)."""

    ENERGY = "energy"
    SHARED_METER = "shared_meter"
    FIXED = "fixed"
    ARREARS = "arrears"
    ROUND_OFF = "round_off"


@dataclass(frozen=True)
class BillLine:
    """One line of a bill: ``amount`` in rupees at 0.01; ``rate`` is ``None`` for unpriced lines."""

    code: str
    description: str
    quantity: Decimal
    rate: Decimal | None
    amount: Decimal


@dataclass(frozen=True)
class BillResult:
    """A computed bill: ``total`` is the sum of the lines before round-off, ``payable = round_rupee(total)``,
    ``round_off = payable − total`` (also the last line, so all lines sum to ``payable``). ``trace`` explains
    each figure in words, in line order. Money is at 0.01 (``str()`` gives two decimals)."""

    lines: list[BillLine]
    total: Decimal
    round_off: Decimal
    payable: Decimal
    trace: list[str]


def _inr(amount: Decimal) -> str:
    sign = "−" if amount < 0 else ""
    return f"{sign}₹{abs(amount):.2f}"


def _signed_inr(amount: Decimal) -> str:
    return f"{'−' if amount < 0 else '+'}₹{abs(amount):.2f}"


def _about(value: Decimal) -> str:
    # Truncated, with an ellipsis when digits were cut (as DOMAIN.md writes 210 × 77 / 408 = 39.632…).
    shown = value.quantize(Decimal("0.000001"), rounding=ROUND_DOWN)
    return f"{shown}" if shown == value else f"{shown}…"


def _check_decimal(what: str, value: Decimal) -> None:
    if not isinstance(value, Decimal) or not value.is_finite():
        raise ValueError(f"{what} must be a finite Decimal, not {value!r}")


def _shared_line(
    use: SharedMeterUse, own_units: Decimal, energy: FlatRate, rounding: ShareRounding
) -> tuple[BillLine, str]:
    if use.own_units != own_units:
        raise SharedMeterError(
            f"{use.meter_number}: the flat's units on the shared meter ({use.own_units}) "
            f"differ from its own consumption ({own_units})",
            meter=use.meter_number,
        )
    share = use.share(rounding)
    amount = energy.amount_for(share)
    exact = exact_share(use.meter_units, use.own_units, use.group_units)
    line = BillLine(
        LineCode.SHARED_METER.value,
        f"Shared meter {use.meter_number} share",
        share,
        energy.rate_per_unit,
        amount,
    )
    trace = (
        f"Shared meter {use.meter_number}: {use.meter_units} units × {use.own_units} ÷ {use.group_units} "
        f"units of its flats = {_about(exact)} units → {share} units ({_SHARE_RULES[rounding]}); "
        f"{share} × ₹{energy.rate_per_unit} = {_inr(amount)}"
    )
    return line, trace


def compute_bill(
    tariff: Tariff,
    *,
    unit_type: str,
    own_units: Decimal,
    shared: Sequence[SharedMeterUse] = (),
    rate_override: RateOverride | None = None,
    arrears: Decimal = Decimal(0),
) -> BillResult:
    """Compute one bill: energy, one line per shared meter, fixed charge, arrears (if non-zero), round-off.

    ``own_units`` is the account's consumption (≥ 0; zero still pays the fixed charge). ``rate_override``
    (e.g. the seed's ₹9/unit, no fixed charge) replaces the tariff's rate for every unit on the bill and, when
    it names one, the fixed charge. ``arrears`` is the ledger balance brought forward (negative for a credit).

    Raises ``UnknownUnitType`` when the tariff has no fixed charge for ``unit_type``, ``NegativeConsumption``
    for negative ``own_units``, ``SharedMeterError`` for inconsistent or duplicate shared meters.
    """
    _check_decimal("own_units", own_units)
    _check_decimal("arrears", arrears)
    fixed = tariff.fixed_charge_for(unit_type)  # unknown unit types fail first, override or not
    if own_units < 0:
        raise NegativeConsumption(f"Consumption {own_units} is negative", units=str(own_units))
    numbers = [use.meter_number for use in shared]
    repeated = sorted({number for number in numbers if numbers.count(number) > 1})
    if repeated:
        raise SharedMeterError(f"shared meter listed more than once: {', '.join(repeated)}", meters=",".join(repeated))

    energy = tariff.energy if rate_override is None else FlatRate(rate_override.rate_per_unit)
    override_note = ""
    if rate_override is not None:
        override_note = f" (rate override{': ' + rate_override.reason if rate_override.reason else ''})"
    lines: list[BillLine] = []
    trace: list[str] = []

    amount = energy.amount_for(own_units)
    lines.append(BillLine(LineCode.ENERGY.value, "Energy", own_units, energy.rate_per_unit, amount))
    trace.append(f"Energy: {own_units} units × ₹{energy.rate_per_unit} = {_inr(amount)}{override_note}")

    for use in shared:
        if not tariff.bill_shared_meters:
            trace.append(f"Shared meter {use.meter_number}: not billed under tariff {tariff.code}")
            continue
        line, explanation = _shared_line(use, own_units, energy, tariff.share_rounding)
        lines.append(line)
        trace.append(explanation)

    if rate_override is not None and rate_override.fixed_charge is not None:
        fixed = rate_override.fixed_charge
        fixed_note = f"Fixed charge: {_inr(round_paise(fixed))}{override_note}"
    else:
        fixed_note = f"Fixed charge for {unit_type} under tariff {tariff.code}: {_inr(round_paise(fixed))}"
    lines.append(BillLine(LineCode.FIXED.value, f"Fixed charge ({unit_type})", _ONE, fixed, round_paise(fixed)))
    trace.append(fixed_note + ", due whatever the consumption")

    if arrears != 0:
        amount = round_paise(arrears)
        label = "Arrears" if arrears > 0 else "Credit brought forward"
        lines.append(BillLine(LineCode.ARREARS.value, label, _ONE, None, amount))
        trace.append(f"{label} (balance of earlier bills): {_inr(amount)}")

    total = sum((line.amount for line in lines), Decimal("0.00"))
    payable = round_paise(round_rupee(total))  # kept at 0.01 so every money figure prints with two decimals
    round_off = round_paise(payable - total)  # exact already; round_paise only drops a negative zero
    lines.append(BillLine(LineCode.ROUND_OFF.value, "Round-off", _ONE, None, round_off))
    trace.append(f"Total of the lines: {_inr(total)}")
    trace.append(
        f"Payable rounded to the whole rupee (50 paise and above round up): {_inr(payable)}, "
        f"round-off {_signed_inr(round_off)}"
    )
    return BillResult(lines=lines, total=total, round_off=round_off, payable=payable, trace=trace)
