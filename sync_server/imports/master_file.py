"""The replaced system's master-data file, read: one JSON object a line whose ``output`` holds ``Key: value`` pairs
(docs/operations.md "Importing master data"). Pure: bytes in, typed rows and quarantined or warned lines out.

A line is quarantined (never imported) when it is not a JSON object with an ``output``, has no ``Unit_ID``, has a
value that cannot be read, or a unit id of no known shape; every row carrying a meter number (or a unit id) that
another row carries too is quarantined, naming the others — never merged, never first-wins. Personal data that
fails the directory's own bounds is left out with a warning.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from decimal import Decimal

from pydantic import TypeAdapter, ValidationError

from shared_billing.api_models import Email, MeterNumber, Name, Phone, UnitCode
from shared_billing.money import PAISA, plain_rate
from shared_billing.protocol import UnitCategory
from sync_server.imports.report import RowIssue

__all__ = [
    "MasterFile",
    "MasterFileUnreadable",
    "MotorRow",
    "UnitRow",
    "parse_master",
]

# Unit ids (docs/operations.md): flats 2BHK-B5-GF, villas VILLA-A2 and VILLA-A6&A7, shops SCO-…, motors MOTOR-D1.
_FLAT = re.compile(r"(?P<type>[245]BHK)-(?P<block>[A-Z])(?P<no>[0-9]{1,3})-(?P<floor>GF|FF|SF)")
_VILLA = re.compile(r"VILLA-[A-Z][0-9]{1,3}(?:\s*&\s*[A-Z][0-9]{1,3})*")
_SHOP = re.compile(r"SCO-[A-Z0-9]+(?:[-/][A-Z0-9]+)*")
_MOTOR = re.compile(r"MOTOR-(?P<block>[A-Z])[0-9]{0,2}")
#: Where villas and shops are kept: a block of their own each, as the society's office groups them.
VILLA_BLOCK, SHOP_BLOCK = "VILLA", "SCO"

# Spreadsheet exports write a missing cell as nan (pandas) or None, and whole numbers as floats (40123456.0).
_MISSING = frozenset({"", "nan", "none", "null", "n/a", "-"})
_FLOAT_ARTEFACT = re.compile(r"([0-9]+)\.0+")
_METER_NUMBER = re.compile(r"[A-Za-z0-9][A-Za-z0-9/-]*")
_AMOUNT = re.compile(r"[0-9]{1,10}(?:\.[0-9]{1,2}0*)?")
_RATE = re.compile(r"[0-9]{1,10}(?:\.[0-9]{1,4}0*)?")

_UNIT_CODE: TypeAdapter[str] = TypeAdapter(UnitCode)
_METER: TypeAdapter[str] = TypeAdapter(MeterNumber)
_NAME: TypeAdapter[str] = TypeAdapter(Name)
_PHONE: TypeAdapter[str] = TypeAdapter(Phone)
_EMAIL: TypeAdapter[str] = TypeAdapter(Email)


class MasterFileUnreadable(ValueError):
    """The file as a whole cannot be read (not UTF-8): nothing in it can be imported."""


class _BadRow(ValueError):
    """A line to quarantine; the message is the reason the clerk reads."""


@dataclass(frozen=True)
class UnitRow:
    """A flat, villa or shop as the file describes it, cleaned."""

    line: int
    unit_id: str
    category: UnitCategory
    unit_type: str  # 2BHK, 4BHK, 5BHK, VILLA, SCO: the tariff's fixed charge is by this
    block: str  # the block's code: the flat's letter, VILLA or SCO
    flat_no: str  # a flat's building (B5), which a motor's line lists; a villa's or shop's own id otherwise
    floor: str | None
    consumer_name: str | None
    meter_number: str | None
    fixed_charge: Decimal | None
    rate_per_unit: Decimal | None
    motor_meter_number: str | None  # the motor the flat says it is on, by the motor's meter number
    phone: str | None
    email: str | None


@dataclass(frozen=True)
class MotorRow:
    """A water motor: a shared meter split over the flats of the buildings it lists."""

    line: int
    unit_id: str  # MOTOR-B: the shared meter's label
    block: str
    meter_number: str
    flat_nos: tuple[str, ...]


@dataclass
class MasterFile:
    units: list[UnitRow] = field(default_factory=list)
    motors: list[MotorRow] = field(default_factory=list)
    quarantined: list[RowIssue] = field(default_factory=list)
    warnings: list[RowIssue] = field(default_factory=list)


def _value(raw: str | None) -> str | None:
    if raw is None:
        return None
    text = raw.strip()
    return None if text.lower() in _MISSING else text


def _pairs(output: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for text in output.splitlines():
        if not text.strip():
            continue
        key, colon, value = text.partition(":")
        if not colon:
            raise _BadRow(f"{text.strip()[:40]!r} is not a 'Key: value' pair")
        key = key.strip()
        if key in pairs:
            raise _BadRow(f"{key} is given twice")
        pairs[key] = value
    return pairs


def _amount(pairs: dict[str, str], key: str, *, rate: bool = False) -> Decimal | None:
    text = _value(pairs.get(key))
    if text is None:
        return None
    cleaned = text.replace("₹", "").replace("Rs.", "").replace(",", "").strip()
    # Rupees and paise only (a rate per unit: four places, ₹4.125): a float artefact (1890.0) is the same rupees;
    # a sign, an exponent, NaN or more places is not an amount here.
    if not (_RATE if rate else _AMOUNT).fullmatch(cleaned):
        places = "up to four decimal places" if rate else "rupees and paise"
        raise _BadRow(f"{key}: {text!r} is not an amount in {places}")
    return plain_rate(Decimal(cleaned)) if rate else Decimal(cleaned).quantize(PAISA)


def _meter_number(pairs: dict[str, str], key: str) -> str | None:
    text = _value(pairs.get(key))
    if text is None:
        return None
    artefact = _FLOAT_ARTEFACT.fullmatch(text)
    number = artefact.group(1) if artefact else text
    if not _METER_NUMBER.fullmatch(number):
        raise _BadRow(f"{key}: {text!r} is not a meter number")
    try:
        return _METER.validate_python(number)
    except ValidationError:
        raise _BadRow(f"{key}: {text!r} is longer than a meter number can be") from None


def _personal(
    pairs: dict[str, str], key: str, adapter: TypeAdapter[str], warn: list[str], clean: bool = False
) -> str | None:
    """Personal data the directory's bounds accept, else None and a warning: a bad phone number never keeps a
    unit out of the directory (the office fixes it in the console)."""
    text = _value(pairs.get(key))
    if text is None:
        return None
    if clean:
        artefact = _FLOAT_ARTEFACT.fullmatch(text.replace(" ", ""))
        text = artefact.group(1) if artefact else text
    try:
        return adapter.validate_python(text)
    except ValidationError:
        warn.append(f"{key} {text!r} is not valid: imported without it")
        return None


def _unit(line: int, unit_id: str, pairs: dict[str, str], warn: list[str]) -> UnitRow:
    flat = _FLAT.fullmatch(unit_id)
    if flat is not None:
        category, unit_type, block = UnitCategory.FLAT, flat["type"], flat["block"]
        flat_no, floor = f"{flat['block']}{flat['no']}", flat["floor"]
        written = _value(pairs.get("Floor"))
        if written is not None and written != floor:
            warn.append(f"Floor {written!r} disagrees with the unit id: {floor} kept")
    elif _VILLA.fullmatch(unit_id):
        category, unit_type, block, flat_no, floor = UnitCategory.VILLA, "VILLA", VILLA_BLOCK, unit_id, None
    elif _SHOP.fullmatch(unit_id):
        category, unit_type, block, flat_no, floor = UnitCategory.SHOP, "SCO", SHOP_BLOCK, unit_id, None
    else:
        raise _BadRow(f"unit id {unit_id!r} has no known shape (2BHK-B5-GF, VILLA-A2, SCO-…, MOTOR-B)")
    return UnitRow(
        line=line,
        unit_id=unit_id,
        category=category,
        unit_type=unit_type,
        block=block,
        flat_no=flat_no,
        floor=floor,
        consumer_name=_personal(pairs, "Client Name", _NAME, warn),
        meter_number=_meter_number(pairs, "Meter No."),
        fixed_charge=_amount(pairs, "Fixed Charge"),
        rate_per_unit=_amount(pairs, "Rate Per Unit", rate=True),
        motor_meter_number=_meter_number(pairs, "Water Motor Meter No") if category == UnitCategory.FLAT else None,
        phone=_personal(pairs, "Phone Number", _PHONE, warn, clean=True),
        email=_personal(pairs, "Email", _EMAIL, warn),
    )


def _motor(line: int, unit_id: str, block: str, pairs: dict[str, str]) -> MotorRow:
    meter_number = _meter_number(pairs, "Meter No.")
    if meter_number is None:
        raise _BadRow("a motor line needs its meter number")
    listed = _value(pairs.get("Flat no")) or ""
    flat_nos = tuple(dict.fromkeys(part.strip().upper() for part in listed.split(",") if part.strip()))
    return MotorRow(line=line, unit_id=unit_id, block=block, meter_number=meter_number, flat_nos=flat_nos)


def _row(line: int, text: str, warn: list[str]) -> UnitRow | MotorRow:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise _BadRow(f"not valid JSON (near column {error.colno})") from None
    if not isinstance(document, dict) or not isinstance(document.get("output"), str):
        raise _BadRow('not a JSON object with an "output" text')
    pairs = _pairs(document["output"])
    unit_id = _value(pairs.get("Unit_ID"))
    if unit_id is None:
        raise _BadRow("no Unit_ID")
    try:
        unit_id = _UNIT_CODE.validate_python(unit_id)
    except ValidationError:
        raise _BadRow(f"unit id {unit_id[:50]!r} is longer than a unit code can be") from None
    motor = _MOTOR.fullmatch(unit_id)
    if motor is not None:
        return _motor(line, unit_id, motor["block"], pairs)
    return _unit(line, unit_id, pairs, warn)


def _unit_id_of(text: str) -> str | None:
    """The unit id of a line that could not be read, when one can be seen in it (for the clerk's report)."""
    found = re.search(r"Unit_ID:\s*([^\\\n\"]+)", text)
    return found.group(1).strip() if found else None


def _quarantine_shared(
    rows: list[UnitRow | MotorRow], key: str, what: str, quarantined: list[RowIssue]
) -> list[UnitRow | MotorRow]:
    """Quarantine every row whose ``key`` another row carries too, naming the others (never first-wins)."""
    carriers: dict[str, list[UnitRow | MotorRow]] = {}
    for row in rows:
        value = getattr(row, key)
        if value is not None:
            carriers.setdefault(value, []).append(row)
    kept = []
    for row in rows:
        value = getattr(row, key)
        sharing = carriers.get(value, []) if value is not None else []
        if len(sharing) < 2:
            kept.append(row)
            continue
        others = ", ".join(f"{other.unit_id} (line {other.line})" for other in sharing if other is not row)
        quarantined.append(RowIssue(row.line, row.unit_id, f"{what} {value} is carried by other rows too: {others}"))
    return kept


def parse_master(data: bytes) -> MasterFile:
    """Read a master-data file; ``MasterFileUnreadable`` when it is not UTF-8 text."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise MasterFileUnreadable(f"the file is not UTF-8 text (byte {error.start})") from None
    parsed = MasterFile()
    rows: list[UnitRow | MotorRow] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        warn: list[str] = []
        try:
            row = _row(number, line, warn)
        except _BadRow as error:
            parsed.quarantined.append(RowIssue(number, _unit_id_of(line), str(error)))
            continue
        rows.append(row)
        parsed.warnings.extend(RowIssue(number, row.unit_id, reason) for reason in warn)
    rows = _quarantine_shared(rows, "unit_id", "unit id", parsed.quarantined)
    rows = _quarantine_shared(rows, "meter_number", "meter number", parsed.quarantined)
    spoiled = {issue.line for issue in parsed.quarantined}
    # A quarantined row's warnings would only distract the clerk: its quarantine reason says what to fix.
    parsed.warnings = [issue for issue in parsed.warnings if issue.line not in spoiled]
    parsed.units = [row for row in rows if isinstance(row, UnitRow)]
    parsed.motors = [row for row in rows if isinstance(row, MotorRow)]
    parsed.quarantined.sort(key=lambda issue: issue.line)
    return parsed
