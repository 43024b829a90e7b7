"""Pure billing core shared by the phone and the server: no I/O, no clock, ``Decimal`` for money and units.

Modules (each a domain noun): ``money`` (rounding), ``readings`` (register values), ``checks`` (advisory
flags), ``consumption`` (registers, rollover, replacement), ``estimates`` (estimated reads and the true-up),
``periods`` (day counts, pro-ration, splitting), ``apportionment`` (largest remainder), ``energy`` (flat rate,
slabs, bands), ``levies`` (levies and subsidies), ``tariffs`` (one tariff version), ``schedules`` (effective-dated
versions), ``tariff_data``/``tariff_file``/``tariff_source`` (reading stored and TOML tariffs, with the line at
fault), ``shared_meters`` (motor shares), ``charges`` (one segment's lines), ``bill_lines``, ``billing`` (bills),
``late_payment``, ``errors`` (the error hierarchy with stable codes) and ``protocol`` (sync messages; the only
module that uses pydantic, not imported here). The names below are re-exported for convenience; each module's
``__all__`` is the reference.
"""

from shared_billing.bill_lines import Adjustment
from shared_billing.billing import BillLine, BillResult, LineCode, compute_bill
from shared_billing.checks import CheckLimits, ReadingFlag, reading_flags
from shared_billing.consumption import (
    Consumption,
    MeterRegister,
    RegisterKind,
    meter_consumption,
    replacement_consumption,
    subtractive_consumption,
)
from shared_billing.energy import Bands, Slab, Slabs
from shared_billing.errors import BillingError
from shared_billing.estimates import BilledEstimate, TrueUp, estimate_consumption, true_up
from shared_billing.late_payment import LatePaymentPolicy, late_payment_surcharge
from shared_billing.levies import Levy, LevyBase, Subsidy
from shared_billing.money import round_paise, round_rupee, round_units
from shared_billing.periods import BillingPeriod, DayCount
from shared_billing.readings import format_register_value, parse_register_value
from shared_billing.recurring_charges import RecurringCharge
from shared_billing.schedules import TariffSchedule
from shared_billing.shared_meters import Membership, SharedMeterUse, allocate_shares, shared_meter_uses
from shared_billing.tariff_file import parse_tariff_toml
from shared_billing.tariffs import (
    FixedBasis,
    FlatRate,
    PayableRounding,
    RateOverride,
    ShareRounding,
    Tariff,
    blessings_tariff,
)

__all__ = [
    "Adjustment",
    "Bands",
    "BillLine",
    "BillResult",
    "BilledEstimate",
    "BillingError",
    "BillingPeriod",
    "CheckLimits",
    "Consumption",
    "DayCount",
    "FixedBasis",
    "FlatRate",
    "LatePaymentPolicy",
    "Levy",
    "LevyBase",
    "LineCode",
    "Membership",
    "MeterRegister",
    "PayableRounding",
    "RateOverride",
    "ReadingFlag",
    "RecurringCharge",
    "RegisterKind",
    "ShareRounding",
    "SharedMeterUse",
    "Slab",
    "Slabs",
    "Subsidy",
    "Tariff",
    "TariffSchedule",
    "TrueUp",
    "allocate_shares",
    "blessings_tariff",
    "compute_bill",
    "estimate_consumption",
    "format_register_value",
    "late_payment_surcharge",
    "meter_consumption",
    "parse_register_value",
    "parse_tariff_toml",
    "reading_flags",
    "replacement_consumption",
    "round_paise",
    "round_rupee",
    "round_units",
    "shared_meter_uses",
    "subtractive_consumption",
    "true_up",
]
