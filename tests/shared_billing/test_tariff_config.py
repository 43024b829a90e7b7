"""Tariffs as data: the Blessings configuration, JSON round trips and validation."""

import json
from decimal import Decimal

import pytest

from shared_billing.errors import TariffError, UnknownUnitType
from shared_billing.tariffs import FlatRate, RateOverride, ShareRounding, Tariff, blessings_tariff

D = Decimal


def make_tariff_dict(**overrides):
    data = blessings_tariff().to_dict()
    data.update(overrides)
    return data


def test_blessings_tariff_is_the_seed_configuration():
    tariff = blessings_tariff()
    assert isinstance(tariff.energy, FlatRate)
    assert tariff.energy.rate_per_unit == D(12)
    assert dict(tariff.fixed_by_unit_type) == {
        "2BHK": D(1474),
        "4BHK": D(1890),
        "5BHK": D(2311),
        "VILLA": D(1857),
        "SCO": D(2157),
    }
    assert tariff.share_rounding is ShareRounding.PER_UNIT_HALF_UP
    assert tariff.bill_shared_meters is True


def test_to_dict_is_json_safe_with_decimals_as_strings():
    data = blessings_tariff().to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data == {
        "schema": 1,
        "code": "BLESSINGS",
        "name": "Blessings City (seed-compatible)",
        "energy": {"kind": "flat", "rate_per_unit": "12"},
        "fixed_by_unit_type": {
            "2BHK": "1474",
            "4BHK": "1890",
            "5BHK": "2311",
            "VILLA": "1857",
            "SCO": "2157",
        },
        "share_rounding": "per_unit_half_up_0.01",
        "bill_shared_meters": True,
    }


def test_from_dict_round_trips_through_json():
    tariff = blessings_tariff()
    assert Tariff.from_dict(json.loads(json.dumps(tariff.to_dict()))) == tariff


def test_equal_tariffs_hash_alike():
    assert hash(blessings_tariff()) == hash(Tariff.from_dict(blessings_tariff().to_dict()))


def test_largest_remainder_setting_round_trips():
    data = make_tariff_dict(share_rounding="largest_remainder", fixed_by_unit_type={"2BHK": "1474.50"})
    tariff = Tariff.from_dict(data)
    assert tariff.share_rounding is ShareRounding.LARGEST_REMAINDER
    assert tariff.fixed_by_unit_type["2BHK"] == D("1474.50")
    assert Tariff.from_dict(tariff.to_dict()) == tariff


def test_new_tariffs_default_to_largest_remainder():
    data = make_tariff_dict()
    del data["share_rounding"], data["schema"], data["bill_shared_meters"]
    assert Tariff.from_dict(data).share_rounding is ShareRounding.LARGEST_REMAINDER


def test_negative_rate_is_refused():
    with pytest.raises(TariffError, match="must not be negative") as caught:
        FlatRate(rate_per_unit=D("-1"))
    assert caught.value.code == "tariff.invalid"


def test_negative_fixed_charge_is_refused():
    with pytest.raises(TariffError, match=r"fixed_by_unit_type\[2BHK\] must not be negative"):
        Tariff.from_dict(make_tariff_dict(fixed_by_unit_type={"2BHK": "-1474"}))


@pytest.mark.parametrize(
    "data",
    [
        make_tariff_dict(energy={"kind": "flat", "rate_per_unit": 12.5}),  # float
        make_tariff_dict(energy={"kind": "flat", "rate_per_unit": "NaN"}),
        make_tariff_dict(energy={"kind": "flat", "rate_per_unit": "twelve"}),
        make_tariff_dict(energy={"kind": "flat", "rate_per_unit": True}),
        make_tariff_dict(energy={"kind": "slabs", "rate_per_unit": "12"}),
        make_tariff_dict(energy={"kind": "flat"}),
        make_tariff_dict(share_rounding="banker"),
        make_tariff_dict(bill_shared_meters="yes"),
        make_tariff_dict(schema=2),
        make_tariff_dict(surprise=1),
        make_tariff_dict(fixed_by_unit_type=[]),
        make_tariff_dict(fixed_by_unit_type={" 2BHK": "1"}),
        make_tariff_dict(code=""),
        make_tariff_dict(name=None),
    ],
)
def test_from_dict_refuses_bad_data_with_a_tariff_error(data):
    with pytest.raises(TariffError):
        Tariff.from_dict(data)


def test_missing_keys_are_named():
    data = make_tariff_dict()
    del data["energy"]
    with pytest.raises(TariffError, match="missing \\['energy'\\]"):
        Tariff.from_dict(data)


def test_fixed_charges_are_frozen_and_copied():
    source = {"2BHK": D(1474)}
    tariff = Tariff(code="T", name="T", energy=FlatRate(D(12)), fixed_by_unit_type=source)
    source["2BHK"] = D(0)
    assert tariff.fixed_by_unit_type["2BHK"] == D(1474)
    with pytest.raises(TypeError):
        tariff.fixed_by_unit_type["2BHK"] = D(0)  # type: ignore[index]


def test_constructor_refuses_float_money():
    with pytest.raises(TariffError, match="Decimal"):
        Tariff(code="T", name="T", energy=FlatRate(D(12)), fixed_by_unit_type={"2BHK": 1474.0})  # type: ignore[dict-item]  # the float is the point


def test_unknown_unit_type_names_the_known_ones():
    with pytest.raises(UnknownUnitType) as caught:
        blessings_tariff().fixed_charge_for("PENTHOUSE")
    assert caught.value.code == "tariff.unknown_unit_type"
    assert "2BHK, 4BHK, 5BHK, SCO, VILLA" in caught.value.message
    assert caught.value.details == {"tariff": "BLESSINGS", "unit_type": "PENTHOUSE"}


def test_rate_override_refuses_negative_amounts():
    with pytest.raises(TariffError):
        RateOverride(rate_per_unit=D(-9))
    with pytest.raises(TariffError):
        RateOverride(rate_per_unit=D(9), fixed_charge=D(-1))
