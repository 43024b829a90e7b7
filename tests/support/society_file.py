"""A synthetic master-data file shaped exactly like the one of the system Fieldmeter replaces (docs/operations.md
"Importing master data"), with the facts it encodes, so a test can compute what an import must do without
reading the file back through the importer.

Every name, phone number, email and meter number is made up from a seeded generator: the same seed gives the same
file, byte for byte. The shape is the real society's: 146 lines — 84 × 2BHK, 24 × 4BHK and 12 × 5BHK flats on
GF/FF/SF of blocks B–F, 11 villas (one combined, ``VILLA-A6&A7``), 9 shops (``SCO-…``, two without a meter number),
6 water motors (``MOTOR-B``, ``C``, ``D1``, ``D2``, ``F1``, ``F2``) listing the flats they serve; three flats billed
₹9 a unit with no fixed charge; ``nan``, ``.0`` artefacts, ``₹`` and empty strings where the real file has them.

    society = build_society(seed=7, quirks=Quirks(duplicate_meters=2, malformed_line=True))
    society.jsonl                     # the file's text
    society.importable_units          # the units an import must bring in (quarantined rows left out)
    society.members("MOTOR-B")        # unit ids sharing the motor (as the motor's line lists them)

``Quirks`` inject the defects an importer must survive; ``SyntheticSociety.quarantined`` says which lines they
spoil and ``SyntheticSociety.wrong_motor_units`` which flats name the wrong motor.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from decimal import Decimal

__all__ = [
    "BLESSINGS_FIXED",
    "BLESSINGS_RATE",
    "SPECIAL_RATE",
    "Quirks",
    "SyntheticMotor",
    "SyntheticSociety",
    "SyntheticUnit",
    "build_society",
]

#: The Blessings tariff's fixed charges by unit type, and its energy rate (assets/tariffs/blessings.toml).
BLESSINGS_FIXED = {
    "2BHK": Decimal(1474),
    "4BHK": Decimal(1890),
    "5BHK": Decimal(2311),
    "VILLA": Decimal(1857),
    "SCO": Decimal(2157),
}
BLESSINGS_RATE = Decimal(12)
#: The rate of the three flats billed with no fixed charge.
SPECIAL_RATE = Decimal(9)

# Buildings (flat numbers) per block; each has a GF, FF and SF flat. 40 buildings × 3 floors = 120 flats.
_BUILDINGS = {"B": 10, "C": 8, "D": 8, "E": 6, "F": 8}
_FLOORS = ("GF", "FF", "SF")
# Which buildings each motor serves (block E has none, as in the real society).
_MOTORS = {
    "MOTOR-B": ("B", (1, 2, 5, 6, 9, 10)),
    "MOTOR-C": ("C", (1, 2, 3, 4)),
    "MOTOR-D1": ("D", (1, 2, 3, 4)),
    "MOTOR-D2": ("D", (5, 6, 7, 8)),
    "MOTOR-F1": ("F", (1, 2, 3, 4)),
    "MOTOR-F2": ("F", (5, 6)),
}
_VILLAS = ("A1", "A2", "A3", "A4", "A5", "A6&A7", "A8", "A9", "A10", "A11", "A12")
_SHOPS = tuple(f"SCO-{n}" for n in (1, 2, 3, 4, 5, 6, 7, 8, 11))
_SHOPS_WITHOUT_METER = ("SCO-7", "SCO-11")
_FIRST = ("Aarin", "Bhavi", "Charan", "Devra", "Eshan", "Falak", "Girin", "Hemal", "Ishvi", "Jivan", "Kavir", "Lohan")
_LAST = ("Synthel", "Testwal", "Fictor", "Madeup", "Samplar", "Dummon", "Placera", "Mockand")


@dataclass(frozen=True)
class Quirks:
    """Defects to inject. ``duplicate_meters``: that many meter numbers carried by more than one unit row (the
    first by three rows, the others by two). ``malformed_line``: a line of broken JSON in the middle of the file;
    ``missing_unit_id``: a line whose output has no ``Unit_ID``; ``bad_value``: a row whose ``Fixed Charge`` is not
    an amount; ``unknown_shape``: a row whose unit id fits no known shape (each of these three an extra line, so no
    real unit is lost). ``wrong_motor``: a flat on MOTOR-B's list naming MOTOR-C's meter number. ``bad_contact``:
    one unit with an invalid phone and another with an invalid email (imported without them, with a warning)."""

    duplicate_meters: int = 0
    malformed_line: bool = False
    missing_unit_id: bool = False
    bad_value: bool = False
    unknown_shape: bool = False
    wrong_motor: bool = False
    bad_contact: bool = False

    @classmethod
    def all(cls) -> Quirks:
        return cls(2, True, True, True, True, True, True)


@dataclass(frozen=True)
class SyntheticUnit:
    """A unit row: what the file says, and the cleaned values an import must store."""

    unit_id: str
    category: str  # flat, villa, shop (shared_billing.protocol.UnitCategory values)
    unit_type: str  # 2BHK, 4BHK, 5BHK, VILLA, SCO
    flat_no: str  # as the file writes it: B5, A6 & A7, SCO 3
    floor: str | None
    consumer_name: str | None
    meter_number: str | None  # None: the file's Meter No. is empty
    fixed_charge: Decimal
    rate_per_unit: Decimal
    motor: str | None  # the motor's unit id (MOTOR-B) whose meter number the row names, if any
    phone: str | None  # cleaned (no float artefact); None when the file has none or it is invalid
    email: str | None
    raw_phone: str = ""  # as the file writes it
    raw_email: str = ""

    @property
    def special(self) -> bool:
        """Billed at the special rate with no fixed charge."""
        return self.rate_per_unit == SPECIAL_RATE and self.fixed_charge == 0


@dataclass(frozen=True)
class SyntheticMotor:
    unit_id: str  # MOTOR-B
    block: str  # B
    meter_number: str
    flat_nos: tuple[str, ...]  # the buildings listed: B5, B6, ...


@dataclass(frozen=True)
class _Extra:
    """A line added by a quirk: the text, where it goes (before the row at this index) and its unit id."""

    before: int
    text: str
    unit_id: str | None


@dataclass(frozen=True)
class SyntheticSociety:
    """The file and its facts. ``lines`` maps each unit id (motors included) to its 1-based line."""

    seed: int
    quirks: Quirks
    units: tuple[SyntheticUnit, ...]  # in file order, quarantined ones included
    motors: tuple[SyntheticMotor, ...]
    extras: tuple[_Extra, ...] = field(default=())
    wrong_motor_units: tuple[str, ...] = ()  # flats whose Water Motor Meter No names another motor than its list

    @property
    def jsonl(self) -> str:
        return "".join(line + "\n" for line in self._lines())

    @property
    def data(self) -> bytes:
        return self.jsonl.encode("utf-8")

    @property
    def lines(self) -> dict[str, int]:
        rows = self._row_ids()
        return {unit_id: number for number, unit_id in enumerate(rows, start=1) if unit_id is not None}

    @property
    def duplicated_meters(self) -> dict[str, tuple[str, ...]]:
        """Meter number → the unit ids carrying it, for every number carried by more than one row."""
        carriers: dict[str, list[str]] = {}
        for unit in self.units:
            if unit.meter_number is not None:
                carriers.setdefault(unit.meter_number, []).append(unit.unit_id)
        return {number: tuple(ids) for number, ids in carriers.items() if len(ids) > 1}

    @property
    def quarantined(self) -> dict[int, str | None]:
        """Line → unit id (None when the line names none) of every line an import must quarantine."""
        lines = self.lines
        spoiled: dict[int, str | None] = {
            lines[unit_id]: unit_id for ids in self.duplicated_meters.values() for unit_id in ids
        }
        rows = self._row_ids()
        for extra in self.extras:
            number = next(n for n, text in enumerate(self._lines(), start=1) if text == extra.text)
            spoiled[number] = rows[number - 1]
        return dict(sorted(spoiled.items()))

    @property
    def importable_units(self) -> tuple[SyntheticUnit, ...]:
        spoiled = {unit_id for ids in self.duplicated_meters.values() for unit_id in ids}
        return tuple(unit for unit in self.units if unit.unit_id not in spoiled)

    @property
    def units_without_meter(self) -> tuple[str, ...]:
        return tuple(unit.unit_id for unit in self.importable_units if unit.meter_number is None)

    def unit(self, unit_id: str) -> SyntheticUnit:
        return next(unit for unit in self.units if unit.unit_id == unit_id)

    def motor(self, unit_id: str) -> SyntheticMotor:
        return next(motor for motor in self.motors if motor.unit_id == unit_id)

    def members(self, motor_id: str) -> tuple[str, ...]:
        """The importable flats of the buildings the motor's line lists (the motor's list decides membership)."""
        listed = set(self.motor(motor_id).flat_nos)
        return tuple(
            unit.unit_id for unit in self.importable_units if unit.category == "flat" and unit.flat_no in listed
        )

    def with_unit(self, unit_id: str, **changes: object) -> SyntheticSociety:
        """The same society with one unit row changed (a corrected file)."""
        units = tuple(replace(unit, **changes) if unit.unit_id == unit_id else unit for unit in self.units)  # type: ignore[arg-type]
        return replace(self, units=units)

    def with_motor(self, unit_id: str, **changes: object) -> SyntheticSociety:
        motors = tuple(replace(motor, **changes) if motor.unit_id == unit_id else motor for motor in self.motors)  # type: ignore[arg-type]
        return replace(self, motors=motors)

    # --- rendering ---

    def _rows(self) -> list[tuple[str | None, str]]:
        """(unit id, line text) of every unit and motor row, in file order (motors after their block's flats)."""
        by_block: dict[str, list[SyntheticMotor]] = {}
        for motor in self.motors:
            by_block.setdefault(motor.block, []).append(motor)
        numbers = {motor.unit_id: motor.meter_number for motor in self.motors}
        rows: list[tuple[str | None, str]] = []
        for index, unit in enumerate(self.units):
            rows.append((unit.unit_id, _unit_line(unit, numbers)))
            following = self.units[index + 1] if index + 1 < len(self.units) else None
            block = unit.flat_no[0] if unit.category == "flat" else None
            next_block = following.flat_no[0] if following is not None and following.category == "flat" else None
            if block is not None and block != next_block:
                rows.extend((motor.unit_id, _motor_line(motor)) for motor in by_block.pop(block, []))
        rows.extend((motor.unit_id, _motor_line(motor)) for motors in by_block.values() for motor in motors)
        return rows

    def _with_extras(self) -> list[tuple[str | None, str]]:
        rows = self._rows()
        for extra in sorted(self.extras, key=lambda extra: -extra.before):
            rows.insert(extra.before, (extra.unit_id, extra.text))
        return rows

    def _lines(self) -> list[str]:
        return [text for _, text in self._with_extras()]

    def _row_ids(self) -> list[str | None]:
        return [unit_id for unit_id, _ in self._with_extras()]


def _money(amount: Decimal) -> str:
    return f"₹{amount}"


def _line(unit_id: str, flat: str, pairs: Iterable[tuple[str, str]]) -> str:
    output = "\n".join(f"{key}: {value}" for key, value in pairs)
    prompt = f"Provide the master data details for unit {unit_id} (flat {flat})."
    return json.dumps({"input": prompt, "output": output}, ensure_ascii=False)


def _unit_line(unit: SyntheticUnit, motor_numbers: dict[str, str]) -> str:
    pairs = [("Unit_ID", unit.unit_id), ("Flat no", unit.flat_no)]
    if unit.category == "flat":
        pairs.append(("Floor", unit.floor or "nan"))
    pairs += [
        ("Client Name", unit.consumer_name or "nan"),
        ("Meter No.", unit.meter_number or ""),
        ("Fixed Charge", _money(unit.fixed_charge)),
        ("Rate Per Unit", _money(unit.rate_per_unit)),
    ]
    if unit.category == "flat":
        # The real file writes the motor's number as a float (pandas): 40123456.0, or nan.
        pairs.append(("Water Motor Meter No", f"{motor_numbers[unit.motor]}.0" if unit.motor else "nan"))
    pairs += [("Phone Number", unit.raw_phone), ("Email", unit.raw_email)]
    flat = f"{unit.flat_no}-{unit.floor}" if unit.floor else unit.flat_no
    return _line(unit.unit_id, flat, pairs)


def _motor_line(motor: SyntheticMotor) -> str:
    pairs = [
        ("Unit_ID", motor.unit_id),
        ("Flat no", ", ".join(motor.flat_nos)),
        ("Floor", "nan"),
        ("Client Name", "nan"),
        ("Meter No.", motor.meter_number),
        ("Fixed Charge", "₹0"),
        ("Rate Per Unit", _money(BLESSINGS_RATE)),
        ("Water Motor Meter No", "nan"),
        ("Phone Number", "nan"),
        ("Email", "nan"),
    ]
    return _line(motor.unit_id, motor.unit_id, pairs)


class _Numbers:
    """Distinct 8-digit meter numbers from the seeded generator."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._used: set[str] = set()

    def __call__(self) -> str:
        while True:
            number = str(self._rng.randrange(40_000_000, 49_999_999))
            if number not in self._used:
                self._used.add(number)
                return number


def _contact(rng: random.Random, index: int) -> tuple[str | None, str, str | None, str]:
    """(phone, raw phone, email, raw email) with the file's artefacts: float phones, nan and empty strings."""
    phone = f"9{rng.randrange(100_000_000, 999_999_999)}"
    raw_phone = rng.choice([f"{phone}.0", f"{phone}.0", phone, f"+91 {phone[:5]} {phone[5:]}"])
    cleaned_phone: str | None = raw_phone.replace(" ", "").removesuffix(".0")
    if index % 7 == 3:
        raw_phone, cleaned_phone = rng.choice(["nan", ""]), None
    email: str | None = f"resident{index:03d}@example.in"
    raw_email = email or ""
    if index % 5 == 2:
        raw_email, email = rng.choice(["nan", ""]), None
    return cleaned_phone, raw_phone, email, raw_email


def _flats(rng: random.Random, numbers: _Numbers, motor_of: dict[str, str]) -> list[SyntheticUnit]:
    buildings = [(block, no) for block, count in _BUILDINGS.items() for no in range(1, count + 1)]
    types = ["2BHK"] * 28 + ["4BHK"] * 8 + ["5BHK"] * 4
    rng.shuffle(types)
    flats: list[SyntheticUnit] = []
    for (block, no), unit_type in zip(buildings, types, strict=True):
        flat_no = f"{block}{no}"
        for floor in _FLOORS:
            index = len(flats) + 1
            phone, raw_phone, email, raw_email = _contact(rng, index)
            name = f"{rng.choice(_FIRST)} {rng.choice(_LAST)}" if index % 11 != 5 else None
            flats.append(
                SyntheticUnit(
                    unit_id=f"{unit_type}-{flat_no}-{floor}",
                    category="flat",
                    unit_type=unit_type,
                    flat_no=flat_no,
                    floor=floor,
                    consumer_name=name,
                    meter_number=numbers(),
                    fixed_charge=BLESSINGS_FIXED[unit_type],
                    rate_per_unit=BLESSINGS_RATE,
                    motor=motor_of.get(flat_no),
                    phone=phone,
                    email=email,
                    raw_phone=raw_phone,
                    raw_email=raw_email,
                )
            )
    return flats


def _others(rng: random.Random, numbers: _Numbers, start: int) -> list[SyntheticUnit]:
    units: list[SyntheticUnit] = []
    for offset, (unit_id, flat_no, category, unit_type) in enumerate(
        [*((f"VILLA-{v}", v.replace("&", " & "), "villa", "VILLA") for v in _VILLAS)]
        + [(shop, shop.replace("-", " "), "shop", "SCO") for shop in _SHOPS]
    ):
        phone, raw_phone, email, raw_email = _contact(rng, start + offset)
        units.append(
            SyntheticUnit(
                unit_id=unit_id,
                category=category,
                unit_type=unit_type,
                flat_no=flat_no,
                floor=None,
                consumer_name=f"{rng.choice(_FIRST)} {rng.choice(_LAST)}",
                meter_number=None if unit_id in _SHOPS_WITHOUT_METER else numbers(),
                fixed_charge=BLESSINGS_FIXED[unit_type],
                rate_per_unit=BLESSINGS_RATE,
                motor=None,
                phone=phone,
                email=email,
                raw_phone=raw_phone,
                raw_email=raw_email,
            )
        )
    return units


def _extra_line(output: str, unit_id: str) -> str:
    prompt = f"Provide the master data details for unit {unit_id}."
    return json.dumps({"input": prompt, "output": output}, ensure_ascii=False)


def _apply_quirks(
    rng: random.Random, quirks: Quirks, units: list[SyntheticUnit], motors: list[SyntheticMotor]
) -> tuple[list[SyntheticUnit], list[_Extra], list[str]]:
    extras: list[_Extra] = []
    wrong: list[str] = []
    flats = [index for index, unit in enumerate(units) if unit.category == "flat" and not _special_index(units, index)]
    picked = rng.sample(flats, 3 + 2 * max(quirks.duplicate_meters - 1, 0)) if quirks.duplicate_meters else []
    groups = [picked[:3]] + [picked[3 + 2 * i : 5 + 2 * i] for i in range(quirks.duplicate_meters - 1)]
    for group in groups if picked else []:
        number = units[group[0]].meter_number
        for index in group[1:]:
            units[index] = replace(units[index], meter_number=number)
    middle = len(units) // 2
    if quirks.malformed_line:
        text = '{"input": "Provide the master data details for unit 2BHK-E9-GF.", "output": "Unit_ID: 2BHK-E9'
        extras.append(_Extra(middle, text, "2BHK-E9"))  # the unit id an importer can still see in the line
    if quirks.missing_unit_id:
        text = _extra_line("Flat no: E9\nFloor: FF\nMeter No.: 123\nFixed Charge: ₹1474", "(none)")
        extras.append(_Extra(middle + 10, text, None))
    if quirks.bad_value:
        output = "Unit_ID: 2BHK-E9-SF\nFlat no: E9\nFloor: SF\nMeter No.: 49999999\nFixed Charge: ₹fourteen"
        extras.append(_Extra(middle + 20, _extra_line(output, "2BHK-E9-SF"), "2BHK-E9-SF"))
    if quirks.unknown_shape:
        output = "Unit_ID: PENTHOUSE-Z1\nFlat no: Z1\nMeter No.: 49999998\nFixed Charge: ₹1474"
        extras.append(_Extra(middle + 30, _extra_line(output, "PENTHOUSE-Z1"), "PENTHOUSE-Z1"))
    if quirks.wrong_motor:
        listed = {f"B{no}" for no in _MOTORS["MOTOR-B"][1]}
        index = next(i for i, unit in enumerate(units) if unit.flat_no in listed and i not in picked)
        units[index] = replace(units[index], motor="MOTOR-C")
        wrong.append(units[index].unit_id)
    if quirks.bad_contact:
        first, second = [i for i, unit in enumerate(units) if unit.category == "villa" and unit.phone and unit.email][
            :2
        ]
        units[first] = replace(units[first], raw_phone="12345.0", phone=None)
        units[second] = replace(units[second], raw_email="not-an-address", email=None)
    return units, extras, wrong


def _special_index(units: list[SyntheticUnit], index: int) -> bool:
    return units[index].special


def build_society(seed: int = 11, quirks: Quirks | None = None) -> SyntheticSociety:
    """The synthetic society for ``seed``, with ``quirks`` injected (none by default)."""
    quirks = quirks or Quirks()
    rng = random.Random(seed)  # test data: the same seed gives the same file
    numbers = _Numbers(rng)
    motor_of = {f"{block}{no}": motor_id for motor_id, (block, nos) in _MOTORS.items() for no in nos}
    motors = [
        SyntheticMotor(
            unit_id=motor_id, block=block, meter_number=numbers(), flat_nos=tuple(f"{block}{n}" for n in nos)
        )
        for motor_id, (block, nos) in _MOTORS.items()
    ]
    units = _flats(rng, numbers, motor_of)
    # Three flats (off the motors, so their bills are simple to check) at ₹9 a unit with no fixed charge.
    for index in rng.sample([i for i, unit in enumerate(units) if unit.motor is None], 3):
        units[index] = replace(units[index], rate_per_unit=SPECIAL_RATE, fixed_charge=Decimal(0))
    units += _others(rng, numbers, start=len(units) + 1)
    units, extras, wrong = _apply_quirks(rng, quirks, units, motors)
    return SyntheticSociety(
        seed=seed,
        quirks=quirks,
        units=tuple(units),
        motors=tuple(motors),
        extras=tuple(extras),
        wrong_motor_units=tuple(wrong),
    )
