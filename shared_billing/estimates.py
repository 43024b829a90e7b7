"""Estimated consumption when a meter could not be read, and the true-up when the actual read arrives.

docs/domain.md "Estimated reads and true-up": the average of the last 3 actual months; at most 2 estimates in a row,
then the meter must be read; when the actual arrives, the whole span is re-rated month by month and what was
billed is netted off.

The true-up takes the actual consumption since the last actual read (``consumption.meter_consumption``),
allocates it to every period of the span by days (the estimated ones and the current one), re-rates each
estimated period with the tariff in force then, and returns the difference from what those bills charged as
one ``Adjustment`` for the current bill. Shared-meter shares billed with the estimates are left as billed:
they came from the shared meter's own (actual) readings.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from shared_billing.bill_lines import Adjustment, inr, signed_inr
from shared_billing.billing import compute_bill
from shared_billing.consumption import Consumption
from shared_billing.errors import EstimateLimitReached, NoConsumptionHistory
from shared_billing.money import round_paise, round_units
from shared_billing.periods import BillingPeriod, billed_days, split_units_by_days
from shared_billing.readings import format_quantity
from shared_billing.schedules import TariffSchedule
from shared_billing.tariffs import RateOverride, Tariff

__all__ = [
    "ESTIMATE_MONTHS",
    "MAX_CONSECUTIVE_ESTIMATES",
    "BilledEstimate",
    "TrueUp",
    "TrueUpPeriod",
    "estimate_consumption",
    "true_up",
]

ESTIMATE_MONTHS = 3
MAX_CONSECUTIVE_ESTIMATES = 2


def estimate_consumption(
    actual_months: Sequence[Decimal],
    *,
    consecutive_estimates: int,
    max_consecutive: int = MAX_CONSECUTIVE_ESTIMATES,
    months: int = ESTIMATE_MONTHS,
    places: int = 0,
) -> Consumption:
    """The average of the last ``months`` actual monthly consumptions (oldest first), half-up to ``places``.

    ``consecutive_estimates`` counts the estimated bills right before this one: at ``max_consecutive``
    ``EstimateLimitReached`` asks for a visit instead. Fewer than ``months`` actual months average what there
    is; none raises ``NoConsumptionHistory``.
    """
    if consecutive_estimates >= max_consecutive:
        raise EstimateLimitReached(
            f"Already {consecutive_estimates} estimated bills in a row (at most {max_consecutive}): "
            "the meter must be read",
            consecutive=str(consecutive_estimates),
        )
    recent = list(actual_months[-months:])
    if not recent:
        raise NoConsumptionHistory("No actual monthly consumption to estimate from: the meter must be read")
    total = sum(recent, Decimal(0))
    units = round_units(total / len(recent), places)
    explanation = (
        f"Estimated: average of the last {len(recent)} actual months "
        f"({' + '.join(format_quantity(month) for month in recent)}) ÷ {len(recent)} = {units} units "
        f"(estimate {consecutive_estimates + 1} of at most {max_consecutive} in a row)"
    )
    return Consumption(units, (explanation,), estimated=True)


@dataclass(frozen=True)
class BilledEstimate:
    """A bill issued on an estimate: its period, the units billed, and its charges (total before arrears,
    adjustments and round-off)."""

    period: BillingPeriod
    units: Decimal
    charges: Decimal
    #: The period's own actual consumption, when its reading arrived after the period was billed on the
    #: estimate: the true-up then re-rates it on exactly that, and spreads only the rest by days.
    actual_units: Decimal | None = None


@dataclass(frozen=True)
class TrueUpPeriod:
    """One estimated period re-rated on its share of the actual units."""

    period: BillingPeriod
    billed_units: Decimal
    actual_units: Decimal
    billed_charges: Decimal
    rerated_charges: Decimal

    @property
    def difference(self) -> Decimal:
        """Positive: the estimate under-billed; negative: it over-billed."""
        return self.rerated_charges - self.billed_charges


@dataclass(frozen=True)
class TrueUp:
    """The re-rated periods, the actual units left for the current period, and the net adjustment."""

    periods: tuple[TrueUpPeriod, ...]
    current_units: Decimal
    adjustment: Decimal
    trace: tuple[str, ...]

    def as_adjustment(self) -> Adjustment:
        """The adjustment line for the current bill (``compute_bill(adjustments=[...])``)."""
        return Adjustment("True-up of estimated bills", self.adjustment, "; ".join(self.trace))


def true_up(
    tariff: Tariff | TariffSchedule,
    *,
    estimated: Sequence[BilledEstimate],
    current: BillingPeriod,
    actual_units: Decimal,
    unit_type: str,
    rate_override: RateOverride | None = None,
    sanctioned_load_kw: Decimal | None = None,
) -> TrueUp:
    """Re-rate the estimated periods on the actual consumption and net off what they charged.

    ``actual_units`` is the consumption from the last actual read to the new one, covering every period in
    ``estimated`` and ``current``; it is allocated to them by days billed (largest remainder, so the parts sum
    to it exactly). An estimated period whose own actual consumption is known (``BilledEstimate.actual_units``,
    a reading approved after it was billed) keeps exactly that, and only the rest is spread by days; when the
    known parts exceed the total (readings that do not add up) everything is spread by days.
    """
    schedule = tariff if isinstance(tariff, TariffSchedule) else TariffSchedule((tariff,))
    periods = [*(bill.period for bill in estimated), current]
    known: list[Decimal | None] = [*(bill.actual_units for bill in estimated), None]
    known_total = sum((units for units in known if units is not None), Decimal(0))
    if known_total > actual_units:
        known = [None] * len(periods)
        known_total = Decimal(0)
    spread = [index for index, units in enumerate(known) if units is None]
    spans = [billed_days(periods[index], schedule.day_count) for index in spread]
    shares = iter(split_units_by_days(actual_units - known_total, spans))
    parts = [units if units is not None else next(shares) for units in known]
    days = " + ".join(str(span.days) for span in spans)
    trace = [
        f"Actual {format_quantity(actual_units)} units over {len(periods)} periods, by days ({days}): "
        f"{' + '.join(map(format_quantity, parts))}"
        if known_total == 0
        else f"Actual {format_quantity(actual_units)} units over {len(periods)} periods: "
        f"{' + '.join(map(format_quantity, parts))} (periods read late keep their own reading's units; "
        f"the rest {format_quantity(actual_units - known_total)} by days: {days})"
    ]
    rerated: list[TrueUpPeriod] = []
    for bill, units in zip(estimated, parts, strict=False):
        result = compute_bill(
            schedule,
            unit_type=unit_type,
            own_units=units,
            period=bill.period,
            rate_override=rate_override,
            sanctioned_load_kw=sanctioned_load_kw,
        )
        row = TrueUpPeriod(bill.period, bill.units, units, round_paise(bill.charges), result.total)
        rerated.append(row)
        trace.append(
            f"{bill.period}: billed {format_quantity(bill.units)} units (estimated) {inr(row.billed_charges)}, "
            f"actual {format_quantity(units)} units "
            f"re-rated {inr(row.rerated_charges)}, difference {signed_inr(row.difference)}"
        )
    adjustment = sum((row.difference for row in rerated), Decimal("0.00"))
    trace.append(f"Net true-up: {signed_inr(adjustment)}; current period keeps {format_quantity(parts[-1])} units")
    return TrueUp(tuple(rerated), parts[-1], round_paise(adjustment), tuple(trace))
