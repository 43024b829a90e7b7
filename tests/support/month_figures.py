"""Bills of the Blessings tariff worked out by hand, for tests that check the server's figures from outside.

Written from the rules in docs/domain.md ("The seed-compatible bill", "Shared meters", "Rounding", "Late payment
surcharge") with plain ``Decimal`` arithmetic, never through ``shared_billing``: a test that asked the engine for
its expectations would only check that the engine agrees with itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

# The tariff's figures as the synthetic society's file states them (its Fixed Charge and Rate Per Unit columns).
from tests.support.society_file import BLESSINGS_FIXED, BLESSINGS_RATE

__all__ = [
    "ExpectedBill",
    "expected_bill",
    "indian_rupees",
    "late_fee",
    "motor_shares",
    "rupees",
]

PAISA = Decimal("0.01")


def _paise(amount: Decimal) -> Decimal:
    return amount.quantize(PAISA, rounding=ROUND_HALF_UP)


def rupees(amount: Decimal) -> Decimal:
    """To the whole rupee, 50 paise and above up (kept at two decimals, as the API writes money)."""
    return amount.quantize(Decimal(1), rounding=ROUND_HALF_UP).quantize(PAISA)


def motor_shares(motor_units: Decimal, flat_units: Mapping[str, Decimal]) -> dict[str, Decimal]:
    """Each flat's share of a motor: motor units × flat units ÷ units of all its flats, each rounded on its own
    half-up to 0.01 unit (the Blessings tariff's ``per_unit_half_up_0.01``)."""
    group = sum(flat_units.values(), Decimal(0))
    if group == 0:
        return dict.fromkeys(flat_units, Decimal("0.00"))
    return {code: _paise(motor_units * units / group) for code, units in flat_units.items()}


@dataclass(frozen=True)
class ExpectedBill:
    own_units: Decimal
    share_units: Decimal
    own_energy: Decimal  # own units × rate, to paise
    shared_energy: Decimal  # the motor share × rate, to paise: its own line
    fixed: Decimal
    arrears: Decimal
    total: Decimal
    payable: Decimal

    @property
    def round_off(self) -> Decimal:
        return self.payable - self.total

    @property
    def by_line(self) -> dict[str, Decimal]:
        """The amount of each kind of bill line (its stable code); a kind with nothing to charge is left out."""
        lines = {
            "energy": self.own_energy,
            "shared_meter": self.shared_energy,
            "fixed": self.fixed,
            "arrears": self.arrears,
            "round_off": self.round_off,
        }
        return {code: amount for code, amount in lines.items() if amount != 0}

    @property
    def charges(self) -> Decimal:
        """What the bill adds to the ledger: the payable less the arrears already owed."""
        return self.payable - self.arrears


def expected_bill(
    *,
    own_units: Decimal,
    share_units: Decimal = Decimal(0),
    unit_type: str,
    rate_override: Decimal | None = None,
    fixed_waived: bool = False,
    arrears: Decimal = Decimal(0),
) -> ExpectedBill:
    """A month's Blessings bill: own and shared units at ₹12 (or the unit's override: the older system billed three
    flats at ₹9 with the fixed charge waived) + fixed by unit type + arrears, payable to the rupee."""
    rate = BLESSINGS_RATE if rate_override is None else rate_override
    own, shared = _paise(own_units * rate), _paise(share_units * rate)
    fixed = Decimal("0.00") if fixed_waived else BLESSINGS_FIXED[unit_type].quantize(PAISA)
    total = own + shared + fixed + _paise(arrears)
    return ExpectedBill(
        own_units=own_units,
        share_units=share_units,
        own_energy=own,
        shared_energy=shared,
        fixed=fixed,
        arrears=_paise(arrears),
        total=total,
        payable=rupees(total),
    )


def late_fee(principal: Decimal, *, due_on: date, paid_on: date) -> Decimal:
    """18 % a year on the principal paid late, by day over a 365-day year, half-up to paise (0 when on time)."""
    days = (paid_on - due_on).days
    if days <= 0 or principal <= 0:
        return Decimal("0.00")
    return _paise(principal * Decimal(18) / Decimal(100) * days / Decimal(365))


def indian_rupees(amount: Decimal) -> str:
    """``₹1,23,456.50``: the last three digits, then groups of two (how a bill of supply writes amounts)."""
    whole, paise = f"{abs(amount):.2f}".split(".")
    head, tail = whole[:-3], whole[-3:]
    groups: list[str] = []
    while len(head) > 2:
        groups.insert(0, head[-2:])
        head = head[:-2]
    if head:
        groups.insert(0, head)
    sign = "−" if amount < 0 else ""
    return f"{sign}₹{','.join([*groups, tail])}.{paise}"
