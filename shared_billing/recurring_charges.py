"""Recurring charges a tariff adds to every bill besides energy and the fixed charge: meter rent, a common-area
charge, a maintenance fee (docs/domain.md "Recurring charges").

Each is monthly, by unit type like the fixed charge (``"*"`` for any type not listed), pro-rated by the period's
factor; unlike the fixed charge, a unit type the charge does not list (and no ``"*"``) simply does not pay it — a
common-area charge for flats only. Each is its own bill line (``charge:<code>``), and a levy may name it as its base
(GST on the meter rent), alone or with other charges.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from shared_billing.bill_lines import BillLine, LineCode, inr
from shared_billing.errors import TariffError
from shared_billing.money import round_paise
from shared_billing.tariff_data import (
    amount_for_unit_type,
    amounts_by_unit_type,
    checked_code,
    decimal_from_data,
    mapping_from_data,
    only_keys,
)

__all__ = ["RecurringCharge", "recurring_line"]


@dataclass(frozen=True)
class RecurringCharge:
    """A monthly charge by unit type (``{"*": 6}``: ₹6 for every connection), its own line on the bill."""

    code: str
    name: str
    monthly_by_unit_type: Mapping[str, Decimal]

    def __post_init__(self) -> None:
        checked_code(self.code)
        if not isinstance(self.name, str) or not self.name.strip():
            raise TariffError("a recurring charge needs a name", field="name")
        amounts = amounts_by_unit_type("monthly_by_unit_type", self.monthly_by_unit_type)
        if not amounts:
            raise TariffError("a recurring charge needs an amount for some unit type", field="monthly_by_unit_type")
        object.__setattr__(self, "monthly_by_unit_type", amounts)

    def __hash__(self) -> int:
        return hash((self.code, self.name, tuple(sorted(self.monthly_by_unit_type.items()))))

    def monthly_for(self, unit_type: str) -> Decimal | None:
        """The monthly amount for ``unit_type`` (else ``"*"``); ``None`` when this type does not pay it."""
        return amount_for_unit_type(self.monthly_by_unit_type, unit_type)

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "monthly_by_unit_type": {unit_type: str(amount) for unit_type, amount in self.monthly_by_unit_type.items()},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RecurringCharge:
        data = mapping_from_data("recurring charge", data)
        only_keys("recurring charge", data, {"code", "name", "monthly_by_unit_type"}, set(), at="")
        amounts = mapping_from_data("monthly_by_unit_type", data["monthly_by_unit_type"])
        return cls(
            code=data["code"],
            name=data["name"],
            monthly_by_unit_type={
                str(unit_type): decimal_from_data(f"monthly_by_unit_type[{unit_type}]", amount)
                for unit_type, amount in amounts.items()
            },
        )


def recurring_line(charge: RecurringCharge, unit_type: str, factor: Decimal) -> tuple[BillLine | None, str]:
    """The charge's line for one part of a bill (monthly × factor), or a trace note when the type does not pay it."""
    monthly = charge.monthly_for(unit_type)
    if monthly is None:
        return None, f"{charge.name}: not charged to unit type {unit_type}"
    amount = round_paise(monthly * factor)
    scaled = "" if factor == 1 else f" a month × {factor} = {inr(amount)}"
    line = BillLine(f"{LineCode.CHARGE.value}:{charge.code}", charge.name, factor, monthly, amount)
    return line, f"{charge.name}: {inr(monthly)}{scaled}"
