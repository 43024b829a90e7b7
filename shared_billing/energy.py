"""Energy charges: a flat rate, telescopic slabs, or bands (docs/domain.md "Energy: slabs and bands").

- ``FlatRate``: one rate for every unit (the seed's ₹12/unit).
- ``Slabs`` (telescopic): each slab priced for the units inside it. 150 units on 0–100 @4.50 / 101–300 @6.00
  is 100 × 4.50 + 50 × 6.00 = ₹750.00; the seed's loop got ₹748.50 by pricing 101–150 as 49 units.
- ``Bands``: the band chosen by the total use sets one rate for all units.

Slabs and bands are written as tariff orders write them, in whole units: ``0–200, 201–400, …, above 1200``
(each ``from`` is the previous ``to`` + 1, the first is 0, the last has no ``to``). A slab covers the units
above the previous slab's ``to`` up to its own, so fractional units (39.63 of a motor share) fall in the right
slab. With pro-ration the ``to`` limits are scaled by the period's factor and rounded (docs/domain.md "Period
pro-ration": 200 × 1.0151 = 203.02 → 203).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from itertools import pairwise
from typing import Any, ClassVar

from shared_billing.bill_lines import BillLine, LineCode, inr
from shared_billing.errors import TariffError
from shared_billing.money import round_paise, round_units
from shared_billing.tariff_data import (
    checked_amount,
    decimal_from_data,
    list_from_data,
    mapping_from_data,
    only_keys,
    under,
)

__all__ = ["Bands", "Energy", "EnergySource", "FlatRate", "Slab", "Slabs", "energy_from_dict"]


@dataclass(frozen=True)
class EnergySource:
    """Units to price from one source: the account's own meter, or its share of a shared meter.

    ``explanation`` says where the units came from (a shared meter's allocation); ``note`` is appended to the
    priced line's trace (e.g. a rate override).
    """

    code: str
    description: str
    units: Decimal
    explanation: str = ""
    note: str = ""


#: What ``price`` returns: bill lines with their trace, and trace-only notes (``None`` for the line).
Priced = list[tuple[BillLine | None, str]]


@dataclass(frozen=True)
class FlatRate:
    """Energy priced at one rate for every unit (the seed's ₹12/unit)."""

    KIND: ClassVar[str] = "flat"

    rate_per_unit: Decimal

    def __post_init__(self) -> None:
        checked_amount("energy.rate_per_unit", self.rate_per_unit)

    def amount_for(self, units: Decimal) -> Decimal:
        """The charge for ``units`` at this rate, rounded to paise (docs/domain.md "Rounding": each line to paise)."""
        return round_paise(units * self.rate_per_unit)

    def price(self, sources: Sequence[EnergySource], factor: Decimal, limit_places: int) -> Priced:
        """One line per source: pricing is linear, so the seed's ``(flat + share) × rate`` splits exactly."""
        priced: Priced = []
        for source in sources:
            amount = self.amount_for(source.units)
            lead = f"{source.explanation}; {source.units}" if source.explanation else f"Energy: {source.units} units"
            line = BillLine(source.code, source.description, source.units, self.rate_per_unit, amount)
            priced.append((line, f"{lead} × ₹{self.rate_per_unit} = {inr(amount)}{source.note}"))
        return priced

    def to_dict(self) -> dict[str, str]:
        """JSON-safe form, tagged with its kind."""
        return {"kind": self.KIND, "rate_per_unit": str(self.rate_per_unit)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FlatRate:
        """Inverse of ``to_dict``; raises ``TariffError`` on anything else."""
        data = mapping_from_data("energy", data)
        only_keys("energy", data, {"kind", "rate_per_unit"}, set())
        if data["kind"] != cls.KIND:
            raise TariffError(f"energy kind {data['kind']!r} is not a flat rate", field="energy.kind")
        return cls(rate_per_unit=decimal_from_data("energy.rate_per_unit", data["rate_per_unit"]))


@dataclass(frozen=True)
class Slab:
    """Units ``from_units``–``to_units`` (whole units, as written; ``to_units=None``: and above) at ``rate``."""

    from_units: Decimal
    to_units: Decimal | None
    rate: Decimal

    def __post_init__(self) -> None:
        for name, value in (("from", self.from_units), ("to", self.to_units)):
            if value is None:
                continue
            checked_amount(name, value)
            if value != value.to_integral_value():
                raise TariffError(f"slab limits are whole units, not {value}", field=name)
        checked_amount("rate", self.rate)
        if self.to_units is not None and self.to_units < self.from_units:
            raise TariffError(f"slab {self.from_units}–{self.to_units} ends before it starts", field="to")

    def to_dict(self) -> dict[str, str]:
        data = {"from": str(self.from_units), "rate": str(self.rate)}
        if self.to_units is not None:
            data["to"] = str(self.to_units)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Slab:
        data = mapping_from_data("slab", data)
        only_keys("slab", data, {"from", "rate"}, {"to"}, at="")
        to = data.get("to")
        return cls(
            from_units=decimal_from_data("from", data["from"]),
            to_units=None if to is None else decimal_from_data("to", to),
            rate=decimal_from_data("rate", data["rate"]),
        )


def _check_contiguous(key: str, ranges: Sequence[Slab]) -> None:
    # Slabs as tariff orders write them ("0–200, 201–400, …, >1200"; docs/domain.md "Energy: slabs and bands"):
    # no overlap, no gap, every unit priced.
    word = key.rstrip("s")
    if not ranges:
        raise TariffError(f"at least one {word} is needed", field=key, problem="slabs_gap")
    if ranges[0].from_units != 0:
        raise TariffError(
            f"the first {word} must start at 0 units, not {ranges[0].from_units}: units below it have no rate",
            field=f"{key}[0].from",
            problem="slabs_gap",
        )
    for index, (previous, current) in enumerate(pairwise(ranges), start=1):
        if previous.to_units is None:
            raise TariffError(
                f"{word} {index} has no upper limit, so {word} {index + 1} can never apply",
                field=f"{key}[{index - 1}]",
                problem="slabs_overlap",
            )
        expected = previous.to_units + 1
        if current.from_units < expected:
            raise TariffError(
                f"{word} {index + 1} starts at {current.from_units}, inside {word} {index} "
                f"({previous.from_units}–{previous.to_units}): it should start at {expected}",
                field=f"{key}[{index}].from",
                problem="slabs_overlap",
            )
        if current.from_units > expected:
            raise TariffError(
                f"{word} {index + 1} starts at {current.from_units}, leaving {expected}–{current.from_units - 1} "
                f"without a rate: it should start at {expected}",
                field=f"{key}[{index}].from",
                problem="slabs_gap",
            )
    if ranges[-1].to_units is not None:
        raise TariffError(
            f"the last {word} must have no `to`, or units above {ranges[-1].to_units} have no rate",
            field=f"{key}[{len(ranges) - 1}].to",
            problem="slabs_gap",
        )


def _ranges_from_dict(key: str, data: Mapping[str, Any]) -> tuple[Slab, ...]:
    only_keys("energy", data, {"kind", key}, set())
    items = list_from_data(f"energy.{key}", data[key])
    slabs: list[Slab] = []
    for index, item in enumerate(items):
        with under(f"energy.{key}[{index}]"):
            slabs.append(Slab.from_dict(item))
    return tuple(slabs)


def _scaled_uppers(ranges: Sequence[Slab], factor: Decimal, places: int) -> list[tuple[Decimal, str]]:
    # Each range's upper limit scaled by the factor and rounded (docs/domain.md "Period pro-ration"), with how it
    # was obtained.
    uppers: list[tuple[Decimal, str]] = []
    for slab in ranges[:-1]:
        assert slab.to_units is not None
        scaled = round_units(slab.to_units * factor, places)
        exact = f"{(slab.to_units * factor).normalize():f}"
        how = "" if factor == 1 else f", limit {slab.to_units} × {factor} = {exact} → {scaled}"
        uppers.append((scaled, how))
    return uppers


def _range_words(index: int, lower: Decimal, upper: Decimal | None, places: int) -> str:
    if upper is None:
        return f"above {lower} units"
    start = lower + 1 if index > 0 and places == 0 else lower
    return f"{start}–{upper} units"


def _total(sources: Sequence[EnergySource]) -> tuple[Decimal, list[str]]:
    total = sum((source.units for source in sources), Decimal(0))
    notes = [f"{source.explanation}, priced with the other units" for source in sources if source.explanation]
    if len(sources) > 1:
        notes.append(f"Units priced: {' + '.join(str(source.units) for source in sources)} = {total}")
    return total, notes


@dataclass(frozen=True)
class Slabs:
    """Telescopic slabs: each priced for the units that fall inside it."""

    KIND: ClassVar[str] = "slabs"

    slabs: tuple[Slab, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "slabs", tuple(self.slabs))
        _check_contiguous("slabs", self.slabs)

    def price(self, sources: Sequence[EnergySource], factor: Decimal, limit_places: int) -> Priced:
        total, notes = _total(sources)
        priced: Priced = [(None, note) for note in notes]
        uppers = _scaled_uppers(self.slabs, factor, limit_places)
        lower = Decimal(0)
        for index, slab in enumerate(self.slabs):
            upper, how = uppers[index] if index < len(uppers) else (None, "")
            inside = max(Decimal(0), (total if upper is None else min(total, upper)) - lower)
            if inside > 0 or (index == 0 and total == 0):
                amount = round_paise(inside * slab.rate)
                words = _range_words(index, lower, upper, limit_places)
                line = BillLine(LineCode.ENERGY.value, f"Energy, slab {index + 1} ({words})", inside, slab.rate, amount)
                trace = f"Slab {index + 1} ({words}{how}): {inside} units × ₹{slab.rate} = {inr(amount)}"
                priced.append((line, trace))
            if upper is not None:
                lower = max(lower, upper)
        return priced

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.KIND, "slabs": [slab.to_dict() for slab in self.slabs]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Slabs:
        ranges = _ranges_from_dict("slabs", data)
        with under("energy"):
            return cls(ranges)


@dataclass(frozen=True)
class Bands:
    """Bands: the band the total use falls in sets one rate for every unit."""

    KIND: ClassVar[str] = "bands"

    bands: tuple[Slab, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "bands", tuple(self.bands))
        _check_contiguous("bands", self.bands)

    def price(self, sources: Sequence[EnergySource], factor: Decimal, limit_places: int) -> Priced:
        total, notes = _total(sources)
        priced: Priced = [(None, note) for note in notes]
        uppers = _scaled_uppers(self.bands, factor, limit_places)
        lower = Decimal(0)
        for index, band in enumerate(self.bands):
            upper, how = uppers[index] if index < len(uppers) else (None, "")
            if upper is None or total <= upper:
                amount = round_paise(total * band.rate)
                words = _range_words(index, lower, upper, limit_places)
                line = BillLine(LineCode.ENERGY.value, f"Energy, band {index + 1} ({words})", total, band.rate, amount)
                trace = f"Band {index + 1} ({words}{how}) chosen by {total} units: all {total} × ₹{band.rate}"
                priced.append((line, f"{trace} = {inr(amount)}"))
                break
            lower = max(lower, upper)
        return priced

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.KIND, "bands": [band.to_dict() for band in self.bands]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Bands:
        ranges = _ranges_from_dict("bands", data)
        with under("energy"):
            return cls(ranges)


Energy = FlatRate | Slabs | Bands
_KINDS: dict[str, type[FlatRate] | type[Slabs] | type[Bands]] = {
    FlatRate.KIND: FlatRate,
    Slabs.KIND: Slabs,
    Bands.KIND: Bands,
}


def energy_from_dict(data: Mapping[str, Any]) -> Energy:
    """The energy charge from its ``to_dict`` form, by ``kind`` (flat, slabs, bands)."""
    data = mapping_from_data("energy", data)
    kind = data.get("kind")
    if kind not in _KINDS:
        raise TariffError(f"energy kind {kind!r} is not supported (known: {', '.join(_KINDS)})", field="energy.kind")
    return _KINDS[str(kind)].from_dict(data)
