"""The billing core's public API, locked: the names other packages import and the error codes on the wire."""

import importlib
import re

import pytest

import shared_billing
from shared_billing.errors import ALL_ERRORS, BillingError

DOMAIN_MODULES = {
    "shared_billing.money": {"PAISA", "RUPEE", "plain_rate", "round_paise", "round_rupee", "round_units"},
    "shared_billing.readings": {"format_quantity", "format_register_value", "parse_register_value"},
    "shared_billing.checks": {
        "DEFAULT_LIMITS",
        "CheckLimits",
        "ReadingFlag",
        "check_below_previous",
        "check_clock_drift",
        "check_gps_far",
        "check_gps_inaccurate",
        "check_gps_missing",
        "evidence_flags",
        "fix_distance_m",
        "gps_flags",
        "great_circle_m",
        "presence_by_label",
        "presence_flags",
        "reading_flags",
    },
    "shared_billing.consumption": {
        "Consumption",
        "MeterRegister",
        "ROLLOVER_BAND",
        "RegisterKind",
        "is_plausible_rollover",
        "meter_consumption",
        "replacement_consumption",
        "subtractive_consumption",
    },
    "shared_billing.tariffs": {
        "ANY_UNIT_TYPE",
        "SCHEMA_VERSION",
        "FixedBasis",
        "PayableRounding",
        "FlatRate",
        "RateOverride",
        "ShareRounding",
        "Tariff",
        "blessings_tariff",
    },
    "shared_billing.shared_meters": {
        "SHARE_PLACES",
        "Membership",
        "SharedMeterUse",
        "allocate_shares",
        "exact_share",
        "shared_meter_uses",
    },
    "shared_billing.billing": {
        "Adjustment",
        "BillLine",
        "BillResult",
        "LineCode",
        "SharedMeterUse",
        "allocate_shares",
        "compute_bill",
    },
    "shared_billing.apportionment": {"largest_remainder", "rounded_shares"},
    "shared_billing.bill_lines": {
        "Adjustment",
        "BillLine",
        "LineCode",
        "about",
        "inr",
        "ledger_charge",
        "signed_inr",
        "tariff_charges",
    },
    "shared_billing.charges": {"Segment", "segment_charges"},
    "shared_billing.energy": {"Bands", "Energy", "EnergySource", "FlatRate", "Slab", "Slabs", "energy_from_dict"},
    "shared_billing.estimates": {
        "BilledEstimate",
        "ESTIMATE_MONTHS",
        "MAX_CONSECUTIVE_ESTIMATES",
        "TrueUp",
        "TrueUpPeriod",
        "estimate_consumption",
        "true_up",
    },
    "shared_billing.late_payment": {"LatePaymentPolicy", "Surcharge", "late_payment_surcharge"},
    "shared_billing.levies": {"MAX_PERCENT", "Levy", "LevyBase", "PartBase", "Subsidy", "levy_lines", "subsidy_lines"},
    "shared_billing.recurring_charges": {"RecurringCharge", "recurring_line"},
    "shared_billing.periods": {
        "BillingPeriod",
        "DayCount",
        "DaySpan",
        "MonthPart",
        "billed_days",
        "split_units_by_days",
    },
    "shared_billing.schedules": {"TariffSchedule"},
    "shared_billing.tariff_data": {
        "ANY_UNIT_TYPE",
        "amount_for_unit_type",
        "amounts_by_unit_type",
        "checked_amount",
        "checked_code",
        "date_from_data",
        "decimal_from_data",
        "join_field",
        "list_from_data",
        "mapping_from_data",
        "only_keys",
        "under",
        "whole_from_data",
    },
    "shared_billing.tariff_file": {"FILE_FORMAT", "parse_tariff_toml"},
    "shared_billing.tariff_source": {"KeyPath", "line_of", "parse_field"},
    "shared_billing.errors": {
        "ALL_ERRORS",
        "BelowPrevious",
        "BillingError",
        "EstimateLimitReached",
        "MissingSanctionedLoad",
        "NegativeRegisterValue",
        "NoConsumptionHistory",
        "NoTariffVersion",
        "PeriodError",
        "RegisterValueError",
        "SharedMeterError",
        "SharedMeterIncomplete",
        "SharedMeterUnallocatable",
        "TariffError",
        "TariffFileError",
        "TooManyDecimals",
        "TooManyDigits",
        "UnknownUnitType",
    },
}


@pytest.mark.parametrize(("module_name", "names"), sorted(DOMAIN_MODULES.items()))
def test_module_exports_exactly_its_public_api(module_name, names):
    module = importlib.import_module(module_name)
    assert set(module.__all__) == names
    assert all(hasattr(module, name) for name in module.__all__)


def test_package_reexports_resolve():
    assert all(hasattr(shared_billing, name) for name in shared_billing.__all__)


def test_error_codes_are_unique_dotted_and_stable():
    codes = [cls.code for cls in ALL_ERRORS]
    assert len(set(codes)) == len(codes)
    assert all(re.fullmatch(r"[a-z]+\.[a-z_]+", code) for code in codes)
    assert {
        "reading.invalid_value",
        "reading.negative_value",
        "reading.too_many_digits",
        "reading.too_many_decimals",
        "reading.below_previous",
        "consumption.estimate_limit",
        "consumption.no_history",
        "period.invalid",
        "bill.no_sanctioned_load",
        "tariff.invalid",
        "tariff.unknown_unit_type",
        "tariff.no_version",
        "tariff.file_invalid",
        "bill.shared_meter_invalid",
        "bill.shared_meter_incomplete",
        "bill.shared_meter_unallocatable",
    } == set(codes)


def test_every_concrete_error_is_listed():
    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    assert set(subclasses(BillingError)) == set(ALL_ERRORS)


def test_errors_carry_message_and_details():
    error = ALL_ERRORS[0]("Value 'x' is not a meter reading", value="x")
    assert str(error) == error.message
    assert error.details == {"value": "x"}


def test_every_error_documents_itself_in_one_line():
    # The server's problem registry uses the first docstring line as the code's description.
    for cls in ALL_ERRORS:
        assert (cls.__doc__ or "").strip(), cls.__name__
