"""Bill computation: one account's consumption for one period, priced by a tariff, explained line by line.

docs/domain.md "Rounding": each line to paise with ROUND_HALF_UP; the payable total as the tariff's
``payable_rounding`` says (the rupee, ≥ 50 paise up, by default), with the round-off shown as its own line.
docs/domain.md "The seed-compatible bill": ``(flat units + share of the motor's units) × rate + fixed charge by unit
type + arrears``; the fixed charge applies at zero consumption.
docs/domain.md "Tariff change inside a period": the period is cut at each effective date, the units (own and each
shared-meter share) are allocated to the pieces by days, and each piece is pro-rated and priced on its own
(``charges``); levies follow on the whole bill (``levies``: a levy the same in every piece once on the whole base).
The Blessings tariff goes down the same path: one piece, factor 1, a flat rate.

With a flat rate the flat's units and each motor share are separate lines at the same rate; with the seed's
whole-rupee rates and 0.01-unit shares every line is exact in paise, so the sum equals the seed's single
product to the paisa. Slabs and bands price the units together (own + shares).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from shared_billing.bill_lines import Adjustment, BillLine, LineCode, about, inr, signed_inr
from shared_billing.charges import Segment, segment_charges
from shared_billing.energy import EnergySource, Priced
from shared_billing.errors import BelowPrevious, PeriodError, SharedMeterError
from shared_billing.levies import PartBase, levy_lines, subsidy_lines
from shared_billing.money import round_paise, round_rupee
from shared_billing.periods import BillingPeriod, billed_days, split_units_by_days
from shared_billing.readings import format_quantity
from shared_billing.schedules import TariffSchedule
from shared_billing.shared_meters import SharedMeterUse, allocate_shares, exact_share
from shared_billing.tariffs import PayableRounding, RateOverride, ShareRounding, Tariff

__all__ = [
    "Adjustment",
    "BillLine",
    "BillResult",
    "LineCode",
    "SharedMeterUse",
    "allocate_shares",
    "compute_bill",
]

_ONE = Decimal(1)
_TEN_PAISE = Decimal("0.1")
_SHARE_RULES = {
    ShareRounding.PER_UNIT_HALF_UP: "this flat's share rounded half-up to 0.01 unit",
    ShareRounding.LARGEST_REMAINDER: "largest remainder, so the flats' shares sum to the meter's units",
}
_DAY_COUNT_WORDS = {
    "first_and_last": "first and last date counted",
    "first_not_last": "first date counted, last not",
    "calendar_month": "calendar months",
}


@dataclass(frozen=True)
class BillResult:
    """A computed bill: ``total`` is the sum of the lines before round-off, ``payable`` the total rounded as the
    tariff says, ``round_off = payable − total`` (also the last line unless the tariff bills to the paisa, so all
    lines sum to ``payable``). ``trace`` explains
    each figure in words, in line order. Money is at 0.01 (``str()`` gives two decimals)."""

    lines: list[BillLine]
    total: Decimal
    round_off: Decimal
    payable: Decimal
    trace: list[str]

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form, all figures as strings: quantities without trailing zeros, rates as the tariff
        writes them, money at two decimals."""
        return {
            "lines": [
                {
                    "code": line.code,
                    "description": line.description,
                    "quantity": format_quantity(line.quantity),
                    "rate": None if line.rate is None else f"{line.rate:f}",
                    "amount": str(line.amount),
                }
                for line in self.lines
            ],
            "total": str(self.total),
            "round_off": str(self.round_off),
            "payable": str(self.payable),
            "trace": list(self.trace),
        }


def _check_decimal(what: str, value: Decimal) -> None:
    if not isinstance(value, Decimal) or not value.is_finite():
        raise ValueError(f"{what} must be a finite Decimal, not {value!r}")


def _check_shared(shared: Sequence[SharedMeterUse], own_units: Decimal) -> None:
    numbers = [use.meter_number for use in shared]
    repeated = sorted({number for number in numbers if numbers.count(number) > 1})
    if repeated:
        raise SharedMeterError(f"shared meter listed more than once: {', '.join(repeated)}", meters=",".join(repeated))
    for use in shared:
        if use.own_units != own_units:
            raise SharedMeterError(
                f"{use.meter_number}: the flat's units on the shared meter ({use.own_units}) "
                f"differ from its own consumption ({own_units})",
                meter=use.meter_number,
            )


def _share_explanation(use: SharedMeterUse, share: Decimal, rounding: ShareRounding) -> str:
    exact = exact_share(use.meter_units, use.counted, use.group_units)
    counted = f"{use.counted}" if use.counted_units is None else f"{use.counted} (its units for its days as member)"
    return (
        f"Shared meter {use.meter_number}: {use.meter_units} units × {counted} ÷ {use.group_units} "
        f"units of its flats = {about(exact)} units → {share} units ({_SHARE_RULES[rounding]})"
    )


