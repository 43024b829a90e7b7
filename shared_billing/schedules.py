"""Tariff schedules: the effective-dated versions of one tariff, and which version bills which days.

docs/domain.md "Tariff change inside a period": split the period at each effective date, allocate units by days,
pro-rate slabs in each segment. A schedule's versions share the settings that decide how a period is cut and
how shared meters are split (day count, share rounding, whether shared meters are billed), so a bill that
crosses a change is cut and shared one way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from shared_billing.errors import NoTariffVersion, TariffError
from shared_billing.periods import DayCount, DaySpan
from shared_billing.tariff_data import under
from shared_billing.tariffs import PayableRounding, ShareRounding, Tariff

__all__ = ["TariffSchedule"]

_SHARED_SETTINGS = ("code", "day_count", "share_rounding", "bill_shared_meters", "payable_rounding")


@dataclass(frozen=True)
class TariffSchedule:
    """Versions of one tariff in ``effective_from`` order; a lone version may leave the date out (always)."""

    versions: tuple[Tariff, ...]
    # Periods already cut by ``shared_billing.billing`` (its ``_segments``), by period: the cut is a pure function
    # of the schedule and the period, and a bill run prices hundreds of a block's units for one period.
    cuts: dict[Any, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        versions = tuple(self.versions)
        object.__setattr__(self, "versions", versions)
        if not versions:
            raise TariffError("a tariff needs at least one version", field="versions")
        first = versions[0]
        for index, version in enumerate(versions):
            for setting in _SHARED_SETTINGS:
                if getattr(version, setting) != getattr(first, setting):
                    raise TariffError(
                        f"every version of a tariff has the same {setting}: version {index + 1} differs",
                        field=f"versions[{index}].{setting}",
                    )
            if len(versions) > 1 and version.effective_from is None:
                raise TariffError(
                    f"version {index + 1} needs an effective_from date", field=f"versions[{index}].effective_from"
                )
            if index and self._date(version) <= self._date(versions[index - 1]):
                raise TariffError(
                    f"version {index + 1} takes effect on {version.effective_from}, not after version {index}'s "
                    f"{versions[index - 1].effective_from}: versions are listed oldest first, one per date",
                    field=f"versions[{index}].effective_from",
                    problem="version_order",
                )

    @staticmethod
    def _date(version: Tariff) -> date:
        return version.effective_from or date.min

    @property
    def code(self) -> str:
        """The tariff's code (the same in every version)."""
        return self.versions[0].code

    @property
    def day_count(self) -> DayCount:
        return self.versions[0].day_count

    @property
    def share_rounding(self) -> ShareRounding:
        return self.versions[0].share_rounding

    @property
    def bill_shared_meters(self) -> bool:
        return self.versions[0].bill_shared_meters

    @property
    def payable_rounding(self) -> PayableRounding:
        return self.versions[0].payable_rounding

    def version_on(self, day: date) -> Tariff:
        """The version in force on ``day``; ``NoTariffVersion`` before the first one."""
        current = None
        for version in self.versions:
            if self._date(version) <= day:
                current = version
        if current is None:
            raise NoTariffVersion(
                f"Tariff {self.code} has no version in force on {day.isoformat()} "
                f"(the first takes effect on {self.versions[0].effective_from})",
                tariff=self.code,
                day=day.isoformat(),
            )
        return current

    def segments(self, span: DaySpan) -> list[tuple[DaySpan, Tariff]]:
        """``span`` cut at every version change inside it, each piece with the version billing it."""
        dates = [version.effective_from for version in self.versions if version.effective_from is not None]
        return [(piece, self.version_on(piece.first_on)) for piece in span.split(dates)]

    def to_dicts(self) -> list[dict[str, Any]]:
        """Each version's ``to_dict`` form, oldest first (the server stores one row per version)."""
        return [version.to_dict() for version in self.versions]

    @classmethod
    def from_dicts(cls, items: Sequence[Mapping[str, Any]]) -> TariffSchedule:
        """Inverse of ``to_dicts``; a ``TariffError`` names the field as ``versions[i].…``."""
        versions: list[Tariff] = []
        for index, item in enumerate(items):
            with under(f"versions[{index}]"):
                versions.append(Tariff.from_dict(item))
        return cls(tuple(versions))
