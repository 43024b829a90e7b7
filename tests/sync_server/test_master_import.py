"""The master-data import (sync_server/imports/master_apply.py) on a synthetic society, on SQLite and PostgreSQL:
counts, quarantine with reasons, warnings, motors and their members, idempotent re-import, corrected rows, dry
run, tariffs; and ``fieldmeter import master`` itself."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, func
from sqlmodel import Session, SQLModel, col, select
from typer.testing import CliRunner

from shared_billing.protocol import BillStatus, MeterKind, Role, UnitCategory
from shared_billing.tariff_file import parse_tariff_toml
from sync_server.cli import app as cli_app
from sync_server.db import create_db_engine, migrate
from sync_server.imports.master_apply import COUNT_KEYS, import_master
from sync_server.models import AuditEvent, Bill, Block, Meter, SharedMeterMember, TariffRecord, Unit, User
from sync_server.problems import Problem
from tests.support.society_file import BLESSINGS_FIXED, Quirks, SyntheticSociety, build_society
from tests.sync_server.factories import NOW

TZ = ZoneInfo("Asia/Kolkata")
MEMBERS_FROM = date(2025, 11, 1)
BLESSINGS_TOML = Path(__file__).resolve().parents[2] / "assets" / "tariffs" / "blessings.toml"


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = create_db_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def admin(engine: Engine) -> User:
    with Session(engine, expire_on_commit=False) as session:
        user = User(username="office", full_name="Office", role=Role.ADMIN, password_hash="-", created_at=NOW)
        session.add(user)
        session.commit()
        return user


def _import(engine: Engine, admin: User, society: SyntheticSociety | bytes, **options: object) -> dict[str, object]:
    data = society if isinstance(society, bytes) else society.data
    report = import_master(
        engine,
        data,
        actor=admin,
        now=NOW,
        tz=TZ,
        **({"members_from": MEMBERS_FROM} | options),  # type: ignore[arg-type]
    )
    assert report.kind == "master"
    return report.to_dict()


def _count(engine: Engine, model: type[SQLModel], *where: object) -> int:
    with Session(engine) as session:
        return int(session.exec(select(func.count()).select_from(model).where(*where)).one())  # type: ignore[arg-type]


def _audits(engine: Engine, action: str) -> list[AuditEvent]:
    with Session(engine) as session:
        return list(session.exec(select(AuditEvent).where(AuditEvent.action == action).order_by(col(AuditEvent.id))))


def _units(engine: Engine) -> dict[str, Unit]:
    with Session(engine) as session:
        return {unit.code: unit for unit in session.exec(select(Unit)).all()}


def _members(engine: Engine, label: str) -> set[str]:
    with Session(engine) as session:
        rows = session.exec(
            select(Unit.code)
            .join(SharedMeterMember, col(SharedMeterMember.unit_id) == col(Unit.id))
            .join(Meter, col(Meter.id) == col(SharedMeterMember.meter_id))
            .where(Meter.label == label, col(SharedMeterMember.valid_to).is_(None))
        ).all()
        return set(rows)


def _issues(report: dict[str, object], key: str) -> list[dict[str, object]]:
    issues = report[key]
    assert isinstance(issues, list)
    return issues


def test_a_clean_society_brings_in_every_unit_meter_and_motor(engine: Engine, admin: User) -> None:
    society = build_society()
    report = _import(engine, admin, society)

    assert {key: report[key] for key in COUNT_KEYS} == {
        "units_imported": 140,
        "units_updated": 0,
        "units_unchanged": 0,
        "meters_created": 138 + 6,  # two shops have no meter number; six motors
        "shared_meters": 6,
    }
    assert report["quarantined"] == []
    assert [(w["unit_id"], w["reason"]) for w in _issues(report, "warnings")] == [
        (unit_id, "no meter number: imported, needs a meter") for unit_id in society.units_without_meter
    ]
    units = _units(engine)
    assert set(units) == {unit.unit_id for unit in society.units}
    with Session(engine) as session:
        blocks = {block.id: block.code for block in session.exec(select(Block)).all()}
        meters = {meter.number: meter for meter in session.exec(select(Meter)).all()}
    assert set(blocks.values()) == {"B", "C", "D", "E", "F", "VILLA", "SCO"}
    for expected in society.units:
        unit = units[expected.unit_id]
        assert (unit.category.value, unit.unit_type, unit.floor) == (
            expected.category,
            expected.unit_type,
            expected.floor,
        )
        assert (
            blocks[unit.block_id] == {"flat": expected.flat_no[0], "villa": "VILLA", "shop": "SCO"}[expected.category]
        )
        assert (unit.consumer_name, unit.phone, unit.email) == (
            expected.consumer_name,
            expected.phone,
            expected.email,
        )
        # No tariff given: the file's common rate (₹12) is no override; the ₹9 flats with ₹0 fixed are.
        assert (unit.rate_override, unit.fixed_charge_waived) == (
            (Decimal(9), True) if expected.special else (None, False)
        )
        if expected.meter_number is not None:
            meter = meters[expected.meter_number]
            assert (meter.unit_id, meter.kind, meter.block_id) == (unit.id, MeterKind.UNIT, unit.block_id)
    assert sum(unit.special for unit in society.units) == 3
    for motor in society.motors:
        meter = meters[motor.meter_number]
        assert (meter.kind, meter.label, meter.unit_id, blocks[meter.block_id]) == (
            MeterKind.SHARED,
            motor.unit_id,
            None,
            motor.block,
        )
        assert _members(engine, motor.unit_id) == set(society.members(motor.unit_id))
    assert _count(engine, SharedMeterMember, SharedMeterMember.valid_from == MEMBERS_FROM) == 72
    # Every change audited, by the acting admin, naming the line it came from.
    created = _audits(engine, "unit.created")
    assert len(created) == 140
    assert {event.actor_id for event in created} == {admin.id}
    first = next(event for event in created if event.detail["code"]["new"] == "2BHK-B1-GF")
    assert first.reason == f"master-data import, line {society.lines['2BHK-B1-GF']}"
    assert len(_audits(engine, "meter.created")) == 144
    assert len(_audits(engine, "membership.added")) == 72
    assert len(_audits(engine, "block.created")) == 7


def test_every_row_carrying_a_shared_meter_number_is_quarantined_naming_the_others(engine: Engine, admin: User) -> None:
    society = build_society(quirks=Quirks(duplicate_meters=2))
    report = _import(engine, admin, society)

    carried = society.duplicated_meters
    assert sorted(len(ids) for ids in carried.values()) == [2, 3]
    quarantined = _issues(report, "quarantined")
    assert {(q["line"], q["unit_id"]) for q in quarantined} == set(society.quarantined.items())
    for number, ids in carried.items():
        for unit_id in ids:
            reason = next(str(q["reason"]) for q in quarantined if q["unit_id"] == unit_id)
            assert number in reason
            others = [other for other in ids if other != unit_id]
            assert all(f"{other} (line {society.lines[other]})" in reason for other in others), reason
            assert unit_id not in reason
    spoiled = {unit_id for ids in carried.values() for unit_id in ids}
    assert not spoiled & set(_units(engine))  # none of them, not even the first
    assert report["units_imported"] == 140 - 5
    assert _count(engine, Meter, col(Meter.number).in_(carried)) == 0


def test_a_malformed_line_in_the_middle_stops_nothing_else(engine: Engine, admin: User) -> None:
    quirks = Quirks(malformed_line=True, missing_unit_id=True, bad_value=True, unknown_shape=True)
    society = build_society(quirks=quirks)
    report = _import(engine, admin, society)

    reasons = {q["line"]: (q["unit_id"], q["reason"]) for q in _issues(report, "quarantined")}
    assert {line: unit_id for line, (unit_id, _) in reasons.items()} == society.quarantined
    assert len(reasons) == 4
    texts = [str(reason) for _, reason in reasons.values()]
    assert texts[0].startswith("not valid JSON")
    assert texts[1] == "no Unit_ID"
    assert texts[2] == "Fixed Charge: '₹fourteen' is not an amount in rupees and paise"
    assert texts[3].startswith("unit id 'PENTHOUSE-Z1' has no known shape")
    assert report["units_imported"] == 140
    assert report["shared_meters"] == 6
    assert {"2BHK-E9-SF", "PENTHOUSE-Z1"}.isdisjoint(_units(engine))
    # Lines after the bad ones keep their own numbers in the report.
    assert society.lines["SCO-11"] == len(society.jsonl.splitlines())
    assert {w["line"] for w in _issues(report, "warnings")} == {
        society.lines[unit_id] for unit_id in society.units_without_meter
    }


def test_the_same_file_again_changes_nothing(engine: Engine, admin: User) -> None:
    society = build_society(quirks=Quirks.all())
    first = _import(engine, admin, society)
    events = _count(engine, AuditEvent)

    again = _import(engine, admin, society)

    assert {key: again[key] for key in COUNT_KEYS} == {
        "units_imported": 0,
        "units_updated": 0,
        "units_unchanged": first["units_imported"],
        "meters_created": 0,
        "shared_meters": 6,
    }
    assert again["quarantined"] == first["quarantined"]
    assert again["warnings"] == first["warnings"]
    assert _count(engine, AuditEvent) == events


def test_a_corrected_file_updates_the_changed_rows(engine: Engine, admin: User) -> None:
    society = build_society()
    _import(engine, admin, society)
    renamed = society.units[3].unit_id
    renumbered = society.units[10]
    dropped = society.motor("MOTOR-F2").flat_nos[-1]
    corrected = (
        society.with_unit(renamed, consumer_name="Corrected Name")
        .with_unit(renumbered.unit_id, meter_number="48000001")
        .with_motor("MOTOR-F2", flat_nos=society.motor("MOTOR-F2").flat_nos[:-1])
    )

    report = _import(engine, admin, corrected, members_from=date(2025, 12, 1))

    assert {key: report[key] for key in COUNT_KEYS} == {
        "units_imported": 0,
        "units_updated": 2,
        "units_unchanged": 138,
        "meters_created": 0,
        "shared_meters": 6,
    }
    units = _units(engine)
    assert units[renamed].consumer_name == "Corrected Name"
    [update] = [e for e in _audits(engine, "unit.updated") if e.entity_id == str(units[renamed].id)]
    assert update.detail == {"consumer_name": {"old": society.unit(renamed).consumer_name, "new": "Corrected Name"}}
    with Session(engine) as session:
        meter = session.exec(select(Meter).where(Meter.unit_id == units[renumbered.unit_id].id)).one()
        assert meter.number == "48000001"  # no readings yet: renumbered, not a second meter
        ended = session.exec(
            select(SharedMeterMember, Unit.code)
            .join(Unit, col(Unit.id) == col(SharedMeterMember.unit_id))
            .where(col(SharedMeterMember.valid_to).is_not(None))
        ).all()
    assert {(code, member.valid_to) for member, code in ended} == {
        (unit_id, date(2025, 12, 1)) for unit_id in society.members("MOTOR-F2") if unit_id.split("-")[1] == dropped
    }
    assert len(ended) == 3
    assert len(_audits(engine, "membership.ended")) == 3
    assert _members(engine, "MOTOR-F2") == set(corrected.members("MOTOR-F2"))


def test_a_dry_run_writes_nothing_and_counts_the_same(engine: Engine, admin: User) -> None:
    society = build_society(quirks=Quirks.all())
    dry = _import(engine, admin, society, dry_run=True)

    assert _count(engine, Unit) == _count(engine, Meter) == _count(engine, Block) == 0
    assert _count(engine, SharedMeterMember) == _count(engine, AuditEvent) == 0

    real = _import(engine, admin, society)
    assert real == dry
    assert dry["units_imported"] == 135


def test_a_flat_naming_another_motor_is_warned_and_shares_the_motor_listing_it(engine: Engine, admin: User) -> None:
    society = build_society(quirks=Quirks(wrong_motor=True))
    report = _import(engine, admin, society)

    [flat] = society.wrong_motor_units
    [warning] = [w for w in _issues(report, "warnings") if w["unit_id"] == flat]
    motor_c = society.motor("MOTOR-C").meter_number
    assert warning["line"] == society.lines[flat]
    assert warning["reason"] == (
        f"Water Motor Meter No {motor_c} names MOTOR-C, whose line does not list {society.unit(flat).flat_no}: "
        f"it shares MOTOR-B, whose line lists {society.unit(flat).flat_no}"
    )
    assert flat in _members(engine, "MOTOR-B")
    assert flat not in _members(engine, "MOTOR-C")


def test_invalid_contact_details_are_left_out_with_a_warning(engine: Engine, admin: User) -> None:
    society = build_society(quirks=Quirks(bad_contact=True))
    report = _import(engine, admin, society)

    reasons = {w["unit_id"]: w["reason"] for w in _issues(report, "warnings") if "not valid" in str(w["reason"])}
    assert reasons == {
        "VILLA-A1": "Phone Number '12345' is not valid: imported without it",
        "VILLA-A3": "Email 'not-an-address' is not valid: imported without it",
    }
    units = _units(engine)
    assert units["VILLA-A1"].phone is None
    assert units["VILLA-A1"].email == society.unit("VILLA-A1").email
    assert units["VILLA-A3"].email is None
    assert units["VILLA-A3"].phone == society.unit("VILLA-A3").phone


def _store_blessings(engine: Engine) -> int:
    [version] = parse_tariff_toml(BLESSINGS_TOML.read_text(encoding="utf-8"), source="blessings.toml").versions
    with Session(engine) as session:
        row = TariffRecord(
            code="BLESSINGS@2020-01-01", name=version.name, valid_from=date(2020, 1, 1), config=version.to_dict()
        )
        session.add(row)
        session.commit()
        assert row.id is not None
        return row.id


def test_with_a_tariff_new_units_are_billed_on_it_and_the_file_is_compared_with_it(engine: Engine, admin: User) -> None:
    tariff_id = _store_blessings(engine)
    society = build_society()
    odd = next(unit for unit in society.units if unit.unit_type == "VILLA")
    society = society.with_unit(odd.unit_id, fixed_charge=Decimal(1900))

    report = _import(engine, admin, society, tariff_code="BLESSINGS")

    assert report["units_imported"] == 140
    units = _units(engine)
    assert {unit.tariff_id for unit in units.values()} == {tariff_id}
    special = {code for code, unit in units.items() if unit.rate_override is not None}
    assert special == {unit.unit_id for unit in society.units if unit.special}
    assert all(units[code].rate_override == 9 and units[code].fixed_charge_waived for code in special)
    assert [w for w in _issues(report, "warnings") if w["unit_id"] == odd.unit_id] == [
        {
            "line": society.lines[odd.unit_id],
            "unit_id": odd.unit_id,
            "reason": f"Fixed Charge ₹1900.00 differs from tariff BLESSINGS's ₹{BLESSINGS_FIXED['VILLA']} for VILLA: "
            "the tariff's is billed",
        }
    ]
    assert units[odd.unit_id].rate_override is None
    assert not units[odd.unit_id].fixed_charge_waived


def test_an_unknown_tariff_is_refused_and_nothing_is_written(engine: Engine, admin: User) -> None:
    with pytest.raises(Problem) as refused:
        _import(engine, admin, build_society(), tariff_code="NOPE")
    assert refused.value.code == "import.unknown_tariff"
    assert "NOPE" in refused.value.message
    assert _count(engine, Unit) == _count(engine, AuditEvent) == 0


def test_a_file_that_is_not_utf8_is_refused_whole(engine: Engine, admin: User) -> None:
    with pytest.raises(Problem) as refused:
        _import(engine, admin, b'{"output": "Unit_ID: SCO-1\xff"}\n')
    assert refused.value.code == "import.unreadable"


def test_a_meter_number_that_is_another_units_meter_in_the_directory_is_quarantined(
    engine: Engine, admin: User
) -> None:
    society = build_society()
    _import(engine, admin, society)
    taken = society.units[0]
    moved = society.units[1]
    report = _import(engine, admin, society.with_unit(moved.unit_id, meter_number=taken.meter_number))

    # Within the file both rows now carry one number: both quarantined, the directory untouched.
    assert {q["unit_id"] for q in _issues(report, "quarantined")} == {taken.unit_id, moved.unit_id}
    # Without the first unit's row, the directory still gives its number to it: the second row is refused.
    without_taken = replace(society, units=tuple(unit for unit in society.units if unit != taken))
    report = _import(engine, admin, without_taken.with_unit(moved.unit_id, meter_number=taken.meter_number))

    assert [(q["unit_id"], q["reason"]) for q in _issues(report, "quarantined")] == [
        (moved.unit_id, f"meter number {taken.meter_number} is unit {taken.unit_id}'s meter in the directory")
    ]
    assert (report["units_updated"], report["units_unchanged"]) == (0, 138)
    with Session(engine) as session:
        meter = session.exec(select(Meter).where(Meter.number == taken.meter_number)).one()
        assert meter.unit_id == _units(engine)[taken.unit_id].id


def test_a_membership_change_into_a_billed_month_is_warned_about_and_not_made(engine: Engine, admin: User) -> None:
    tariff_id = _store_blessings(engine)
    society = build_society()
    _import(engine, admin, society)
    member = society.members("MOTOR-F2")[0]
    with Session(engine) as session:
        unit = session.exec(select(Unit).where(Unit.code == member)).one()
        session.add(
            Bill(
                status=BillStatus.DRAFT,
                unit_id=unit.id or 0,
                period="2025-11",
                tariff_id=tariff_id,
                lines=[],
                trace=[],
                total=Decimal(0),
                round_off=Decimal(0),
                payable=Decimal(0),
                created_at=NOW,
                created_by_id=admin.id or 0,
            )
        )
        session.commit()
    shorter = society.with_motor("MOTOR-F2", flat_nos=society.motor("MOTOR-F2").flat_nos[:1])

    report = _import(engine, admin, shorter, members_from=date(2025, 11, 15))

    refused = [w for w in _issues(report, "warnings") if w["unit_id"] == "MOTOR-F2"]
    assert len(refused) == 3
    assert all("billed shares never change" in str(w["reason"]) for w in refused)
    assert _members(engine, "MOTOR-F2") == set(society.members("MOTOR-F2"))
    assert _audits(engine, "membership.ended") == []


def test_parsing_cleans_the_files_artefacts() -> None:
    from sync_server.imports.master_file import parse_master

    line = {
        "input": "Provide the master data details for unit VILLA-A6&A7 (flat A6 & A7).",
        "output": "Unit_ID: VILLA-A6&A7\nFlat no: A6 & A7\nClient Name: nan\nMeter No.: 40123456.0\n"
        "Fixed Charge: ₹1,857.0\nRate Per Unit: ₹12\nPhone Number: 9814012345.0\nEmail: ",
    }
    motor = {"output": "Unit_ID: MOTOR-D1\nFlat no: D1, D2 ,D3\nFloor: nan\nMeter No.: 40999999\nFixed Charge: ₹0"}
    parsed = parse_master(f"{json.dumps(line)}\n\n{json.dumps(motor)}\n".encode())

    assert parsed.quarantined == []
    assert parsed.warnings == []
    [villa] = parsed.units
    assert (villa.category, villa.unit_type, villa.block, villa.floor) == (UnitCategory.VILLA, "VILLA", "VILLA", None)
    assert (villa.consumer_name, villa.meter_number, villa.phone, villa.email) == (
        None,
        "40123456",
        "9814012345",
        None,
    )
    assert (villa.fixed_charge, villa.rate_per_unit) == (Decimal("1857.00"), Decimal("12.00"))
    assert str(villa.rate_per_unit) == "12.00"
    [pump] = parsed.motors
    assert (pump.line, pump.block, pump.meter_number, pump.flat_nos) == (3, "D", "40999999", ("D1", "D2", "D3"))


@pytest.mark.parametrize(
    ("written", "rate", "problem"),
    [
        ("₹4.125", "4.125", None),  # tariff orders write rates finer than the paisa
        ("₹4.1250", "4.125", None),
        ("₹4.12345", None, "Rate Per Unit: '₹4.12345' is not an amount in up to four decimal places"),
    ],
)
def test_a_rate_per_unit_keeps_four_places_and_refuses_more(
    written: str, rate: str | None, problem: str | None
) -> None:
    from sync_server.imports.master_file import parse_master

    line = {
        "output": "Unit_ID: 2BHK-A1-GF\nFlat no: A1\nMeter No.: 40123456\nFixed Charge: ₹1474\n"
        f"Rate Per Unit: {written}"
    }
    parsed = parse_master(f"{json.dumps(line)}\n".encode())
    if problem is None:
        [unit] = parsed.units
        assert str(unit.rate_per_unit) == rate
    else:
        assert [issue.reason for issue in parsed.quarantined] == [problem]


def _cli_database(tmp_path: Path) -> Path:
    data_dir = tmp_path / "data"
    engine = create_db_engine(f"sqlite:///{data_dir / 'fieldmeter.db'}")
    migrate(engine)
    with Session(engine) as session:
        session.add(User(username="office", full_name="Office", role=Role.ADMIN, password_hash="-", created_at=NOW))
        session.commit()
    engine.dispose()
    return data_dir


def test_the_command_prints_the_json_report_and_writes_the_quarantine_csv(tmp_path: Path) -> None:
    data_dir = _cli_database(tmp_path)
    society = build_society(quirks=Quirks(duplicate_meters=1, malformed_line=True))
    source = tmp_path / "master.jsonl"
    source.write_bytes(society.data)
    runner = CliRunner()
    env = {"FIELDMETER_NOW": NOW.isoformat(), "DATABASE_URL": "", "FIELDMETER_DATABASE_URL": ""}
    args = ["import", "master", str(source), "--data-dir", str(data_dir), "--json"]

    dry = runner.invoke(cli_app, [*args, "--dry-run"], env=env)
    result = runner.invoke(cli_app, [*args, "--report", str(tmp_path / "quarantine.csv")], env=env)

    assert (dry.exit_code, result.exit_code) == (0, 0), (dry.output, result.output)
    document = json.loads(result.stdout)
    assert json.loads(dry.stdout) == document
    assert list(document) == [*COUNT_KEYS, "quarantined", "warnings"]
    assert document["units_imported"] == 137
    assert document["shared_meters"] == 6
    assert {q["line"]: q["unit_id"] for q in document["quarantined"]} == society.quarantined
    assert all(set(issue) == {"line", "unit_id", "reason"} for issue in document["quarantined"] + document["warnings"])
    rows = list(csv.DictReader(io.StringIO((tmp_path / "quarantine.csv").read_text(encoding="utf-8"))))
    assert [(int(row["line"]), row["unit_id"]) for row in rows] == list(society.quarantined.items())
    assert all(row["reason"] for row in rows)
    engine = create_db_engine(f"sqlite:///{data_dir / 'fieldmeter.db'}")
    try:
        assert _count(engine, Unit) == 137
        assert {e.actor_id for e in _audits(engine, "unit.created")} == {1}
    finally:
        engine.dispose()


def test_the_command_exits_2_on_a_file_it_cannot_use(tmp_path: Path) -> None:
    data_dir = _cli_database(tmp_path)
    runner = CliRunner()
    env = {"DATABASE_URL": "", "FIELDMETER_DATABASE_URL": ""}
    missing = runner.invoke(
        cli_app, ["import", "master", str(tmp_path / "none.jsonl"), "--data-dir", str(data_dir)], env=env
    )
    binary = tmp_path / "binary.jsonl"
    binary.write_bytes(b"\xff\xfe\x00")
    unreadable = runner.invoke(cli_app, ["import", "master", str(binary), "--data-dir", str(data_dir)], env=env)
    good = tmp_path / "good.jsonl"
    society = build_society()
    good.write_bytes(society.data)
    summary = runner.invoke(cli_app, ["import", "master", str(good), "--data-dir", str(data_dir)], env=env)

    assert (missing.exit_code, unreadable.exit_code, summary.exit_code) == (2, 2, 0)
    assert "not UTF-8" in unreadable.output
    assert "Units: 140 imported, 0 updated, 0 unchanged; meters created: 144; shared meters: 6." in summary.stdout
    assert f"line {society.lines['SCO-11']} SCO-11: no meter number: imported, needs a meter" in summary.stdout


def test_motor_lists_name_buildings_or_single_flats_and_disagreements_are_warned() -> None:
    from sync_server.imports.master_file import parse_master
    from sync_server.imports.master_rules import motor_members

    def flat(unit_id: str, motor: str) -> str:
        number = 40000000 + int(unit_id[6]) * 10 + ("GF", "FF").index(unit_id[-2:])
        output = f"Unit_ID: {unit_id}\nMeter No.: {number}\nWater Motor Meter No: {motor}"
        return json.dumps({"output": output})

    lines = [
        flat("2BHK-B5-GF", "111.0"),
        flat("2BHK-B5-FF", "111.0"),
        flat("2BHK-B6-GF", "nan"),  # listed by MOTOR-B with its floor, names no motor
        flat("2BHK-B7-GF", "999.0"),  # names a number no motor has, and no motor lists it
        json.dumps({"output": "Unit_ID: MOTOR-B\nFlat no: B5, b6-gf, B9\nMeter No.: 111"}),
    ]
    parsed = parse_master("\n".join(lines).encode())
    members, warnings = motor_members(parsed.units, parsed.motors)

    assert members == {"MOTOR-B": ["2BHK-B5-GF", "2BHK-B5-FF", "2BHK-B6-GF"]}
    assert [(w.line, w.unit_id, w.reason) for w in warnings] == [
        (5, "MOTOR-B", "lists flat B9, but no unit of it was imported from the file"),
        (3, "2BHK-B6-GF", "no Water Motor Meter No, but it shares MOTOR-B, whose line lists B6"),
        (4, "2BHK-B7-GF", "Water Motor Meter No 999 is no motor's meter number in the file: it shares no motor"),
    ]


def test_a_unit_id_given_twice_quarantines_both_rows(engine: Engine, admin: User) -> None:
    society = build_society()
    text = society.jsonl
    first = text.splitlines()[0]
    twice = text + first.replace(society.units[0].meter_number or "", "47000000") + "\n"

    report = _import(engine, admin, twice.encode())

    line = society.lines[society.units[0].unit_id]
    assert [(q["line"], q["unit_id"], q["reason"]) for q in _issues(report, "quarantined")] == [
        (line, "2BHK-B1-GF", "unit id 2BHK-B1-GF is carried by other rows too: 2BHK-B1-GF (line 147)"),
        (147, "2BHK-B1-GF", f"unit id 2BHK-B1-GF is carried by other rows too: 2BHK-B1-GF (line {line})"),
    ]
    assert "2BHK-B1-GF" not in _units(engine)


def test_a_unit_given_its_meter_in_the_console_is_not_asked_for_one_again(engine: Engine, admin: User) -> None:
    society = build_society()
    _import(engine, admin, society)
    [shop, *_] = society.units_without_meter
    with Session(engine) as session:
        unit = session.exec(select(Unit).where(Unit.code == shop)).one()
        session.add(Meter(number="46000001", block_id=unit.block_id, unit_id=unit.id, kind=MeterKind.UNIT))
        session.commit()

    report = _import(engine, admin, society)

    assert [w["unit_id"] for w in _issues(report, "warnings")] == [
        unit_id for unit_id in society.units_without_meter if unit_id != shop
    ]
    assert report["units_unchanged"] == 140


def test_a_flat_moved_to_another_motor_leaves_one_and_joins_the_other(engine: Engine, admin: User) -> None:
    society = build_society()
    _import(engine, admin, society)
    d1, d2 = society.motor("MOTOR-D1"), society.motor("MOTOR-D2")
    moved = d1.flat_nos[-1]
    corrected = society.with_motor("MOTOR-D1", flat_nos=d1.flat_nos[:-1]).with_motor(
        "MOTOR-D2", flat_nos=(*d2.flat_nos, moved)
    )
    for unit in society.units:
        if unit.flat_no == moved:
            corrected = corrected.with_unit(unit.unit_id, motor="MOTOR-D2")

    report = _import(engine, admin, corrected, members_from=date(2026, 1, 1))

    assert report["warnings"] == _import(engine, admin, corrected, members_from=date(2026, 1, 1))["warnings"]
    flats = {unit.unit_id for unit in society.units if unit.flat_no == moved}
    assert len(flats) == 3
    assert _members(engine, "MOTOR-D2") == set(society.members("MOTOR-D2")) | flats
    assert _members(engine, "MOTOR-D1") == set(society.members("MOTOR-D1")) - flats
    assert report["units_updated"] == 0  # a flat's own fields did not change: only the motors' members did
    with Session(engine) as session:
        rows = session.exec(
            select(SharedMeterMember, Meter)
            .join(Meter, col(Meter.id) == col(SharedMeterMember.meter_id))
            .join(Unit, col(Unit.id) == col(SharedMeterMember.unit_id))
            .where(col(Unit.code).in_(flats))
        ).all()
        spells = [(member.valid_from, member.valid_to, meter.label) for member, meter in rows]
    assert sorted(spells, key=lambda spell: (str(spell[2]), spell[0])) == [
        (MEMBERS_FROM, date(2026, 1, 1), "MOTOR-D1"),
        (MEMBERS_FROM, date(2026, 1, 1), "MOTOR-D1"),
        (MEMBERS_FROM, date(2026, 1, 1), "MOTOR-D1"),
        (date(2026, 1, 1), None, "MOTOR-D2"),
        (date(2026, 1, 1), None, "MOTOR-D2"),
        (date(2026, 1, 1), None, "MOTOR-D2"),
    ]