def _segments(schedule: TariffSchedule, period: BillingPeriod | None) -> tuple[list[Segment], list[str]]:
    """The period cut at the schedule's version changes, each piece with its factor, and the trace's first words
    (a fresh list: the caller extends it)."""
    cut = schedule.cuts.get(period)
    if cut is None:
        cut = schedule.cuts[period] = _cut(schedule, period)
    segments, trace = cut
    return list(segments), list(trace)


def _cut(schedule: TariffSchedule, period: BillingPeriod | None) -> tuple[list[Segment], list[str]]:
    if period is None:
        if len(schedule.versions) > 1:
            raise PeriodError(f"Tariff {schedule.code} has several versions: the bill needs its period")
        return [Segment(None, schedule.versions[0], _ONE)], []
    span = billed_days(period, schedule.day_count)
    segments = [
        Segment(piece, version, piece.factor(version.factor_places)) for piece, version in schedule.segments(span)
    ]
    words = _DAY_COUNT_WORDS[schedule.day_count.value]
    trace = [f"Period {period} ({words}): {span.days} days billed, {span}"]
    if len(segments) == 1:
        trace.append(f"Pro-ration factor: {span.explain_factor(segments[0].version.factor_places)}")
    else:
        changes = ", ".join(f"{segment.span.first_on:%d-%m-%Y}" for segment in segments[1:] if segment.span)
        trace.append(f"Tariff {schedule.code} changes on {changes}: the period is billed in {len(segments)} parts")
    return segments, trace


def _sources(
    schedule: TariffSchedule,
    own_units: Decimal,
    shared: Sequence[SharedMeterUse],
    note: str,
) -> tuple[list[EnergySource], list[str]]:
    sources = [EnergySource(LineCode.ENERGY.value, "Energy", own_units, note=note)]
    trace: list[str] = []
    for use in shared:
        if not schedule.bill_shared_meters:
            trace.append(f"Shared meter {use.meter_number}: not billed under tariff {schedule.code}")
            continue
        share = use.share(schedule.share_rounding)
        explanation = _share_explanation(use, share, schedule.share_rounding)
        description = f"Shared meter {use.meter_number} share"
        sources.append(EnergySource(LineCode.SHARED_METER.value, description, share, explanation))
    return sources, trace


def _split_sources(sources: list[EnergySource], segments: list[Segment]) -> tuple[list[list[EnergySource]], list[str]]:
    if len(segments) == 1:
        return [sources], []
    spans = [segment.span for segment in segments if segment.span is not None]
    per_segment: list[list[EnergySource]] = [[] for _ in segments]
    trace: list[str] = []
    for source in sources:
        parts = split_units_by_days(source.units, spans)
        days = " + ".join(f"{span.days}" for span in spans)
        head = source.explanation or f"{source.description}: {source.units} units"
        trace.append(f"{head}; split by days ({days}): {' + '.join(str(part) for part in parts)}")
        for index, part in enumerate(parts):
            label = f"{source.description}, its part for these days" if source.explanation else ""
            per_segment[index].append(replace(source, units=part, explanation=label))
    return per_segment, trace


def _version_words(version: Tariff) -> str:
    since = f", version from {version.effective_from:%d-%m-%Y}" if version.effective_from else ""
    return f"tariff {version.code} ({version.name}){since}"


def _part_heading(segment: Segment, index: int, count: int) -> str:
    if count == 1 or segment.span is None:
        return f"Billed under {_version_words(segment.version)}"
    span, version = segment.span, segment.version
    return (
        f"Part {index + 1}: {span}, {span.days} days, {_version_words(version)}; "
        f"factor {span.explain_factor(version.factor_places)}"
    )


def _payable(total: Decimal, rounding: PayableRounding) -> tuple[Decimal, str]:
    """The payable and the trace's words for how it was rounded (docs/domain.md "Rounding")."""
    if rounding == PayableRounding.NONE:
        return total, f"Payable, billed to the paisa: {inr(total)}"
    if rounding == PayableRounding.TEN_PAISE:
        payable = round_paise(total.quantize(_TEN_PAISE, rounding=ROUND_HALF_UP))
        return payable, f"Payable rounded to ten paise (5 paise and above round up): {inr(payable)}"
    # kept at 0.01 so every money figure prints with two decimals
    payable = round_paise(round_rupee(total))
    return payable, f"Payable rounded to the whole rupee (50 paise and above round up): {inr(payable)}"


