"""Levies (duty, per-unit adjustments, surcharges, GST on a rent) and subsidies, each on a declared base.

docs/domain.md "Levies and subsidies": levies each have a declared base and order; the minimum charge is max(energy +
fixed, minimum), before any levy; subsidies are separate negative lines. Levies apply in ascending ``order``;
subsidies follow, in the order the tariff lists them, and never take a bill's own charges below zero.

A base is one name or a list of names whose amounts are added: ``energy`` (energy and shared-meter lines), ``fixed``
(fixed charge lines), ``charges`` (energy + fixed + minimum-charge top-up, i.e. max(energy + fixed, minimum)),
``subtotal`` (charges, recurring charges and every levy of a lower order: a surcharge on the duty-inclusive amount),
``units`` (units billed, for ₹-per-unit rates), the code of a recurring charge (``meter_rent``: GST on the rent) or
of a levy of a lower order (a cess on the duty). ``Tariff`` checks that every name it uses exists.

On a bill split by a tariff change (docs/domain.md "Tariff change inside a period") a levy that is the same in every
part (same code, name, order, base and rate) is computed once on the whole bill's base, so the split adds no rounding
of its own; a levy that changes at the split is computed, and rounded, per part.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

from shared_billing.apportionment import largest_remainder
from shared_billing.bill_lines import BillLine, LineCode, inr
from shared_billing.energy import Priced
from shared_billing.errors import TariffError
from shared_billing.money import round_paise, round_units
from shared_billing.tariff_data import (
    checked_amount,
    checked_code,
    decimal_from_data,
    list_from_data,
    mapping_from_data,
    only_keys,
    whole_from_data,
)

__all__ = ["MAX_PERCENT", "Levy", "LevyBase", "PartBase", "Subsidy", "levy_lines", "subsidy_lines"]

#: No levy or subsidy is more than the whole of its base: 800 % is a typo for 8 %, and a subsidy above 100 % would
#: pay the consumer for using power.
MAX_PERCENT = Decimal(100)


class LevyBase(StrEnum):
    """The names every bill has for a levy's or subsidy's base (see the module docstring); a tariff adds its
    recurring charges' and levies' codes."""

    ENERGY = "energy"
    FIXED = "fixed"
    CHARGES = "charges"
    UNITS = "units"
    SUBTOTAL = "subtotal"


_BUILT_IN = frozenset(member.value for member in LevyBase)


def _terms(value: object) -> tuple[str, ...]:
    """A base as the tuple of names it adds up: one name, or a list of them."""
    items = [value] if isinstance(value, str) else value
    if isinstance(items, bytes | Mapping) or not isinstance(items, Sequence) or not items:
        raise TariffError(
            f"a base is a name or a list of names, not {value!r}", field="base", problem="unknown_levy_base"
        )
    for term in items:
        try:
            checked_code(term)  # a base names built-in figures or tariff items by their codes
        except TariffError:
            known = ", ".join(member.value for member in LevyBase)
            raise TariffError(
                f"unknown levy base {term!r} (known: {known}, or a recurring charge's or earlier levy's code)",
                field="base",
                value=str(term),
                problem="unknown_levy_base",
            ) from None
    terms = tuple(items)
    if len(set(terms)) != len(terms):
        raise TariffError(f"a base names {', '.join(terms)}: a name twice", field="base", problem="unknown_levy_base")
    for whole in (LevyBase.UNITS, LevyBase.SUBTOTAL):
        if whole in terms and len(terms) > 1:
            raise TariffError(
                f"`{whole}` is a base on its own, not added to {', '.join(t for t in terms if t != whole)}",
                field="base",
                problem="unknown_levy_base",
            )
    return terms


def _base_data(terms: tuple[str, ...]) -> str | list[str]:
    return terms[0] if len(terms) == 1 else list(terms)


def _check_rate(terms: tuple[str, ...], percent: Decimal | None, rate_per_unit: Decimal | None) -> None:
    if (percent is None) == (rate_per_unit is None):
        raise TariffError("give either `percent` or `rate_per_unit`", field="percent")
    on_units = terms == (LevyBase.UNITS.value,)
    if percent is not None:
        checked_amount("percent", percent)
        if percent > MAX_PERCENT:
            raise TariffError(
                f"percent {percent} is more than {MAX_PERCENT}: a levy or subsidy is at most its whole base",
                field="percent",
                value=str(percent),
                problem="out_of_bounds",
            )
        if on_units:
            raise TariffError("a levy on `units` is a `rate_per_unit` in ₹, not a percent", field="percent")
    if rate_per_unit is not None:
        checked_amount("rate_per_unit", rate_per_unit)
        if not on_units:
            raise TariffError(f"`rate_per_unit` needs base `units`, not `{'+'.join(terms)}`", field="rate_per_unit")


def _optional_decimal(what: str, data: Mapping[str, Any]) -> Decimal | None:
    return None if data.get(what) is None else decimal_from_data(what, data[what])


def _base_from_data(value: object) -> str | list[str]:
    return value if isinstance(value, str) else list(list_from_data("base", value))


@dataclass(frozen=True)
class Levy:
    """A levy: ``percent`` of a money base, or ``rate_per_unit`` ₹ on the units; applied by ``order``.

    ``base`` is one name or a sequence of names (see the module docstring); ``terms`` is it as a tuple.
    """

    code: str
    name: str
    order: int
    base: str | Sequence[str]
    percent: Decimal | None = None
    rate_per_unit: Decimal | None = None
    terms: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        checked_code(self.code)
        terms = _terms(self.base)
        object.__setattr__(self, "terms", terms)
        object.__setattr__(self, "base", terms[0] if len(terms) == 1 else terms)
        _check_rate(terms, self.percent, self.rate_per_unit)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"code": self.code, "name": self.name, "order": self.order}
        data["base"] = _base_data(self.terms)
        if self.percent is not None:
            data["percent"] = str(self.percent)
        if self.rate_per_unit is not None:
            data["rate_per_unit"] = str(self.rate_per_unit)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Levy:
        data = mapping_from_data("levy", data)
        only_keys("levy", data, {"code", "name", "order", "base"}, {"percent", "rate_per_unit"}, at="")
        return cls(
            code=data["code"],
            name=str(data["name"]),
            order=whole_from_data("order", data["order"]),
            base=_base_from_data(data["base"]),
            percent=_optional_decimal("percent", data),
            rate_per_unit=_optional_decimal("rate_per_unit", data),
        )


@dataclass(frozen=True)
class Subsidy:
    """A subsidy line (negative): ``percent`` of a money base, or ``rate_per_unit`` ₹ off each unit.

    ``up_to_units`` limits a per-unit subsidy to the first units; ``when_units_at_most`` grants it only when
    the units billed are at most that. Both are monthly figures, scaled and rounded like slab limits.
    """

    code: str
    name: str
    base: str | Sequence[str]
    percent: Decimal | None = None
    rate_per_unit: Decimal | None = None
    up_to_units: Decimal | None = None
    when_units_at_most: Decimal | None = None
    terms: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        checked_code(self.code)
        terms = _terms(self.base)
        object.__setattr__(self, "terms", terms)
        object.__setattr__(self, "base", terms[0] if len(terms) == 1 else terms)
        _check_rate(terms, self.percent, self.rate_per_unit)
        if LevyBase.SUBTOTAL in terms:
            raise TariffError("a subsidy is on energy, fixed, charges, a recurring charge or units", field="base")
        for what in ("up_to_units", "when_units_at_most"):
            value = getattr(self, what)
            if value is not None:
                checked_amount(what, value)
        if self.up_to_units is not None and terms != (LevyBase.UNITS.value,):
            raise TariffError("`up_to_units` applies to a subsidy on `units`", field="up_to_units")

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"code": self.code, "name": self.name, "base": _base_data(self.terms)}
        for what in ("percent", "rate_per_unit", "up_to_units", "when_units_at_most"):
            value = getattr(self, what)
            if value is not None:
                data[what] = str(value)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Subsidy:
        data = mapping_from_data("subsidy", data)
        optional = {"percent", "rate_per_unit", "up_to_units", "when_units_at_most"}
        only_keys("subsidy", data, {"code", "name", "base"}, optional, at="")
        return cls(
            code=data["code"],
            name=str(data["name"]),
            base=_base_from_data(data["base"]),
            **{what: _optional_decimal(what, data) for what in optional},
        )


@dataclass
class PartBase:
    """The running figures of one part of a bill that its levies and subsidies are computed on.

    ``amounts`` holds ``energy``, ``fixed``, ``charges``, each recurring charge by its code and, as they are
    computed, each levy by its code (a levy computed once for the whole bill holds this part's share of it);
    ``subtotal`` is what the bill has charged so far in this part; ``names`` names codes for people.
    """

    units: Decimal
    amounts: dict[str, Decimal]
    subtotal: Decimal
    names: Mapping[str, str]
    label: str = ""

    def base(self, terms: tuple[str, ...]) -> Decimal:
        if terms == (LevyBase.UNITS.value,):
            return self.units
        if terms == (LevyBase.SUBTOTAL.value,):
            return self.subtotal
        return sum((self.amounts.get(term, Decimal(0)) for term in terms), Decimal(0))

    def has_any(self, terms: tuple[str, ...]) -> bool:
        return any(term in _BUILT_IN or term in self.amounts for term in terms)

    def words(self, terms: tuple[str, ...]) -> str:
        return " + ".join(self.names.get(term, term) for term in terms)

    def add(self, code: str, amount: Decimal) -> None:
        self.amounts[code] = amount
        self.subtotal += amount


def _levy_line(levy: Levy, base: Decimal, words: str, label: str) -> tuple[BillLine, Decimal]:
    code = f"{LineCode.LEVY.value}:{levy.code}"
    if levy.rate_per_unit is not None:
        amount = round_paise(base * levy.rate_per_unit)
        return BillLine(code, f"{levy.name}{label}", base, levy.rate_per_unit, amount), amount
    assert levy.percent is not None
    amount = round_paise(base * levy.percent / 100)
    return BillLine(code, f"{levy.name} ({levy.percent}% of {words}){label}", base, None, amount), amount


def _levy_trace(levy: Levy, base: Decimal, words: str, amount: Decimal, how: str = "") -> str:
    if levy.rate_per_unit is not None:
        return f"{levy.name}: {base} units{how} × ₹{levy.rate_per_unit} = {inr(amount)}"
    return f"{levy.name}: {levy.percent}% of {words} {inr(base)}{how} = {inr(amount)}"


def _whole_bill_levy(levy: Levy, parts: Sequence[PartBase]) -> tuple[BillLine, str]:
    bases = [part.base(levy.terms) for part in parts]
    total = sum(bases, Decimal(0))
    words = parts[0].words(levy.terms)
    line, amount = _levy_line(levy, total, words, "")
    how = ""
    if len(parts) > 1:
        shown = " + ".join(f"{base} units" if levy.rate_per_unit is not None else inr(base) for base in bases)
        how = f" (the whole bill's: {shown}, the same levy in every part)"
    shares = (
        largest_remainder(amount, dict(enumerate(bases)), 2)
        if total > 0
        else dict.fromkeys(range(len(parts)), Decimal("0.00"))
    )
    for index, part in enumerate(parts):
        part.add(levy.code, shares[index])
    return line, _levy_trace(levy, total, words, amount, how)


def levy_lines(levies: Sequence[Sequence[Levy]], parts: Sequence[PartBase]) -> Priced:
    """The levy lines of a bill of one or more parts (``levies[i]`` are part ``i``'s version's), in ``order``.

    A levy that every part has alike is one line on the whole bill's base; otherwise each part that has it gets a
    line on its own base, labelled with the part. Updates each part's running figures.
    """
    priced: Priced = []
    events = sorted({(levy.order, levy.code) for part_levies in levies for levy in part_levies})
    for order, code in events:
        here = [
            (index, levy)
            for index, part_levies in enumerate(levies)
            for levy in part_levies
            if (levy.order, levy.code) == (order, code)
        ]
        first = here[0][1]
        if not any(parts[index].has_any(levy.terms) for index, levy in here):
            priced.append((None, f"{first.name}: not charged, this bill has no {parts[0].words(first.terms)}"))
            continue
        if len(here) == len(parts) and all(levy == first for _, levy in here):
            priced.append(_whole_bill_levy(first, parts))
            continue
        for index, levy in here:
            part = parts[index]
            base = part.base(levy.terms)
            words = part.words(levy.terms)
            line, amount = _levy_line(levy, base, words, part.label)
            part.add(levy.code, amount)
            priced.append((line, _levy_trace(levy, base, words, amount, " in this part") + part.label))
    return priced


def subsidy_lines(subsidies: Sequence[Subsidy], part: PartBase, factor: Decimal, limit_places: int) -> Priced:
    """One negative line per subsidy that applies (a trace note for one that does not), for one part.

    A subsidy never takes the part below zero: a bill's own charges are never a credit (docs/domain.md "Levies and
    subsidies"); a credit comes only from the ledger or a stated adjustment.
    """
    priced: Priced = []
    for subsidy in subsidies:
        code = f"{LineCode.SUBSIDY.value}:{subsidy.code}"
        if subsidy.when_units_at_most is not None:
            ceiling = round_units(subsidy.when_units_at_most * factor, limit_places)
            if part.units > ceiling:
                priced.append((None, f"{subsidy.name}: not granted, {part.units} units > {ceiling}"))
                continue
        if subsidy.rate_per_unit is not None:
            units = part.units
            if subsidy.up_to_units is not None:
                units = min(units, round_units(subsidy.up_to_units * factor, limit_places))
            amount = round_paise(-(units * subsidy.rate_per_unit))
            line = BillLine(code, f"{subsidy.name}{part.label}", units, subsidy.rate_per_unit, amount)
            trace = f"{subsidy.name}: {units} units × ₹{subsidy.rate_per_unit} off = {inr(amount)}"
        else:
            assert subsidy.percent is not None
            base = part.base(subsidy.terms)
            words = part.words(subsidy.terms)
            amount = round_paise(-(base * subsidy.percent / 100))
            line = BillLine(code, f"{subsidy.name} ({subsidy.percent}% of {words}){part.label}", base, None, amount)
            trace = f"{subsidy.name}: {subsidy.percent}% of {words} {inr(base)} off = {inr(amount)}"
        if -amount > part.subtotal:
            limited = -part.subtotal
            trace += f", limited to {inr(limited)}: a subsidy takes the charges to zero at most"
            line = BillLine(line.code, line.description, line.quantity, line.rate, limited)
            amount = limited
        part.subtotal += amount
        priced.append((line, trace + part.label))
    return priced
