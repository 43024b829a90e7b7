"""Every worked example of docs/domain.md, to the paisa, through the general engine (and the example tariff files)."""

from datetime import date
from decimal import Decimal
from pathlib import Path

from shared_billing.billing import compute_bill
from shared_billing.consumption import MeterRegister, meter_consumption, replacement_consumption
from shared_billing.energy import Slab, Slabs
from shared_billing.late_payment import late_payment_surcharge
from shared_billing.periods import BillingPeriod, DayCount
from shared_billing.schedules import TariffSchedule
from shared_billing.shared_meters import SharedMeterUse, allocate_shares
from shared_billing.tariff_file import parse_tariff_toml
from shared_billing.tariffs import ShareRounding, Tariff, blessings_tariff

D = Decimal
TARIFFS = Path(__file__).resolve().parents[2] / "assets" / "tariffs"


def load_tariff(name):
    path = TARIFFS / name
    return parse_tariff_toml(path.read_text(encoding="utf-8"), source=str(path))


ZERO = D(0)


def make_slab_tariff(rates, *, effective_from=None, limits=(100, 300), fixed=ZERO, day_count=DayCount.FIRST_AND_LAST):
    slabs, start = [], D(0)
    for limit, rate in zip(limits, rates, strict=False):
        slabs.append(Slab(start, D(limit), D(rate)))
        start = D(limit) + 1
    slabs.append(Slab(start, None, D(rates[len(limits)])))
    return Tariff(
        code="T",
        name="Test",
        energy=Slabs(tuple(slabs)),
        fixed_by_unit_type={"*": fixed},
        effective_from=effective_from,
        day_count=day_count,
    )


def amounts(bill, code):
    return [line.amount for line in bill.lines if line.code == code]


def test_blessings_b17_ff_november_2025_is_3710_56_payable_3711():
    motor = SharedMeterUse("MOTOR-B", D(210), D(77), D(408))
    bill = compute_bill(
        blessings_tariff(), unit_type="5BHK", own_units=D(77), shared=[motor], period=BillingPeriod.month(2025, 11)
    )
    assert [line.amount for line in bill.lines] == [D("924.00"), D("475.56"), D("2311.00"), D("0.44")]
    assert bill.lines[1].quantity == D("39.63")  # 210 × 77 / 408 = 39.632… half-up to 0.01 unit
    assert (bill.total, bill.round_off, bill.payable) == (D("3710.56"), D("0.44"), D("3711.00"))


def test_blessings_from_its_tariff_file_is_the_same_configuration():
    schedule = load_tariff("blessings.toml")
    (version,) = schedule.versions
    assert version.to_dict() == {**blessings_tariff().to_dict(), "effective_from": "2020-01-01"}
    motor = SharedMeterUse("MOTOR-B", D(210), D(77), D(408))
    bill = compute_bill(
        schedule, unit_type="5BHK", own_units=D(77), shared=[motor], period=BillingPeriod.month(2025, 11)
    )
    assert (bill.total, bill.payable) == (D("3710.56"), D("3711.00"))


def test_tpddl_350_units_17_june_to_17_july_2015():
    bill = compute_bill(
        load_tariff("tpddl-domestic-2015.toml"),
        unit_type="DOMESTIC",
        own_units=D(350),
        period=BillingPeriod(date(2015, 6, 17), date(2015, 7, 17)),
    )
    fixed = next(line for line in bill.lines if line.code == "fixed")
    assert fixed.quantity == D("1.0151")  # 14/30 + 17/31
    assert fixed.amount == D("40.60")
    energy = [line for line in bill.lines if line.code == "energy"]
    assert [(line.quantity, line.rate, line.amount) for line in energy] == [
        (D(203), D("4.00"), D("812.00")),  # limit 200 × 1.0151 = 203.02 → 203
        (D(147), D("5.95"), D("874.65")),
    ]
    assert sum(line.amount for line in energy) == D("1686.65")
    assert "Pro-ration factor: 14/30 + 17/31 = 1.015053… → 1.0151 (rounded to 4 places)" in bill.trace


def test_mid_period_tariff_change_is_2170_not_2260():
    schedule = TariffSchedule(
        (
            make_slab_tariff(("4.00", "6.00", "8.00"), effective_from=date(2015, 1, 1)),
            make_slab_tariff(("4.50", "6.50", "8.50"), effective_from=date(2015, 6, 16)),
        )
    )
    bill = compute_bill(
        schedule, unit_type="*", own_units=D(360), period=BillingPeriod(date(2015, 6, 1), date(2015, 6, 30))
    )
    energy = [line for line in bill.lines if line.code == "energy"]
    # 180 units per half; limits 100 × 0.5 = 50 and 300 × 0.5 = 150
    assert [(line.quantity, line.rate) for line in energy] == [
        (D(50), D("4.00")),
        (D(100), D("6.00")),
        (D(30), D("8.00")),
        (D(50), D("4.50")),
        (D(100), D("6.50")),
        (D(30), D("8.50")),
    ]
    assert sum(line.amount for line in energy[:3]) == D("1040.00")
    assert sum(line.amount for line in energy[3:]) == D("1130.00")
    assert bill.total == D("2170.00")


def test_rollover_99950_to_00120_on_five_dials_is_170_units():
    used = meter_consumption(MeterRegister(dials=5), D(99950), D(120))
    assert (used.units, used.rollover) == (D(170), True)


def test_meter_replacement_4500_4620_and_0_75_is_195_units():
    register = MeterRegister(dials=5)
    used = replacement_consumption(register, D(4500), D(4620), register, D(0), D(75))
    assert (used.units, used.replaced) == (D(195), True)


def test_replacement_units_are_priced_together_on_the_slabs():
    used = replacement_consumption(MeterRegister(5), D(4500), D(4620), MeterRegister(5), D(0), D(75))
    bill = compute_bill(
        make_slab_tariff(("4.00", "6.00", "8.00"), day_count=DayCount.CALENDAR_MONTH),
        unit_type="*",
        own_units=used.units,
    )
    assert amounts(bill, "energy") == [D("400.00"), D("570.00")]  # 100 × 4 + 95 × 6, not 120 and 75 apart


def test_motor_100_units_over_three_equal_flats_is_33_34_33_33_33_33():
    shares = allocate_shares(D(100), {"A": D(1), "B": D(1), "C": D(1)}, ShareRounding.LARGEST_REMAINDER)
    assert shares == {"A": D("33.34"), "B": D("33.33"), "C": D("33.33")}


def test_late_fee_on_3711_paid_20_days_late_is_36_60():
    surcharge = late_payment_surcharge(D("3711.00"), due_on=date(2025, 12, 15), paid_on=date(2026, 1, 4))
    assert (surcharge.amount, surcharge.days_late) == (D("36.60"), 20)


def test_seed_slab_bug_150_units_is_750_not_748_50():
    tariff = make_slab_tariff(("4.50", "6.00", "7.50"), day_count=DayCount.CALENDAR_MONTH)
    bill = compute_bill(tariff, unit_type="*", own_units=D(150))
    assert amounts(bill, "energy") == [D("450.00"), D("300.00")]
    assert sum(amounts(bill, "energy")) == D("750.00")
