"""The capture screen's estimate of a unit's own charges for a reading: energy and fixed charge at its tariff.

SCAFFOLD (issue 12): the shape below is agreed between the phone and the server; the body is being written.
No motor share, no arrears, no levies beyond what ``compute_bill`` puts on the unit's own consumption: it is labelled
an estimate on screen.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from shared_billing.tariffs import Tariff

__all__ = ["ChargeEstimate", "estimate_own_charges"]


@dataclass(frozen=True)
class ChargeEstimate:
    units: Decimal  # consumption after the multiplier
    energy: Decimal
    fixed: Decimal
    total: Decimal  # what compute_bill would charge for these units alone (rounded as a bill is)
    usual_total: Decimal | None  # the same for the meter's usual month, when its usage is known
    crosses_slab: bool  # these units reach a dearer slab than the usual month's
    far_above_usual: bool  # total is far above usual_total (the threshold lives here)


def estimate_own_charges(
    tariff: Tariff,
    *,
    unit_type: str,
    units: Decimal,
    sanctioned_load_kw: Decimal | None = None,
    usual_units: Decimal | None = None,
) -> ChargeEstimate:
    raise NotImplementedError
