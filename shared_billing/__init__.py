"""Pure billing core shared by the phone and the server: no I/O, no clock, ``Decimal`` for money and units.

Modules (each a domain noun): ``money`` (rounding), ``readings`` (register values), ``checks`` (advisory
flags), ``consumption``, ``tariffs``, ``shared_meters`` (motor shares), ``billing`` (bills), ``errors`` (the
error hierarchy with stable codes) and ``protocol`` (sync messages; the only module that uses pydantic, not
imported here). The names below are re-exported for convenience; each module's ``__all__`` is the reference.
"""

from shared_billing.billing import BillLine, BillResult, LineCode, compute_bill
from shared_billing.checks import CheckLimits, ReadingFlag, reading_flags
from shared_billing.consumption import subtractive_consumption
from shared_billing.errors import BillingError
from shared_billing.money import round_paise, round_rupee, round_units
from shared_billing.readings import format_register_value, parse_register_value
from shared_billing.shared_meters import SharedMeterUse, allocate_shares
from shared_billing.tariffs import FlatRate, RateOverride, ShareRounding, Tariff, blessings_tariff

__all__ = [
    "BillLine",
    "BillResult",
    "BillingError",
    "CheckLimits",
    "FlatRate",
    "LineCode",
    "RateOverride",
    "ReadingFlag",
    "ShareRounding",
    "SharedMeterUse",
    "Tariff",
    "allocate_shares",
    "blessings_tariff",
    "compute_bill",
    "format_register_value",
    "parse_register_value",
    "reading_flags",
    "round_paise",
    "round_rupee",
    "round_units",
    "subtractive_consumption",
]
