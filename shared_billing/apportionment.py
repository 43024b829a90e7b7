"""Apportionment: splitting a quantity in proportion to weights, in whole steps of 10**-places.

docs/domain.md "Rounding": new tariffs allocate with largest-remainder rounding so shares sum exactly (100 units over
three equal flats → 33.34/33.33/33.33); the seed-compatible configuration rounds each share on its own, half-up.
Both are computed on integers (weights scaled to whole numbers), so a tie is an exact tie: a float or a
28-digit Decimal quotient can turn 0.004999… into a false tie, or the reverse.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import TypeVar

from shared_billing.money import round_units

__all__ = ["largest_remainder", "rounded_shares"]

K = TypeVar("K", str, int)


def _places(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)  # finite values only (checked by the callers)
    return max(0, -exponent)


def _quotients(total: Decimal, weights: Mapping[K, Decimal], places: int) -> tuple[dict[K, int], dict[K, int], int]:
    # share in steps = total·w·10**places ÷ Σw, all scaled to integers: (floors, remainders, denominator).
    if any(weight < 0 for weight in weights.values()) or total < 0:
        raise ValueError("apportionment needs a total and weights ≥ 0")
    if sum(weights.values(), Decimal(0)) == 0:
        raise ValueError("nothing to apportion by: every weight is zero")
    scale = max([_places(total), *(_places(weight) for weight in weights.values())])
    total_int = int(total.scaleb(scale))
    weight_int = {key: int(weight.scaleb(scale)) for key, weight in weights.items()}
    denominator = sum(weight_int.values()) * 10**scale
    floors: dict[K, int] = {}
    remainders: dict[K, int] = {}
    for key, weight in weight_int.items():
        floors[key], remainders[key] = divmod(total_int * weight * 10**places, denominator)
    return floors, remainders, denominator


def largest_remainder(total: Decimal, weights: Mapping[K, Decimal], places: int) -> dict[K, Decimal]:
    """Shares of ``total`` (rounded half-up to ``places``) that sum to it exactly, each within one step of exact.

    Every share is floored, then the steps still missing go to the largest remainders, ties to the key that
    sorts first (so the result never depends on the mapping's order). Zero weights get zero.
    """
    floors, remainders, _ = _quotients(total, weights, places)
    target = int(round_units(total, places).scaleb(places))
    steps = dict(floors)
    for key in sorted(remainders, key=lambda k: (-remainders[k], k))[: target - sum(floors.values())]:
        steps[key] += 1
    return {key: Decimal(count).scaleb(-places) for key, count in steps.items()}


def rounded_shares(total: Decimal, weights: Mapping[K, Decimal], places: int) -> dict[K, Decimal]:
    """Shares of ``total`` each rounded half-up to ``places`` on its own (they need not sum to ``total``)."""
    floors, remainders, denominator = _quotients(total, weights, places)
    return {
        key: Decimal(floors[key] + (1 if 2 * remainders[key] >= denominator else 0)).scaleb(-places) for key in floors
    }