def compute_bill(
    tariff: Tariff | TariffSchedule,
    *,
    unit_type: str,
    own_units: Decimal,
    shared: Sequence[SharedMeterUse] = (),
    rate_override: RateOverride | None = None,
    arrears: Decimal = Decimal(0),
    period: BillingPeriod | None = None,
    sanctioned_load_kw: Decimal | None = None,
    adjustments: Sequence[Adjustment] = (),
) -> BillResult:
    """Compute one bill: energy, shared-meter shares, fixed charge, minimum, levies, subsidies, adjustments,
    arrears (if non-zero) and round-off, with a trace explaining each figure.

    ``tariff`` is one version or a ``TariffSchedule`` (then ``period`` is required when it has several
    versions). ``period=None`` bills one month at the monthly charges (factor 1), as the seed did; with a
    period, the tariff's day count decides the days billed and the pro-ration factor, and a tariff change
    inside the period splits it. ``own_units`` is the account's consumption for the whole period (≥ 0; zero
    still pays the fixed charge). ``rate_override`` (e.g. the seed's ₹9/unit, no fixed charge) replaces the
    energy charge for every unit on the bill and, when it names one, the fixed charge. ``sanctioned_load_kw``
    is needed by per-kW fixed charges. ``adjustments`` (a true-up, a note) get a line each. ``arrears`` is the
    ledger balance brought forward (negative for a credit).

    Raises ``UnknownUnitType`` when the tariff has no fixed charge for ``unit_type``, ``BelowPrevious``
    for negative ``own_units`` (a reading below the previous one), ``SharedMeterError`` for inconsistent or
    duplicate shared meters, ``PeriodError``/``NoTariffVersion`` for a period the tariff cannot bill,
    ``MissingSanctionedLoad``.
    """
    _check_decimal("own_units", own_units)
    _check_decimal("arrears", arrears)
    schedule = tariff if isinstance(tariff, TariffSchedule) else TariffSchedule((tariff,))
    segments, trace = _segments(schedule, period)
    for segment in segments:
        segment.version.fixed_charge_for(unit_type)  # unknown unit types fail first, override or not
    if own_units < 0:
        raise BelowPrevious(
            f"Consumption {own_units} is negative: a reading is below the previous one", units=str(own_units)
        )
    _check_shared(shared, own_units)

    override_note = ""
    if rate_override is not None and rate_override.rate_per_unit is not None:
        override_note = f" (rate override{': ' + rate_override.reason if rate_override.reason else ''})"
    sources, notes = _sources(schedule, own_units, shared, override_note)
    per_segment, split_notes = _split_sources(sources, segments)
    trace.extend(notes + split_notes)
    lines: list[BillLine] = []

    def add(priced: Priced) -> None:
        for line, text in priced:
            if line is not None:
                lines.append(line)
            trace.append(text)

    parts: list[PartBase] = []
    for index, segment in enumerate(segments):
        trace.append(_part_heading(segment, index, len(segments)))
        label = "" if len(segments) == 1 or segment.span is None else f", {segment.span}"
        priced, part = segment_charges(
            segment,
            sources=per_segment[index],
            unit_type=unit_type,
            sanctioned_load_kw=sanctioned_load_kw,
            rate_override=rate_override,
            label=label,
        )
        add(priced)
        parts.append(part)
    charged = [part.subtotal for part in parts]
    add(levy_lines([segment.version.levies for segment in segments], parts))
    for segment, part in zip(segments, parts, strict=True):
        add(subsidy_lines(segment.version.subsidies, part, segment.factor, segment.version.limit_places))
    if len(parts) > 1:
        for index, (part, before) in enumerate(zip(parts, charged, strict=True)):
            trace.append(
                f"Part {index + 1} subtotal: charges {inr(before)}, with its levies and subsidies {inr(part.subtotal)}"
            )

    for adjustment in adjustments:
        amount = round_paise(adjustment.amount)
        lines.append(BillLine(LineCode.ADJUSTMENT.value, adjustment.description, _ONE, None, amount))
        trace.append(
            f"{adjustment.description}: {inr(amount)}{'; ' + adjustment.explanation if adjustment.explanation else ''}"
        )

    if arrears != 0:
        amount = round_paise(arrears)
        label = "Arrears" if arrears > 0 else "Credit brought forward"
        lines.append(BillLine(LineCode.ARREARS.value, label, _ONE, None, amount))
        trace.append(f"{label} (balance of earlier bills): {inr(amount)}")

    total = sum((line.amount for line in lines), Decimal("0.00"))
    payable, how = _payable(total, schedule.payable_rounding)
    round_off = round_paise(payable - total)  # exact already; round_paise only drops a negative zero
    trace.append(f"Total of the lines: {inr(total)}")
    if schedule.payable_rounding == PayableRounding.NONE:
        trace.append(how)
    else:
        lines.append(BillLine(LineCode.ROUND_OFF.value, "Round-off", _ONE, None, round_off))
        trace.append(f"{how}, round-off {signed_inr(round_off)}")
    return BillResult(lines=lines, total=total, round_off=round_off, payable=payable, trace=trace)
