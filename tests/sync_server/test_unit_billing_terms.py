"""A unit's own billing terms (rate override, waived fixed charge) as the bill computation reads them."""

from decimal import Decimal as D

from shared_billing.protocol import UnitCategory
from shared_billing.tariffs import RateOverride
from sync_server.billing.compute import rate_override_of
from sync_server.models import Unit


def _unit(*, rate_override: D | None = None, fixed_charge_waived: bool = False) -> Unit:
    return Unit(
        code="2BHK-B5-GF",
        block_id=1,
        category=UnitCategory.FLAT,
        unit_type="2BHK",
        rate_override=rate_override,
        fixed_charge_waived=fixed_charge_waived,
    )


def test_a_unit_on_the_tariff_has_no_override() -> None:
    assert rate_override_of(_unit()) is None


def test_a_special_rate_without_fixed_charge_overrides_both() -> None:
    assert rate_override_of(_unit(rate_override=D(9), fixed_charge_waived=True)) == RateOverride(D(9), D(0))


def test_a_special_rate_keeps_the_tariffs_fixed_charge() -> None:
    assert rate_override_of(_unit(rate_override=D(9))) == RateOverride(D(9), None)


def test_a_waived_fixed_charge_alone_keeps_the_tariffs_rate() -> None:
    # Imported from a master file whose row charges the tariff's rate and ₹0 fixed (docs/operations.md).
    assert rate_override_of(_unit(fixed_charge_waived=True)) == RateOverride(None, D(0))
