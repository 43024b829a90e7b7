"""Effective-dated tariff versions and the stored (JSON) form of the general tariff model."""

import json
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared_billing.billing import compute_bill
from shared_billing.energy import FlatRate, Slab, Slabs
from shared_billing.errors import NoTariffVersion, PeriodError, TariffError
from shared_billing.levies import Levy, LevyBase, Subsidy
from shared_billing.periods import BillingPeriod, DayCount, DaySpan
from shared_billing.schedules import TariffSchedule
from shared_billing.shared_meters import SharedMeterUse
from shared_billing.tariffs import FixedBasis, ShareRounding, Tariff, blessings_tariff

D = Decimal


def make_version(effective_from, **overrides):
    values = {
        "code": "T",
        "name": "Test",
        "energy": Slabs((Slab(D(0), D(100), D(4)), Slab(D(101), None, D(6)))),
        "fixed_by_unit_type": {"*": D(40)},
        "effective_from": effective_from,
        "day_count": DayCount.FIRST_AND_LAST,
    }
    values.update(overrides)
    return Tariff(**values)


def test_general_tariff_round_trips_through_json():
    tariff = make_version(
        date(2015, 4, 1),
        fixed_basis=FixedBasis.KW,
        minimum_charge=D("100.50"),
        levies=(Levy("duty", "Duty", 1, LevyBase.CHARGES, percent=D(5)),),
        subsidies=(Subsidy("s", "Sub", LevyBase.UNITS, rate_per_unit=D("1.2"), when_units_at_most=D(400)),),
        factor_places=3,
        limit_places=1,
    )
    data = json.loads(json.dumps(tariff.to_dict()))
    assert data["schema"] == 1
    assert data["effective_from"] == "2015-04-01"
    assert data["energy"] == {
        "kind": "slabs",
        "slabs": [{"from": "0", "to": "100", "rate": "4"}, {"from": "101", "rate": "6"}],
    }
    assert Tariff.from_dict(data) == tariff
    assert hash(Tariff.from_dict(data)) == hash(tariff)


def test_a_tariff_without_new_features_keeps_the_original_stored_form():
    assert set(blessings_tariff().to_dict()) == {
        "schema",
        "code",
        "name",
        "energy",
        "fixed_by_unit_type",
        "share_rounding",
        "bill_shared_meters",
    }


def test_stored_errors_name_the_field_at_fault():
    data = make_version(date(2015, 4, 1)).to_dict()
    data["energy"]["slabs"][1]["from"] = "90"
    with pytest.raises(TariffError) as caught:
        Tariff.from_dict(data)
    assert (caught.value.details["field"], caught.value.details["problem"]) == ("energy.slabs[1].from", "slabs_overlap")


def test_version_on_picks_the_latest_version_in_force():
    schedule = TariffSchedule((make_version(date(2015, 4, 1)), make_version(date(2016, 4, 1), name="New")))
    assert schedule.version_on(date(2016, 3, 31)).name == "Test"
    assert schedule.version_on(date(2016, 4, 1)).name == "New"
    with pytest.raises(NoTariffVersion) as caught:
        schedule.version_on(date(2015, 3, 31))
    assert caught.value.code == "tariff.no_version"


def test_segments_follow_the_changes():
    schedule = TariffSchedule((make_version(date(2015, 4, 1)), make_version(date(2015, 6, 16), name="New")))
    pieces = schedule.segments(DaySpan(date(2015, 6, 1), date(2015, 6, 30)))
    assert [(span.first_on.day, span.last_on.day, version.name) for span, version in pieces] == [
        (1, 15, "Test"),
        (16, 30, "New"),
    ]


def test_versions_must_be_in_date_order_and_share_settings():
    with pytest.raises(TariffError, match="oldest first") as caught:
        TariffSchedule((make_version(date(2016, 4, 1)), make_version(date(2015, 4, 1))))
    assert caught.value.details["field"] == "versions[1].effective_from"
    with pytest.raises(TariffError, match="same share_rounding"):
        TariffSchedule(
            (
                make_version(date(2015, 4, 1)),
                make_version(date(2016, 4, 1), share_rounding=ShareRounding.PER_UNIT_HALF_UP),
            )
        )
    with pytest.raises(TariffError, match="needs an effective_from"):
        TariffSchedule((make_version(date(2015, 4, 1)), make_version(None)))


def test_schedule_round_trips_through_its_stored_rows():
    schedule = TariffSchedule((make_version(date(2015, 4, 1)), make_version(date(2016, 4, 1), name="New")))
    assert TariffSchedule.from_dicts(schedule.to_dicts()) == schedule


def test_a_bill_before_the_first_version_is_refused():
    schedule = TariffSchedule((make_version(date(2015, 4, 1)),))
    with pytest.raises(NoTariffVersion):
        compute_bill(
            schedule, unit_type="*", own_units=D(1), period=BillingPeriod(date(2015, 3, 20), date(2015, 4, 10))
        )


def test_several_versions_need_a_period():
    schedule = TariffSchedule((make_version(date(2015, 4, 1)), make_version(date(2016, 4, 1))))
    with pytest.raises(PeriodError):
        compute_bill(schedule, unit_type="*", own_units=D(1))


@given(
    st.lists(st.integers(min_value=1, max_value=59), max_size=3, unique=True),  # change days inside the period
    st.decimals(min_value=0, max_value=9999, places=2, allow_nan=False, allow_infinity=False),
    st.decimals(min_value=0, max_value=999, places=2, allow_nan=False, allow_infinity=False),
)
def test_splitting_a_bill_at_tariff_changes_never_changes_the_units_billed(offsets, own, motor):
    start = date(2025, 1, 1)
    flat = {"energy": FlatRate(D(7)), "share_rounding": ShareRounding.PER_UNIT_HALF_UP}
    versions = [make_version(date(2024, 1, 1), **flat)]
    versions += [make_version(start + timedelta(days=offset), **flat) for offset in sorted(offsets)]
    use = SharedMeterUse("M", motor, own, own + D(10))
    bill = compute_bill(
        TariffSchedule(tuple(versions)),
        unit_type="*",
        own_units=own,
        shared=[use],
        period=BillingPeriod(start, start + timedelta(days=59)),
    )
    assert sum(line.quantity for line in bill.lines if line.code == "energy") == own
    assert sum(line.quantity for line in bill.lines if line.code == "shared_meter") == use.share(
        ShareRounding.PER_UNIT_HALF_UP
    )
    assert len([line for line in bill.lines if line.code == "fixed"]) == len(offsets) + 1
