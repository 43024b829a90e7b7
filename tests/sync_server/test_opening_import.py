"""The opening position import (sync_server/imports/openings.py): opening readings and balances from CSV and XLSX,
on SQLite and PostgreSQL, with the demo society (pinned at 20 November 2025, 10:00 IST) as the directory."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from openpyxl import Workbook
from sqlalchemy import Engine, func
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from sync_server.cli import app as cli_app
from sync_server.config import Settings
from sync_server.imports.cells import CellError, parse_amount, parse_day
from sync_server.imports.openings import import_opening_balances, import_opening_readings
from sync_server.imports.report import ImportReport
from sync_server.imports.tabular import TabularError, read_table
from sync_server.models import (
    AuditEvent,
    Bill,
    BillStatus,
    LedgerEntry,
    LedgerEntryKind,
    Meter,
    Reading,
    ReadingSource,
    ReadingStatus,
    SyncEvent,
    SyncEventKind,
    Unit,
    User,
)
from sync_server.problems import Problem
from tests.sync_server.factories import NOW, auth, jpeg_bytes, meters_by_unit, push, reading, sha256

# The demo's history: every meter read on 25 October; the motor's flats B5-FF, B6-FF, B18-FF read again this month.
OPENING_DAY = "2025-10-31"


@pytest.fixture
def engine(demo_app: FastAPI) -> Engine:
    engine: Engine = demo_app.state.context.engine
    return engine


@pytest.fixture
def admin(engine: Engine) -> User:
    with Session(engine) as session:
        return session.exec(select(User).where(User.username == "admin")).one()


def _number(engine: Engine, unit_code: str) -> str:
    with Session(engine) as session:
        meter = session.exec(select(Meter).join(Unit, col(Unit.id) == col(Meter.unit_id)).where(Unit.code == unit_code))
        return meter.one().number


def _readings(engine: Engine, data: bytes, admin: User, settings: Settings, **options: Any) -> ImportReport:
    return import_opening_readings(engine, data, actor=admin, now=NOW, tz=settings.tz, **options)


def _balances(engine: Engine, data: bytes, admin: User, settings: Settings, **options: Any) -> ImportReport:
    return import_opening_balances(engine, data, actor=admin, now=NOW, tz=settings.tz, **options)


def _state(engine: Engine) -> tuple[int, int, int, int]:
    """Readings, ledger entries, audit events and sync events stored."""
    with Session(engine) as session:
        return tuple(  # type: ignore[return-value]
            session.exec(select(func.count()).select_from(model)).one()
            for model in (Reading, LedgerEntry, AuditEvent, SyncEvent)
        )


def _opening(engine: Engine, number: str) -> Reading:
    with Session(engine) as session:
        return session.exec(
            select(Reading)
            .join(Meter, col(Meter.id) == col(Reading.meter_id))
            .where(Meter.number == number, Reading.source == ReadingSource.IMPORT)
        ).one()


def _reasons(report: ImportReport) -> dict[int, str]:
    return {issue.line: issue.reason for issue in report.quarantined}


def _xlsx(rows: list[list[Any]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


# --- Pure: the file and its cells ---


def test_a_csv_with_bom_semicolons_and_a_quoted_line_break_keeps_source_lines() -> None:
    data = '\ufeffMeter No. ; DATE;value\r\n 1 ;2;"3\n4"\r\n;;\r\n5;6;7\r\n'.encode()
    table = read_table(data)
    assert table.columns({"meter": ("meter no.",), "date": ("date",), "value": ("value",)}) == {
        "meter": 0,
        "date": 1,
        "value": 2,
    }
    assert [(row.line, row.cells) for row in table.rows] == [(2, ("1", "2", "3\n4")), (5, ("5", "6", "7"))]


def test_an_xlsx_is_told_by_its_content_and_dates_and_floats_read_as_text() -> None:
    data = _xlsx([[], ["meter", "date", "value"], ["A1", datetime(2025, 10, 31), 1234.0], [77, date(2025, 1, 2), 12.5]])
    table = read_table(data)
    assert table.header_line == 2
    assert [(row.line, row.cells) for row in table.rows] == [
        (3, ("A1", "2025-10-31", "1234")),
        (4, ("77", "2025-01-02", "12.5")),
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest", "old Excel (.xls)"),
        (b"PK\x03\x04broken", "zip is damaged"),
        ("meter,date\nß,1\n".encode("latin-1"), "UTF-8"),
        (b'meter,date,value\nx,"unclosed\n', "cannot be read"),
    ],
)
def test_files_that_are_no_table_say_why(data: bytes, message: str) -> None:
    with pytest.raises(TabularError, match=re.escape(message)):
        read_table(data)


def test_a_missing_or_doubled_column_is_named() -> None:
    table = read_table(b"Meter,Value,meter\n1,2,3\n")
    with pytest.raises(TabularError, match="'meter' column more than once"):
        table.columns({"meter": ("meter",)})
    with pytest.raises(TabularError, match="lacks the column 'date'"):
        table.columns({"date": ("date",)})


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("2025-10-31", date(2025, 10, 31)),
        ("31-10-2025", date(2025, 10, 31)),
        ("31/10/2025", date(2025, 10, 31)),
        ("1/2/2025", date(2025, 2, 1)),  # day first, as India writes it
        ("45961", date(2025, 10, 31)),  # an Excel serial day
        ("2025-10-31 00:00:00", date(2025, 10, 31)),
    ],
)
def test_dates_in_the_forms_clerks_write(text: str, day: date) -> None:
    assert parse_day(text) == day


@pytest.mark.parametrize("text", ["", "31-02-2025", "2025/10/31", "1999-12-31", "yesterday", "2025-10-31 09:30:00"])
def test_dates_that_are_refused(text: str) -> None:
    with pytest.raises(CellError):
        parse_day(text)


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("₹1,23,456.50", Decimal("123456.50")),
        ("12,34,567", Decimal("1234567.00")),
        ("123,456.5", Decimal("123456.50")),
        ("-₹500", Decimal("-500.00")),
        ("₹-500", Decimal("-500.00")),
        ("(₹1,000)", Decimal("-1000.00")),
        ("Rs. 2,311.00", Decimal("2311.00")),
        ("−42", Decimal("-42.00")),
        ("-0", Decimal("0.00")),
    ],
)
def test_amounts_with_rupee_signs_and_indian_grouping(text: str, amount: Decimal) -> None:
    parsed = parse_amount(text)
    assert (parsed, str(parsed)) == (amount, str(amount))


@pytest.mark.parametrize("text", ["", "nan", "1,2345", "12.345", "-₹-5", "1e3", "₹99,99,99,99,999.00"])
def test_amounts_that_are_refused(text: str) -> None:
    with pytest.raises(CellError):
        parse_amount(text)


# --- Opening readings ---


def _quirky_readings(engine: Engine) -> tuple[bytes, dict[str, str]]:
    units = ["VILLA-A1", "VILLA-A2", "VILLA-A3", "SCO-1", "SCO-2", "4BHK-B5-FF", "2BHK-C1-GF", "2BHK-C1-FF"]
    n = {unit: _number(engine, unit) for unit in units}
    lines = [
        "Meter No.;Date;Value",  # 1: the header, semicolons (and a BOM) as a spreadsheet saves them
        f"{n['VILLA-A1']};31-10-2025;005000",  # 2
        f"{n['VILLA-A2']}.0;31/10/2025;7000",  # 3: a float artefact on the number
        f"{n['SCO-1']};2025-10-31;123.00",  # 4: a spreadsheet's zeros beyond the meter's (no) decimals
        "99999999;2025-10-31;10",  # 5: unknown meter
        f"{n['SCO-2']};31-02-2025;10",  # 6: no such day
        f"{n['2BHK-C1-GF']};2025-10-31;1234567",  # 7: more digits than its 6 dials
        f"{n['2BHK-C1-FF']};2025-12-01;10",  # 8: after today
        f"{n['VILLA-A3']};2025-10-31;10",  # 9: the same meter twice
        f"{n['4BHK-B5-FF']};2025-10-31;10",  # 10: read and approved this month already
        f"{n['VILLA-A3']};2025-10-30;11",  # 11
    ]
    return ("\ufeff" + "\r\n".join(lines) + "\r\n").encode(), n


def test_opening_readings_from_a_quirky_csv_quarantine_bad_rows_with_reasons(
    engine: Engine, admin: User, settings: Settings
) -> None:
    data, n = _quirky_readings(engine)
    before = _state(engine)
    report = _readings(engine, data, admin, settings)
    assert report.counts == {"readings_imported": 3, "readings_updated": 0, "readings_unchanged": 0}
    reasons = _reasons(report)
    assert sorted(reasons) == [5, 6, 7, 8, 9, 10, 11]
    assert "no meter 99999999" in reasons[5]
    assert "no calendar day" in reasons[6]
    assert "6 dials" in reasons[7]
    assert "after today" in reasons[8]
    assert "line 11" in reasons[9]
    assert "line 9" in reasons[11]
    assert "approved reading of 2025-11" in reasons[10]
    assert {issue.unit_id for issue in report.quarantined if issue.line in (9, 11)} == {n["VILLA-A3"]}

    villa = _opening(engine, n["VILLA-A1"])
    assert (villa.value, villa.value_text, villa.status) == (Decimal(5000), "5000", ReadingStatus.APPROVED)
    # The start of 31 October in India, stored in UTC (still 30 October there); its period is October.
    assert villa.captured_at == datetime(2025, 10, 30, 18, 30, tzinfo=UTC)
    assert (villa.period, villa.photo_required, villa.decided_by_id) == ("2025-10", False, admin.id)
    assert _opening(engine, n["VILLA-A2"]).value == Decimal(7000)
    assert _opening(engine, n["SCO-1"]).value_text == "123"
    after = _state(engine)
    assert after[0] - before[0] == 3
    assert after[2] - before[2] == 3  # one audit event a reading
    with Session(engine) as session:
        events = session.exec(select(AuditEvent).where(AuditEvent.action == "reading.opening_imported")).all()
        assert {event.detail["meter"] for event in events} == {n["VILLA-A1"], n["VILLA-A2"], n["SCO-1"]}
        assert {event.reason for event in events} == {
            "opening readings import, line 2",
            "opening readings import, line 3",
            "opening readings import, line 4",
        }
        # The engineers' phones learn the new previous readings on their next pull.
        previous = session.exec(select(SyncEvent).where(SyncEvent.kind == SyncEventKind.PREVIOUS)).all()
        assert len(previous) == 3


def test_the_engineer_pulls_the_opening_reading_as_previous(
    client: TestClient, engine: Engine, admin: User, settings: Settings
) -> None:
    number = _number(engine, "VILLA-A1")
    _readings(engine, f"meter,date,value\n{number},{OPENING_DAY},5000\n".encode(), admin, settings)
    meter = meters_by_unit(client, auth(client, "engineer1"))["VILLA-A1"]
    assert meter["previous"]["value"] == "5000"


def test_the_same_file_again_changes_nothing_and_a_corrected_row_updates(
    engine: Engine, admin: User, settings: Settings
) -> None:
    data, n = _quirky_readings(engine)
    _readings(engine, data, admin, settings)
    before = _state(engine)
    again = _readings(engine, data, admin, settings)
    assert again.counts == {"readings_imported": 0, "readings_updated": 0, "readings_unchanged": 3}
    assert sorted(_reasons(again)) == [5, 6, 7, 8, 9, 10, 11]
    assert _state(engine) == before

    corrected = data.replace(f"{n['VILLA-A1']};31-10-2025;005000".encode(), f"{n['VILLA-A1']};30-10-2025;5100".encode())
    report = _readings(engine, corrected, admin, settings)
    assert report.counts == {"readings_imported": 0, "readings_updated": 1, "readings_unchanged": 2}
    villa = _opening(engine, n["VILLA-A1"])
    assert (villa.value, villa.captured_at.astimezone(settings.tz).date()) == (Decimal(5100), date(2025, 10, 30))
    with Session(engine) as session:
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "reading.opening_updated")).one()
        assert event.entity_id == str(villa.uuid)
        assert event.detail["value"] == {"old": "5000", "new": "5100"}
        assert event.detail["date"] == {"old": "2025-10-31", "new": "2025-10-30"}


def test_a_dry_run_writes_nothing_and_reports_the_same(engine: Engine, admin: User, settings: Settings) -> None:
    data, _ = _quirky_readings(engine)
    before = _state(engine)
    dry = _readings(engine, data, admin, settings, dry_run=True)
    assert _state(engine) == before
    real = _readings(engine, data, admin, settings)
    assert (dry.dry_run, real.dry_run) == (True, False)
    assert dry.to_dict() == real.to_dict()


def test_opening_readings_from_an_xlsx_with_excel_dates(engine: Engine, admin: User, settings: Settings) -> None:
    a1, a2, a3 = (_number(engine, f"VILLA-A{n}") for n in (1, 2, 3))
    data = _xlsx(
        [
            ["Meter Number", "Reading Date", "Value"],
            [int(a1), datetime(2025, 10, 31), 5000],
            [a2, "45960", 6000.0],  # a serial day as text: 30 October 2025
            [a3, datetime(2025, 10, 31), 12.5],  # a 0-decimal meter
        ]
    )
    seen: list[tuple[int, int]] = []
    report = _readings(engine, data, admin, settings, progress=lambda done, total: seen.append((done, total)))
    assert report.counts["readings_imported"] == 2
    assert _reasons(report).keys() == {4}
    assert "decimal" in _reasons(report)[4]
    assert _opening(engine, a2).captured_at.astimezone(settings.tz).date() == date(2025, 10, 30)
    assert seen == [(0, 3), (1, 3), (2, 3), (3, 3)]


def test_files_that_cannot_be_used_are_problems(engine: Engine, admin: User, settings: Settings) -> None:
    with pytest.raises(Problem) as empty:
        _readings(engine, b"  \n", admin, settings)
    assert empty.value.code == "import.empty_file"
    with pytest.raises(Problem) as missing:
        _readings(engine, b"meter,value\n1,2\n", admin, settings)
    assert (missing.value.code, "'date'" in missing.value.message) == ("import.unreadable", True)
    with pytest.raises(Problem) as balances:
        _balances(engine, b"unit;date\nSCO-1;2025-10-31\n", admin, settings)
    assert balances.value.code == "import.unreadable"


# --- Opening balances ---


def test_opening_balances_with_rupees_indian_grouping_and_credits(
    engine: Engine, admin: User, settings: Settings
) -> None:
    data = "\n".join(
        [
            "Unit,Amount,Date",
            '"VILLA-A1","₹1,23,456.50",31-10-2025',  # 2
            "sco-1,-₹500,",  # 3: a credit, lower case, no date (today)
            'SCO-2,"(2,000)",2025-10-31',  # 4: accounting parentheses
            "VILLA-A9,100,",  # 5: no such unit
            "VILLA-A2,abc,",  # 6: no amount
            "VILLA-A3,10,",  # 7: twice
            "VILLA-A3,10,",  # 8
            "VILLA-A4,10,2026-01-01",  # 9: after today
        ]
    ).encode()
    report = _balances(engine, data, admin, settings)
    assert report.kind == "opening_balances"
    assert report.counts == {"balances_imported": 3, "balances_updated": 0, "balances_unchanged": 0}
    reasons = _reasons(report)
    assert sorted(reasons) == [5, 6, 7, 8, 9]
    assert "no unit VILLA-A9" in reasons[5]
    assert "not rupees" in reasons[6]
    assert "line 8" in reasons[7]
    assert "after today" in reasons[9]
    with Session(engine) as session:
        entries = session.exec(
            select(Unit.code, LedgerEntry)
            .join(Unit, col(Unit.id) == col(LedgerEntry.unit_id))
            .where(LedgerEntry.kind == LedgerEntryKind.OPENING)
        ).all()
        booked = {code: (entry.amount, entry.booked_on) for code, entry in entries}
        audit = session.exec(select(AuditEvent).where(AuditEvent.action == "ledger.opening_imported")).all()
    assert booked == {
        "VILLA-A1": (Decimal("123456.50"), date(2025, 10, 31)),
        "SCO-1": (Decimal("-500.00"), NOW.astimezone(settings.tz).date()),
        "SCO-2": (Decimal("-2000.00"), date(2025, 10, 31)),
    }
    assert len(audit) == 3
    assert {event.detail["unit"]["new"] for event in audit} == {"VILLA-A1", "SCO-1", "SCO-2"}

    before = _state(engine)
    again = _balances(engine, data, admin, settings)
    assert again.counts == {"balances_imported": 0, "balances_updated": 0, "balances_unchanged": 3}
    assert _state(engine) == before
    corrected = _balances(engine, b"unit,amount\nSCO-1,-450\n", admin, settings)
    assert corrected.counts == {"balances_imported": 0, "balances_updated": 1, "balances_unchanged": 0}


def test_opening_balances_from_an_xlsx_dry_run_then_real(engine: Engine, admin: User, settings: Settings) -> None:
    data = _xlsx([["unit", "amount"], ["VILLA-A1", 1234.5], ["VILLA-A2", "₹ 2,311.00"]])
    before = _state(engine)
    dry = _balances(engine, data, admin, settings, dry_run=True)
    assert dry.counts["balances_imported"] == 2
    assert _state(engine) == before
    assert _balances(engine, data, admin, settings).counts["balances_imported"] == 2


# --- The first bill measures from the opening reading and carries the opening balance ---


def test_the_first_bill_measures_from_the_opening_reading_and_carries_the_opening_balance(
    client: TestClient, engine: Engine, admin: User, settings: Settings
) -> None:
    number = _number(engine, "VILLA-A1")
    readings = f"meter,date,value\n{number},{OPENING_DAY},5000\n".encode()
    balances = b'unit,amount,date\nVILLA-A1,"1,234",31-10-2025\n'
    assert _readings(engine, readings, admin, settings).counts["readings_imported"] == 1
    assert _balances(engine, balances, admin, settings).counts["balances_imported"] == 1

    engineer = auth(client, "engineer1")
    meter = meters_by_unit(client, engineer)["VILLA-A1"]
    photo = jpeg_bytes()
    item = reading(meter, value="5100", photo_sha256=sha256(photo))
    assert push(client, engineer, [item])[0]["outcome"] == "stored"
    client.put(f"/api/photos/{sha256(photo)}", content=photo, headers=engineer | {"Content-Type": "image/jpeg"})
    approved = client.post(f"/api/review/readings/{item['uuid']}/approve", headers=auth(client, "supervisor"))
    assert approved.status_code == 200, approved.text
    created = client.post("/api/bills", json={"reading_uuid": item["uuid"]}, headers=auth(client, "admin"))
    assert created.status_code == 201, created.text
    bill = created.json()
    # Blessings: 100 units × ₹12 + the villa's ₹1,857 fixed charge, plus ₹1,234 brought forward.
    energy = [line for line in bill["lines"] if line["code"] == "energy"]
    assert [(Decimal(line["quantity"]), Decimal(line["amount"])) for line in energy] == [
        (Decimal(100), Decimal(1200))
    ], bill["lines"]
    assert Decimal(bill["payable"]) == Decimal(100 * 12 + 1857 + 1234)
    ledger = client.get(f"/api/accounts/{bill['unit_id']}/ledger", headers=auth(client, "admin")).json()
    assert Decimal(ledger["balance"]) == Decimal(bill["payable"])
    assert sorted(entry["kind"] for entry in ledger["entries"]) == ["charge", "opening"]

    # Billed: the same files change nothing; a different value or amount is quarantined, not rewritten.
    assert _readings(engine, readings, admin, settings).counts["readings_unchanged"] == 1
    assert _balances(engine, balances, admin, settings).counts["balances_unchanged"] == 1
    moved = _readings(engine, readings.replace(b"5000", b"4990"), admin, settings)
    assert "already billed" in moved.quarantined[0].reason
    owed = _balances(engine, balances.replace(b"1,234", b"1,300"), admin, settings)
    assert "already billed" in owed.quarantined[0].reason
    assert _opening(engine, number).value == Decimal(5000)


def test_a_shared_meter_opening_is_refused_once_any_of_its_units_has_a_bill(
    engine: Engine, admin: User, settings: Settings
) -> None:
    with Session(engine) as session:
        motor = session.exec(select(Meter).where(Meter.label == "MOTOR-B")).one()
        flat = session.exec(select(Unit).where(Unit.code == "4BHK-B5-FF")).one()
        assert flat.id is not None
        assert flat.tariff_id is not None
        session.add(
            Bill(
                status=BillStatus.DRAFT,
                unit_id=flat.id,
                period="2025-09",
                tariff_id=flat.tariff_id,
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
        number = motor.number
    report = _readings(engine, f"meter,date,value\n{number},2025-10-01,100\n".encode(), admin, settings)
    assert report.counts["readings_imported"] == 0
    assert _reasons(report)[2].startswith("unit 4BHK-B5-FF has a bill for 2025-09 (draft)")


# --- The command line ---


@pytest.fixture
def env(demo_app: FastAPI, database_url: str, tmp_path: Path) -> dict[str, str]:
    return {
        "DATABASE_URL": database_url,
        "FIELDMETER_DATA_DIR": str(tmp_path / "data"),
        "FIELDMETER_NOW": NOW.isoformat(),
    }


def test_the_command_imports_both_files_and_writes_the_report(
    engine: Engine, env: dict[str, str], tmp_path: Path
) -> None:
    number = _number(engine, "VILLA-A1")
    readings = tmp_path / "readings.csv"
    readings.write_text(f"meter,date,value\n{number},{OPENING_DAY},5000\n99999999,{OPENING_DAY},1\n")
    balances = tmp_path / "balances.xlsx"
    balances.write_bytes(_xlsx([["unit", "amount"], ["VILLA-A1", "₹1,234"], ["NOPE", 1]]))
    report = tmp_path / "quarantine.csv"
    args = ["import", "openings", "--readings", str(readings), "--balances", str(balances), "--as", "admin"]

    dry = CliRunner().invoke(cli_app, [*args, "--dry-run", "--json"], env=env)
    assert dry.exit_code == 0, dry.output
    body = json.loads(dry.stdout)
    assert body["dry_run"] is True
    assert body["opening_readings"]["readings_imported"] == 1
    assert body["opening_balances"]["balances_imported"] == 1
    assert body["opening_balances"]["quarantined"] == [
        {"line": 3, "unit_id": "NOPE", "reason": "no unit NOPE in the directory"}
    ]
    with Session(engine) as session:
        assert session.exec(select(Reading).where(Reading.source == ReadingSource.IMPORT)).first() is None

    done = CliRunner().invoke(cli_app, [*args, "--report", str(report)], env=env)
    assert done.exit_code == 0, done.output
    assert "Opening readings: 1 imported, 0 updated, 0 unchanged; quarantined: 1 line(s)." in done.stdout
    assert "Opening balances: 1 imported" in done.stdout
    rows = list(csv.reader(io.StringIO(report.read_text(encoding="utf-8"))))
    assert rows[0] == ["file", "line", "unit_id", "reason"]
    assert sorted(row[:3] for row in rows[1:]) == [["balances.xlsx", "3", "NOPE"], ["readings.csv", "3", "99999999"]]
    assert _opening(engine, number).value == Decimal(5000)
    with Session(engine) as session:
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "ledger.opening_imported")).one()
        assert event.actor_id is not None
        assert NOW <= event.at < NOW + timedelta(hours=1)  # the server's pinned clock, not the machine's


def test_the_command_refuses_without_files_or_with_an_unusable_one(
    engine: Engine, env: dict[str, str], tmp_path: Path
) -> None:
    nothing = CliRunner().invoke(cli_app, ["import", "openings"], env=env)
    assert nothing.exit_code == 2
    bad = tmp_path / "bad.csv"
    bad.write_text("unit,total\nSCO-1,5\n")
    refused = CliRunner().invoke(cli_app, ["import", "openings", "--balances", str(bad)], env=env)
    assert refused.exit_code == 2
    assert "lacks the column 'amount'" in refused.output
