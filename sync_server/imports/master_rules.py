"""The master import's rules between rows, pure: which flats share which motor, and on what terms a unit is billed
(rate override, waived fixed charge) given the tariff, or the file alone (docs/operations.md "Importing master
data")."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from shared_billing.energy import FlatRate
from shared_billing.errors import UnknownUnitType
from shared_billing.protocol import UnitCategory
from shared_billing.tariffs import FixedBasis, Tariff
from sync_server.imports.master_file import MotorRow, UnitRow
from sync_server.imports.report import RowIssue

__all__ = ["Terms", "common_rate", "motor_members", "terms_for"]


@dataclass(frozen=True)
class Terms:
    """How a unit is billed apart from its tariff: ``rate_override`` replaces the energy rate for every unit on the
    bill (own and shared), ``fixed_charge_waived`` drops the fixed charge (docs/domain.md "Energy: slabs and
    bands")."""

    rate_override: Decimal | None = None
    fixed_charge_waived: bool = False
    warnings: list[str] = field(default_factory=list)


def motor_members(units: Sequence[UnitRow], motors: Sequence[MotorRow]) -> tuple[dict[str, list[str]], list[RowIssue]]:
    """Motor unit id → the unit ids sharing it, and the disagreements found.

    The motor's line decides: every flat (each floor) of a building it lists (``B5``) shares it, or the one flat it
    names with its floor (``B5-GF``). A flat naming another motor's meter number, one no motor has, or none while a
    motor lists it, is warned about and shares the motors that list it; a building listed without any flat in the
    file is warned about on the motor's line."""
    flats = [unit for unit in units if unit.category == UnitCategory.FLAT]
    by_building: dict[str, list[UnitRow]] = {}
    for flat in flats:
        by_building.setdefault(flat.flat_no, []).append(flat)
        by_building.setdefault(f"{flat.flat_no}-{flat.floor}", []).append(flat)
    members: dict[str, list[str]] = {}
    listing: dict[str, list[MotorRow]] = {}
    warnings: list[RowIssue] = []
    for motor in motors:
        members[motor.unit_id] = []
        for building in motor.flat_nos:
            listing.setdefault(building, []).append(motor)
            if building not in by_building:
                reason = f"lists flat {building}, but no unit of it was imported from the file"
                warnings.append(RowIssue(motor.line, motor.unit_id, reason))
            members[motor.unit_id].extend(flat.unit_id for flat in by_building.get(building, []))
    by_number = {motor.meter_number: motor for motor in motors}
    for flat in flats:
        tokens = (flat.flat_no, f"{flat.flat_no}-{flat.floor}")
        listed_by = list({motor.unit_id: motor for token in tokens for motor in listing.get(token, [])}.values())
        on = " and ".join(motor.unit_id for motor in listed_by)
        shares = f"it shares {on}, whose line lists {flat.flat_no}" if listed_by else "it shares no motor"
        named = by_number.get(flat.motor_meter_number) if flat.motor_meter_number is not None else None
        if flat.motor_meter_number is not None and named is None:
            reason = f"Water Motor Meter No {flat.motor_meter_number} is no motor's meter number in the file: {shares}"
        elif named is not None and named not in listed_by:
            reason = (
                f"Water Motor Meter No {flat.motor_meter_number} names {named.unit_id}, whose line does not list "
                f"{flat.flat_no}: {shares}"
            )
        elif named is None and listed_by:
            reason = f"no Water Motor Meter No, but {shares}"
        else:
            continue
        warnings.append(RowIssue(flat.line, flat.unit_id, reason))
    return {motor: list(dict.fromkeys(units)) for motor, units in members.items()}, warnings


def common_rate(units: Sequence[UnitRow]) -> Decimal | None:
    """The rate per unit most rows carry (the society's rate when no tariff is given); ties to the lower."""
    counts = Counter(unit.rate_per_unit for unit in units if unit.rate_per_unit is not None)
    if not counts:
        return None
    return min(counts, key=lambda rate: (-counts[rate], rate))


def terms_for(row: UnitRow, tariff: Tariff | None, common: Decimal | None) -> Terms:
    """The unit's rate override and fixed-charge waiver.

    With a tariff: a rate other than the tariff's flat rate is an override; a ₹0 fixed charge where the tariff
    charges one is a waiver; another non-zero fixed charge is a warning (the tariff decides). Without: a rate other
    than the file's common rate is an override, and a ₹0 fixed charge a waiver."""
    if tariff is None:
        override = row.rate_per_unit if row.rate_per_unit is not None and row.rate_per_unit != common else None
        return Terms(override, row.fixed_charge == 0)
    warnings: list[str] = []
    override = None
    if row.rate_per_unit is not None:
        if isinstance(tariff.energy, FlatRate):
            if row.rate_per_unit != tariff.energy.rate_per_unit:
                override = row.rate_per_unit
        else:
            warnings.append(f"Rate Per Unit ₹{row.rate_per_unit} not compared: tariff {tariff.code} prices by slabs")
    waived = False
    if row.fixed_charge is not None and tariff.fixed_basis == FixedBasis.CONNECTION:
        try:
            charged = tariff.fixed_charge_for(row.unit_type)
        except UnknownUnitType:
            warnings.append(f"tariff {tariff.code} has no fixed charge for unit type {row.unit_type}")
        else:
            if row.fixed_charge == 0 and charged > 0:
                waived = True
            elif row.fixed_charge != charged:
                warnings.append(
                    f"Fixed Charge ₹{row.fixed_charge} differs from tariff {tariff.code}'s ₹{charged} for "
                    f"{row.unit_type}: the tariff's is billed"
                )
    return Terms(override, waived, warnings)
