"""A month in the life of a society, on a real ``fieldmeter serve`` process restarted for each phase.

Issue 11, "Done when": the synthetic 146-row society (tests/support/society_file.py) is brought in with its opening
readings and balances, two engineers read November (reads, skips, a rollover, a replacement, a rejection and its
re-read), the supervisor approves, the scheduled bill run fires when the month ends in India (00:30 on the 1st,
Asia/Kolkata, while the process runs on TZ=UTC), the admin issues, the PDFs open, the accountant records a part, a
full and a late payment, the unpaid bills turn overdue by themselves, and December bills carry the arrears.

Every figure asserted is computed here from the society's facts and the readings the test chose, with plain
Decimal arithmetic (tests/support/month_figures.py), never by the billing engine. Each phase restarts the server
with its own ``FIELDMETER_NOW``; timeouts below are liveness bounds only.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import openpyxl
import pytest
from PIL import Image
from pypdf import PdfReader

from tests.support.month_figures import ExpectedBill, expected_bill, indian_rupees, late_fee, motor_shares
from tests.support.phased_server import PhaseApi, PhasedServer
from tests.support.society_file import SPECIAL_RATE, Quirks, SyntheticUnit, build_society

pytestmark = pytest.mark.slow

# --- the society and its people ---

SOCIETY = build_society(seed=11, quirks=Quirks(duplicate_meters=1))
ADMIN, ADMIN_PASSWORD = "asha.admin", "admin-chose-this-1"
TEMPORARY, OWN = "temporary-pass-1", "own-password-22"
SUPERVISOR, ACCOUNTANT, ENGINEER_1, ENGINEER_2 = "sunil.sup", "anita.acc", "ravi.eng", "meena.eng"
ENGINEER_1_BLOCKS = frozenset("BCD")  # the rest (E, F, villas, shops) is the second engineer's

# --- the phases: the server clock of each restart (the society's time; stored as UTC) ---

SETUP = "2026-10-31T10:00:00+05:30"
NOVEMBER_READS = "2026-11-25T11:00:00+05:30"
# The monthly run is due at 00:30 on the 1st in India, i.e. 19:00 UTC the day before; the server starts just before.
NOVEMBER_ENDS = "2026-12-01T00:29:50+05:30"
NOVEMBER_RUN_DUE = datetime(2026, 11, 30, 19, 0, tzinfo=UTC)
PAYMENTS = "2026-12-05T11:00:00+05:30"
AFTER_DUE = "2026-12-22T11:00:00+05:30"  # bills issued on 1 December are due on the 16th
DECEMBER_ENDS = "2027-01-01T00:29:50+05:30"
DECEMBER_RUN_DUE = datetime(2026, 12, 31, 19, 0, tzinfo=UTC)
JANUARY_RUN_DUE = datetime(2027, 1, 31, 19, 0, tzinfo=UTC)
OPENING_DAY = "2026-10-31"
LIVENESS_S = 90.0  # the longest wait for the server to do something by itself: a bound, not a measure

_T = TypeVar("_T")


# --- the month the test plans: what every meter reads, and the special cases ---


def _with_meter(units: Iterable[SyntheticUnit], category: str) -> list[SyntheticUnit]:
    return [unit for unit in units if unit.category == category and unit.meter_number is not None]


IMPORTED = SOCIETY.importable_units
VILLAS = _with_meter(IMPORTED, "villa")
SHOPS = _with_meter(IMPORTED, "shop")
FLATS = _with_meter(IMPORTED, "flat")
ROLLOVER = VILLAS[0].unit_id  # its register is near the top on 31 October and wraps in November
SKIPPED = {VILLAS[1].unit_id: "no_access", SHOPS[0].unit_id: "locked"}  # read in December instead
REPLACED = SHOPS[1].unit_id  # the engineer reports a new meter in November
NEW_METER_NUMBER = "59000001"
OLD_FINAL_UNITS, NEW_INITIAL, NEW_READ = Decimal(40), Decimal(0), Decimal(35)  # 40 + 35 = 75 units in November
# A flat on a motor whose first November reading is a typo the supervisor rejects; the motor's flats wait for it.
REREAD = next(unit.unit_id for unit in FLATS if unit.motor == "MOTOR-C")
TYPO_EXTRA = Decimal(5000)
SPECIAL = [unit.unit_id for unit in FLATS if unit.special]
# Opening balances: three flats owe, one is in credit; a villa owes too (and pays late, on its own charges only).
LATE_PAYER = VILLAS[2].unit_id
PART_PAYER = next(unit.unit_id for unit in FLATS if unit.motor == "MOTOR-B")
FULL_PAYER = SPECIAL[0]
OPENING_BALANCES = {
    PART_PAYER: Decimal("2500.00"),
    REREAD: Decimal("1234.50"),
    next(unit.unit_id for unit in FLATS if unit.motor == "MOTOR-F1"): Decimal("780.25"),
    next(unit.unit_id for unit in FLATS if unit.motor is None and not unit.special): Decimal("-800.00"),
    LATE_PAYER: Decimal("2000.00"),
}
PART_PAYMENT = Decimal("1000.00")


def _keys() -> list[str]:
    """Every metered thing by its unit id (motors by theirs), in file order."""
    return [unit.unit_id for unit in IMPORTED if unit.meter_number is not None] + [m.unit_id for m in SOCIETY.motors]


def _month_units(key: str, month: int) -> Decimal:
    """The units a meter measures in a month (November 1, December 2): made up, but fixed per meter."""
    index = _keys().index(key)
    if key.startswith("MOTOR-"):
        return Decimal(150 + (index * 53 + month * 17) % 200)
    return Decimal(40 + (index * 37 + month * 29) % 160)


@dataclass
class MeterPlan:
    """What the test knows about one meter on the server (ids learnt after the import)."""

    key: str  # the unit id, or the motor's
    number: str
    meter_id: int = 0
    dials: int = 0
    block_code: str = ""
    engineer: str = ""


@dataclass
class Society:
    """The server's ids for the society the test imported, and the running figures it expects."""

    meters: dict[str, MeterPlan] = field(default_factory=dict)
    unit_ids: dict[str, int] = field(default_factory=dict)
    block_of_unit: dict[str, str] = field(default_factory=dict)
    block_ids: dict[str, int] = field(default_factory=dict)
    user_ids: dict[str, int] = field(default_factory=dict)
    opening: dict[str, Decimal] = field(default_factory=dict)  # register values on 31 October
    november: dict[str, Decimal] = field(default_factory=dict)  # register values read (new meter's for REPLACED)
    december: dict[str, Decimal] = field(default_factory=dict)
    photos: dict[str, bytes] = field(default_factory=dict)
    cursors: dict[str, int] = field(default_factory=dict)  # each phone's pull cursor


def _opening_value(plan: MeterPlan) -> Decimal:
    if plan.key == ROLLOVER:
        return Decimal(10**plan.dials - 50)  # the top tenth of the register: 99,950 on five dials
    return Decimal(1000 + (_keys().index(plan.key) * 7919) % 20000)


# --- helpers over the API ---


def _eventually(what: str, probe: Callable[[], _T | None], timeout: float = LIVENESS_S) -> _T:
    """Poll ``probe`` until it answers something; ``timeout`` only keeps a broken server from hanging the test."""
    deadline = time.monotonic() + timeout
    while True:
        found = probe()
        if found is not None:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"the server did not {what} within {timeout} s")
        time.sleep(0.5)


def _sign_in_all(api: PhaseApi) -> None:
    api.login(ADMIN, ADMIN_PASSWORD)
    for username in (SUPERVISOR, ACCOUNTANT, ENGINEER_1, ENGINEER_2):
        api.login(username, OWN)


def _jpeg(color: tuple[int, int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), color).save(buffer, format="JPEG", quality=80)
    return buffer.getvalue()


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _reading(
    plan: MeterPlan, captured_at: str, *, value: Decimal | None, photo: str | None, **extra: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "uuid": str(uuid.uuid4()),
        "meter_id": plan.meter_id,
        "read_type": "actual" if value is not None else "skip",
        "skip_reason": None,
        "value": None if value is None else str(value),
        "captured_at": captured_at,
        "gps_lat": 30.9014,
        "gps_lon": 75.8573,
        "gps_accuracy_m": 8.0,
        "photo_sha256": photo if value is not None else None,
        "note": None,
        "replaces": None,
    }
    body.update(extra)
    return body


def _push(api: PhaseApi, engineer: str, sent_at: str, readings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    body = {"protocol": 2, "device_id": f"{engineer}-device", "sent_at": sent_at, "readings": readings}
    results: list[dict[str, Any]] = api.post("/api/sync/push", as_user=engineer, json=body)["results"]
    assert len(results) == len(readings)
    return results


def _upload_photo(api: PhaseApi, engineer: str, photo: bytes) -> None:
    answer = api.call(
        "PUT",
        f"/api/photos/{_sha256(photo)}",
        as_user=engineer,
        content=photo,
        headers={"Content-Type": "image/jpeg"},
    )
    assert answer.status_code in (200, 201), answer.text


def _submitted(api: PhaseApi) -> list[dict[str, Any]]:
    page: dict[str, Any] = api.get("/api/review/readings", as_user=SUPERVISOR, params={"limit": 500})
    assert page["total"] == len(page["items"]), "the month's readings fit on one page"
    items: list[dict[str, Any]] = page["items"]
    return items


def _bills(api: PhaseApi, period: str, **params: Any) -> list[dict[str, Any]]:
    return api.every("/api/bills", as_user=ADMIN, period=period, **params)


def _runs_started(api: PhaseApi, period: str) -> list[dict[str, Any]]:
    """The bill runs of ``period`` as the admin finds them, in the order they were started (issued in that order)."""
    runs = api.every("/api/billing/runs", as_user=ADMIN, period=period)
    return sorted(runs, key=lambda run: int(run["id"]))


# --- the phases ---


def _setup(society: PhasedServer, ids: Society, tmp_path: Path) -> None:
    """31 October: the first admin from the shell, the tariff, the master file, the opening position, the staff."""
    society.cli("migrate", now=SETUP)
    society.cli(
        "user",
        "create-admin",
        ADMIN,
        "--full-name",
        "Asha Admin",
        "--password-stdin",
        now=SETUP,
        stdin=ADMIN_PASSWORD + "\n",
    )
    with society.phase(SETUP) as api:
        me = api.login(ADMIN, ADMIN_PASSWORD)
        assert me["password_change_required"] is False  # the operator chose it at the shell
        tariff = (Path(__file__).resolve().parents[2] / "assets" / "tariffs" / "blessings.toml").read_bytes()
        api.post(
            "/api/tariffs", as_user=ADMIN, expect=201, content=tariff, headers={"Content-Type": "application/toml"}
        )

        _import_master_through_the_api(api)
        _learn_ids(api, ids)
        _check_the_directory(api, ids)

        _staff(api, ids)
        for plan in ids.meters.values():
            plan.engineer = ENGINEER_1 if plan.block_code in ENGINEER_1_BLOCKS else ENGINEER_2
            api.call(
                "PUT",
                f"/api/meters/{plan.meter_id}/assignment",
                as_user=ADMIN,
                expect=204,
                json={"engineer_id": ids.user_ids[plan.engineer]},
            )
        _opening_position(society, api, ids, tmp_path)


def _opening_position(society: PhasedServer, api: PhaseApi, ids: Society, tmp_path: Path) -> None:
    """The last reading of every meter (motors too) and the balances owed, from the replaced system's CSVs."""
    for plan in ids.meters.values():
        ids.opening[plan.key] = _opening_value(plan)

    readings_csv = tmp_path / "opening-readings.csv"
    with readings_csv.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["meter", "date", "value"])
        for plan in ids.meters.values():
            writer.writerow([plan.number, OPENING_DAY, str(ids.opening[plan.key])])
    # The balances as the accountant's spreadsheet: an XLSX with numbers in the amount column.
    balances_xlsx = tmp_path / "opening-balances.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["unit", "amount"])
    for unit_id, amount in OPENING_BALANCES.items():
        sheet.append([unit_id, float(amount)])  # every amount here is exact in binary (…00, …25, …50)
    book.save(balances_xlsx)
    # The opening position through the shell (the master file went through the API: both paths are used).
    done = society.cli(
        "import",
        "openings",
        "--readings",
        str(readings_csv),
        "--balances",
        str(balances_xlsx),
        "--json",
        "--as",
        ADMIN,
        now=SETUP,
    )
    report = json.loads(done.stdout)
    readings, balances = report["opening_readings"], report["opening_balances"]
    assert (readings["readings_imported"], readings["quarantined"]) == (len(ids.meters), [])
    assert (balances["balances_imported"], balances["quarantined"]) == (len(OPENING_BALANCES), [])
    for unit_id, amount in OPENING_BALANCES.items():
        ledger = api.get(f"/api/accounts/{ids.unit_ids[unit_id]}/ledger", as_user=ADMIN)
        assert Decimal(ledger["balance"]) == amount, unit_id


def _import_master_through_the_api(api: PhaseApi) -> None:
    started = api.post(
        "/api/imports/master",
        as_user=ADMIN,
        expect=202,
        params={"tariff": "BLESSINGS"},
        content=SOCIETY.data,
        headers={"Content-Type": "application/x-ndjson"},
    )

    def finished() -> dict[str, Any] | None:
        job: dict[str, Any] = api.get(f"/api/imports/{started['id']}", as_user=ADMIN)
        return job if job["status"] != "running" else None

    job = _eventually("finish the master import", finished)
    assert job["status"] == "done", job
    report, counts = job["report"], job["report"]["counts"]
    metered_motors = len(SOCIETY.motors)
    assert counts["units_imported"] == len(IMPORTED)
    assert counts["shared_meters"] == metered_motors
    assert counts["meters_created"] == len([u for u in IMPORTED if u.meter_number is not None]) + metered_motors
    quarantined = {row["unit_id"] for row in report["quarantined"]}
    assert quarantined == {unit_id for unit_id in SOCIETY.quarantined.values() if unit_id is not None}


def _learn_ids(api: PhaseApi, ids: Society) -> None:
    blocks = {b["id"]: b["code"] for b in api.every("/api/blocks", as_user=ADMIN)}
    ids.block_ids = {code: block_id for block_id, code in blocks.items()}
    units = api.every("/api/units", as_user=ADMIN)
    ids.unit_ids = {u["code"]: u["id"] for u in units}
    ids.block_of_unit = {u["code"]: blocks[u["block_id"]] for u in units}
    by_number = {m["number"]: m for m in api.every("/api/meters", as_user=ADMIN)}
    for key, number in [(u.unit_id, u.meter_number) for u in IMPORTED] + [
        (m.unit_id, m.meter_number) for m in SOCIETY.motors
    ]:
        if number is None:
            continue
        meter = by_number[number]
        ids.meters[key] = MeterPlan(
            key=key, number=number, meter_id=meter["id"], dials=meter["dials"], block_code=blocks[meter["block_id"]]
        )


def _check_the_directory(api: PhaseApi, ids: Society) -> None:
    """What the import stored and the bills depend on: units, their billing terms, the motors' members."""
    assert set(ids.unit_ids) == {unit.unit_id for unit in IMPORTED}
    assert ids.block_of_unit == {unit.unit_id: _block_of(unit.unit_id) for unit in IMPORTED}
    units = {u["code"]: u for u in api.every("/api/units", as_user=ADMIN)}
    for unit in IMPORTED:
        stored = units[unit.unit_id]
        assert stored["unit_type"] == unit.unit_type, unit.unit_id
        assert stored["tariff_id"] is not None, unit.unit_id
        if unit.special:
            assert (Decimal(stored["rate_override"]), stored["fixed_charge_waived"]) == (SPECIAL_RATE, True)
        else:
            assert (stored["rate_override"], stored["fixed_charge_waived"]) == (None, False), unit.unit_id
    for motor in SOCIETY.motors:
        plan = ids.meters[motor.unit_id]
        assert plan.block_code == motor.block, motor.unit_id
        members = api.every(f"/api/meters/{plan.meter_id}/members", as_user=ADMIN)
        assert sorted(m["unit_code"] for m in members) == sorted(SOCIETY.members(motor.unit_id)), motor.unit_id


def _staff(api: PhaseApi, ids: Society) -> None:
    """The supervisor, the accountant and two engineers; each chooses their own password at the first sign-in."""
    for username, role in (
        (SUPERVISOR, "supervisor"),
        (ACCOUNTANT, "accountant"),
        (ENGINEER_1, "engineer"),
        (ENGINEER_2, "engineer"),
    ):
        user = api.post(
            "/api/users",
            as_user=ADMIN,
            expect=201,
            json={"username": username, "full_name": username.title(), "role": role, "password": TEMPORARY},
        )
        ids.user_ids[username] = user["id"]
        pair = api.login(username, TEMPORARY)
        assert pair["password_change_required"] is True
        refused = api.call("GET", "/api/clock", as_user=username)
        assert (refused.status_code, refused.json()["code"]) == (403, "auth.password_change_required")
        api.post(
            "/api/auth/password",
            as_user=username,
            expect=204,
            json={"current_password": TEMPORARY, "new_password": OWN},
        )
        api.login(username, OWN)


def _read_november(society: PhasedServer, ids: Society) -> None:
    """25 November: both engineers push the month; the supervisor rejects a typo, confirms the replacement and
    approves the rest; the engineer pulls the rejection and reads again."""
    captured = "2026-11-25T10:55:00+05:30"
    with society.phase(NOVEMBER_READS) as api:
        _sign_in_all(api)
        typo: dict[str, Any] = {}
        for engineer, color in ((ENGINEER_1, (200, 120, 40)), (ENGINEER_2, (40, 120, 200))):
            photo = _jpeg(color)
            ids.photos[engineer] = photo
            pulled = api.get("/api/sync/pull", as_user=engineer)
            ids.cursors[engineer] = pulled["cursor"]
            on_route = {m["meter_id"] for m in pulled["meters"]}
            mine = [plan for plan in ids.meters.values() if plan.engineer == engineer]
            assert on_route == {plan.meter_id for plan in mine}
            previous = {m["meter_id"]: Decimal(m["previous"]["value"]) for m in pulled["meters"]}
            readings = []
            for plan in mine:
                assert previous[plan.meter_id] == ids.opening[plan.key], plan.key  # the opening reading
                readings.append(_november_reading(plan, ids, captured, _sha256(photo)))
                if plan.key == REREAD:
                    typo = readings[-1]
            results = _push(api, engineer, captured, readings)
            assert [r["outcome"] for r in results] == ["stored"] * len(readings), results
            # Sent a few minutes after capture: no clock drift; the photo follows. The wrapped register is flagged for
            # the supervisor, who decides between a rollover, a replaced meter and a typo.
            flagged = {plan.key: set(r["flags"]) - {"photo_pending"} for plan, r in zip(mine, results, strict=True)}
            assert {key: flags for key, flags in flagged.items() if flags} == (
                {ROLLOVER: {"below_previous"}} if ROLLOVER in flagged else {}
            )
            _upload_photo(api, engineer, photo)

        queue = {item["uuid"]: item for item in _submitted(api)}
        assert len(queue) == len(ids.meters)
        rollover = next(item for item in queue.values() if item["meter_id"] == ids.meters[ROLLOVER].meter_id)
        assert rollover["consumption"] is not None
        assert Decimal(rollover["consumption"]) == Decimal(170)  # 10^d − 50 → 120 wraps once

        api.post(
            f"/api/review/readings/{typo['uuid']}/reject",
            as_user=SUPERVISOR,
            json={"reason": "The photo shows another value: read it again"},
        )
        replacement = next(item for item in queue.values() if item["replacement"] is not None)
        confirmed = api.post(
            f"/api/review/readings/{replacement['uuid']}/replacement/confirm",
            as_user=SUPERVISOR,
            json={"reason": "New meter seen in the photo"},
        )
        assert confirmed["replacement"]["state"] == "confirmed"
        for reading_uuid in queue:
            if reading_uuid not in (typo["uuid"], replacement["uuid"]):
                api.post(f"/api/review/readings/{reading_uuid}/approve", as_user=SUPERVISOR)

        # The engineer's phone learns of the rejection and reads the meter again, naming the rejected reading.
        engineer = ids.meters[REREAD].engineer
        later = api.get("/api/sync/pull", as_user=engineer, params={"cursor": ids.cursors[engineer]})
        assert later["full"] is False
        decisions = later["decisions"]
        assert {"reading_uuid": typo["uuid"], "status": "rejected"}.items() <= next(
            d for d in decisions if d["reading_uuid"] == typo["uuid"]
        ).items()
        plan = ids.meters[REREAD]
        reread = _reading(
            plan,
            "2026-11-25T10:58:00+05:30",
            value=ids.november[REREAD],
            photo=_sha256(ids.photos[engineer]),
            replaces=typo["uuid"],
        )
        [result] = _push(api, engineer, "2026-11-25T10:58:00+05:30", [reread])
        assert result["outcome"] == "stored", result
        assert "second_read_in_period" not in result["flags"]
        api.post(f"/api/review/readings/{reread['uuid']}/approve", as_user=SUPERVISOR)
        assert _submitted(api) == []


def _november_reading(plan: MeterPlan, ids: Society, captured: str, photo: str) -> dict[str, Any]:
    opening = ids.opening[plan.key]
    if plan.key in SKIPPED:
        return _reading(plan, captured, value=None, photo=None, skip_reason=SKIPPED[plan.key])
    if plan.key == ROLLOVER:
        ids.november[plan.key] = Decimal(120)
        return _reading(plan, captured, value=Decimal(120), photo=photo)
    if plan.key == REPLACED:
        ids.november[plan.key] = NEW_READ
        replacement = {
            "old_final_value": str(opening + OLD_FINAL_UNITS),
            "new_meter_number": NEW_METER_NUMBER,
            "new_initial_value": str(NEW_INITIAL),
        }
        return _reading(plan, captured, value=NEW_READ, photo=photo, replacement=replacement)
    ids.november[plan.key] = opening + _month_units(plan.key, 1)
    if plan.key == REREAD:
        return _reading(plan, captured, value=ids.november[plan.key] + TYPO_EXTRA, photo=photo)
    return _reading(plan, captured, value=ids.november[plan.key], photo=photo)


def _november_units(ids: Society) -> dict[str, Decimal]:
    """What each meter measured in November (no entry: skipped)."""
    units: dict[str, Decimal] = {}
    for key in ids.meters:
        if key in SKIPPED:
            continue
        if key == ROLLOVER:
            units[key] = Decimal(120) + Decimal(10 ** ids.meters[key].dials) - ids.opening[key]
        elif key == REPLACED:
            units[key] = OLD_FINAL_UNITS + (NEW_READ - NEW_INITIAL)
        else:
            units[key] = ids.november[key] - ids.opening[key]
    return units


def _december_units(ids: Society) -> dict[str, Decimal]:
    """What each meter measured in December; a meter skipped in November measures both months from its opening."""
    units: dict[str, Decimal] = {}
    for key in ids.meters:
        if key in SKIPPED:
            units[key] = ids.december[key] - ids.opening[key]
        else:
            units[key] = ids.december[key] - ids.november[key]
    return units


def _expected_month(units: dict[str, Decimal], arrears: dict[str, Decimal]) -> dict[str, ExpectedBill]:
    """Each billed unit's bill from the month's units: own units, its motor share, its billing terms, arrears."""
    shares: dict[str, Decimal] = {}
    for motor in SOCIETY.motors:
        members = SOCIETY.members(motor.unit_id)
        shares.update(motor_shares(units[motor.unit_id], {code: units[code] for code in members}))
    bills: dict[str, ExpectedBill] = {}
    for unit in IMPORTED:
        if unit.unit_id not in units:
            continue
        bills[unit.unit_id] = expected_bill(
            own_units=units[unit.unit_id],
            share_units=shares.get(unit.unit_id, Decimal(0)),
            unit_type=unit.unit_type,
            rate_override=SPECIAL_RATE if unit.special else None,
            fixed_waived=unit.special,
            arrears=arrears.get(unit.unit_id, Decimal(0)),
        )
    return bills


def _block_of(unit_id: str) -> str:
    """The block a unit belongs to by its id (docs/operations.md "Importing master data"): its letter, VILLA, SCO."""
    unit = SOCIETY.unit(unit_id)
    return {"villa": "VILLA", "shop": "SCO"}.get(unit.category, unit.flat_no[0])


def _block_totals(payables: Iterable[tuple[str, Decimal]]) -> dict[str, Decimal]:
    """Σ payable by block."""
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for block, payable in payables:
        totals[block] += payable
    return dict(totals)


def _bill_run_job(api: PhaseApi) -> dict[str, Any]:
    jobs: list[dict[str, Any]] = api.get("/api/schedules", as_user=ADMIN)
    return next(job for job in jobs if job["name"] == "monthly-bill-runs")


def _wait_for_the_scheduled_runs(
    api: PhaseApi, ids: Society, due: datetime, period: str, next_due: datetime
) -> list[dict[str, Any]]:
    """The month's runs, started by the schedule at 00:30 in India and not before; the schedule then shows the
    next month's 00:30 and its last result."""
    job_before, bills_before = _bill_run_job(api), _bills(api, period)
    clock_after = datetime.fromisoformat(api.get("/api/clock", as_user=ADMIN)["now"])
    if clock_after < due:  # read after the bills: nothing can have been drafted when they were listed
        assert bills_before == [], "bills drafted before the run was due"
        assert datetime.fromisoformat(job_before["next_run_at"]) == due, job_before
    blocks_with_meters = {plan.block_code for plan in ids.meters.values()}

    def all_done() -> list[dict[str, Any]] | None:
        runs = _runs_started(api, period)
        if {_block_code(ids, run["block_id"]) for run in runs} < blocks_with_meters:
            return None
        return runs if all(run["status"] != "running" for run in runs) else None

    runs = _eventually(f"run the bill runs of {period}", all_done)
    for run in runs:
        assert (run["status"], run["started_by"], run["drafts"]) == ("done", None, run["created"]), run
        # Stamped by the server's clock: the schedule fired at 00:30 India time, never before.
        assert datetime.fromisoformat(run["started_at"]) >= due, run

    def finished() -> dict[str, Any] | None:
        job = _bill_run_job(api)
        return job if job["last_finished_at"] is not None and not job["running"] else None

    job = _eventually("finish the scheduled bill runs", finished)
    assert datetime.fromisoformat(job["last_started_at"]) >= due, job
    assert datetime.fromisoformat(job["next_run_at"]) == next_due, job
    assert (job["last_status"], job["last_result"].startswith(period)) == ("ok", True), job
    return runs


def _block_code(ids: Society, block_id: int) -> str:
    return next(code for code, known in ids.block_ids.items() if known == block_id)


def _bill_numbers(first: int, count: int) -> list[str]:
    """Bill numbers of financial year 2026-27 (April to March), ``count`` of them from ``first``."""
    return [f"FM/2627/{number:06d}" for number in range(first, first + count)]


def _issue(api: PhaseApi, runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    issued: list[dict[str, Any]] = []
    for run in runs:
        issued.extend(api.post(f"/api/billing/runs/{run['id']}/issue", as_user=ADMIN))
    return issued


def _assert_bills(ids: Society, bills: list[dict[str, Any]], expected: dict[str, ExpectedBill], period: str) -> None:
    by_unit = {bill["unit_code"]: bill for bill in bills}
    assert set(by_unit) == set(expected), (sorted(set(by_unit) ^ set(expected)), period)
    for unit_id, want in expected.items():
        bill = by_unit[unit_id]
        assert (bill["period"], bill["status"]) == (period, "issued"), unit_id
        assert Decimal(bill["payable"]) == want.payable, (unit_id, bill["lines"], want)
        assert Decimal(bill["total"]) == want.total, (unit_id, bill["lines"], want)
        served: dict[str, Decimal] = defaultdict(Decimal)
        for line in bill["lines"]:
            served[line["code"]] += Decimal(line["amount"])
        assert {code: amount for code, amount in served.items() if amount != 0} == want.by_line, (unit_id, bill)
        [energy] = [line for line in bill["lines"] if line["code"] == "energy"]
        assert Decimal(energy["quantity"]) == want.own_units, (unit_id, energy)
        shares = [Decimal(line["quantity"]) for line in bill["lines"] if line["code"] == "shared_meter"]
        assert sum(shares, Decimal(0)) == want.share_units, (unit_id, bill["lines"])
    # The server's blocks of its bills against the blocks the unit ids name, and their sums against the hand's.
    served = _block_totals((_block_code(ids, bill["block_id"]), Decimal(bill["payable"])) for bill in bills)
    assert served == _block_totals((_block_of(code), want.payable) for code, want in expected.items())


def _november_ends(society: PhasedServer, ids: Society) -> dict[str, dict[str, Any]]:
    """1 December, 00:29:50 in India: the scheduled run drafts November for every block at 00:30; the admin
    issues; a bill's PDF and a block's PDF open with the bill numbers and amounts."""
    with society.phase(NOVEMBER_ENDS) as api:
        _sign_in_all(api)
        runs = _wait_for_the_scheduled_runs(api, ids, NOVEMBER_RUN_DUE, "2026-11", DECEMBER_RUN_DUE)
        # The units whose meter was skipped have no approved reading (and no history to estimate from).
        skipped = {row["unit"]: row["code"] for run in runs for row in run["skipped"]}
        assert skipped == dict.fromkeys(SKIPPED, "bill.no_approved_reading"), skipped
        # The restart on 25 November caught up the firing of 1 November (October): it found nothing to bill.
        assert _bills(api, "2026-10") == []
        expected = _expected_month(_november_units(ids), OPENING_BALANCES)
        assert sum(run["created"] for run in runs) == len(expected)
        issued = _issue(api, runs)
        # The society's first bills of the 2026-27 financial year: consecutive numbers from 1, none twice.
        assert sorted(bill["bill_number"] for bill in issued) == _bill_numbers(1, len(expected))
        bills = _bills(api, "2026-11")
        _assert_bills(ids, bills, expected, "2026-11")
        by_unit = {bill["unit_code"]: bill for bill in bills}
        for bill in bills:
            assert bill["due_on"] == "2026-12-16", bill  # issued on 1 December (India), due 15 days later
        _open_the_pdfs(api, ids, by_unit)
        return by_unit


def _pdf_pages(api: PhaseApi, url: str) -> list[str]:
    answer = api.call("GET", url, expect=200)  # the signed link is the authorization
    assert answer.headers["content-type"] == "application/pdf"
    return [page.extract_text() for page in PdfReader(io.BytesIO(answer.content)).pages]


def _open_the_pdfs(api: PhaseApi, ids: Society, by_unit: dict[str, dict[str, Any]]) -> None:
    bill = by_unit[LATE_PAYER]
    link = api.post(f"/api/bills/{bill['id']}/pdf-link", as_user=ACCOUNTANT)
    [text] = _pdf_pages(api, link["url"])
    assert bill["bill_number"] in text
    assert indian_rupees(Decimal(bill["payable"])) in text, (indian_rupees(Decimal(bill["payable"])), text)
    block = ids.block_of_unit[REREAD]
    in_block = sorted(
        (b for b in by_unit.values() if ids.block_of_unit[b["unit_code"]] == block), key=lambda b: b["unit_code"]
    )
    link = api.post(
        "/api/billing/block-pdf-link", as_user=ADMIN, json={"block_id": ids.block_ids[block], "period": "2026-11"}
    )
    pages = _pdf_pages(api, link["url"])
    assert len(pages) == len(in_block)
    numbers = {b["bill_number"] for b in in_block}
    assert {next(n for n in numbers if n in page) for page in pages} == numbers


def _pay(api: PhaseApi, ids: Society, unit_id: str, bill: dict[str, Any], amount: Decimal, paid_on: str) -> Decimal:
    body = {
        "unit_id": ids.unit_ids[unit_id],
        "bill_id": bill["id"],
        "amount": str(amount),
        "paid_on": paid_on,
        "mode": "upi",
        "reference": f"UPI-{unit_id}",
    }
    return Decimal(api.post("/api/payments", as_user=ACCOUNTANT, expect=201, json=body)["balance"])


def _payments_on_time(society: PhasedServer, ids: Society, november: dict[str, dict[str, Any]]) -> None:
    """5 December: one flat pays part of its bill, another all of it."""
    with society.phase(PAYMENTS) as api:
        _sign_in_all(api)
        part = november[PART_PAYER]
        balance = _pay(api, ids, PART_PAYER, part, PART_PAYMENT, "2026-12-05")
        assert balance == Decimal(part["payable"]) - PART_PAYMENT
        full = november[FULL_PAYER]
        assert _pay(api, ids, FULL_PAYER, full, Decimal(full["payable"]), "2026-12-05") == 0
        statuses = {b["unit_code"]: b["status"] for b in _bills(api, "2026-11")}
        assert (statuses[PART_PAYER], statuses[FULL_PAYER]) == ("partly_paid", "paid")
        assert {statuses[code] for code in statuses if code not in (PART_PAYER, FULL_PAYER)} == {"issued"}


def _after_the_due_date(society: PhasedServer, ids: Society, november: dict[str, dict[str, Any]]) -> Decimal:
    """22 December, six days after the due date: a late payment carries the surcharge on the bill's own charges
    (not on its arrears); the server marks the unpaid bills overdue by itself; then December is read."""
    with society.phase(AFTER_DUE) as api:
        _sign_in_all(api)
        late = november[LATE_PAYER]
        fee = late_fee(Decimal(late["charges"]), due_on=date(2026, 12, 16), paid_on=date(2026, 12, 22))
        assert Decimal(late["charges"]) == Decimal(late["payable"]) - OPENING_BALANCES[LATE_PAYER]
        assert fee > 0
        assert _pay(api, ids, LATE_PAYER, late, Decimal(late["payable"]), "2026-12-22") == fee
        kinds = [
            e["kind"] for e in api.get(f"/api/accounts/{ids.unit_ids[LATE_PAYER]}/ledger", as_user=ADMIN)["entries"]
        ]
        assert kinds[-3:] == ["charge", "payment", "late_fee"]

        def all_overdue() -> dict[str, str] | None:
            statuses = {b["unit_code"]: b["status"] for b in _bills(api, "2026-11")}
            return statuses if statuses[PART_PAYER] == "overdue" else None

        statuses = _eventually("mark the unpaid bills overdue", all_overdue)
        assert statuses.pop(FULL_PAYER) == "paid"
        # Whatever the account still owes past the due date is overdue: the part payer, every unpaid bill, and the
        # late payer's surcharge.
        assert set(statuses.values()) == {"overdue"}, statuses
        _read_december(api, ids)
        return fee


def _read_december(api: PhaseApi, ids: Society) -> None:
    captured = "2026-12-22T10:56:00+05:30"
    for engineer in (ENGINEER_1, ENGINEER_2):
        pulled = api.get("/api/sync/pull", as_user=engineer)["meters"]
        on_route = {m["meter_number"]: m for m in pulled}
        readings = []
        for plan in ids.meters.values():
            if plan.engineer != engineer:
                continue
            if plan.key == REPLACED:
                # The new meter took the old one's place on the route, measured from its November reading.
                assert plan.number not in on_route
                plan.number = NEW_METER_NUMBER
                plan.meter_id = on_route[NEW_METER_NUMBER]["meter_id"]
            previous = on_route[plan.number]["previous"]
            start = ids.opening[plan.key] if plan.key in SKIPPED else ids.november[plan.key]
            # The new meter's too: the value read on it at the visit, not its install baseline below it.
            assert Decimal(previous["value"]) == start, plan.key
            ids.december[plan.key] = start + _month_units(plan.key, 2)
            readings.append(_reading(plan, captured, value=ids.december[plan.key], photo=_sha256(ids.photos[engineer])))
        results = _push(api, engineer, captured, readings)
        assert {r["outcome"] for r in results} == {"stored"}, results
    for item in _submitted(api):
        api.post(f"/api/review/readings/{item['uuid']}/approve", as_user=SUPERVISOR)
    assert _submitted(api) == []


def _december_ends(society: PhasedServer, ids: Society, november: dict[str, dict[str, Any]], fee: Decimal) -> None:
    """1 January, 00:29:50 in India: the run fires for December; issued bills carry the arrears: the opening
    balance of a unit not billed in November, else what November's bill left unpaid, with the late fee."""
    arrears = dict(OPENING_BALANCES)
    for unit_id, bill in november.items():
        arrears[unit_id] = Decimal(bill["payable"])
    arrears[PART_PAYER] -= PART_PAYMENT
    arrears[FULL_PAYER] = Decimal(0)
    arrears[LATE_PAYER] = fee
    with society.phase(DECEMBER_ENDS) as api:
        _sign_in_all(api)
        runs = _wait_for_the_scheduled_runs(api, ids, DECEMBER_RUN_DUE, "2026-12", JANUARY_RUN_DUE)
        assert [row for run in runs for row in run["skipped"]] == []
        issued = _issue(api, runs)
        expected = _expected_month(_december_units(ids), arrears)
        assert sorted(bill["bill_number"] for bill in issued) == _bill_numbers(len(november) + 1, len(expected))
        _assert_bills(ids, _bills(api, "2026-12"), expected, "2026-12")
        for unit_id in SKIPPED:  # read in December for the first time since the opening: two months in one bill
            assert expected[unit_id].arrears == OPENING_BALANCES.get(unit_id, Decimal(0))
        chain = api.get("/api/audit/verify", as_user=ADMIN)
        assert chain["intact"] is True, chain


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_a_month_in_the_life_of_a_society(backend: str, tmp_path: Path) -> None:
    ids = Society()
    with ExitStack() as stack:
        society = PhasedServer.create(
            stack,
            tmp_path,
            backend,
            env={"FIELDMETER_SCHEDULE_CHECK_SECONDS": "1", "FIELDMETER_STATUS_REFRESH_MINUTES": "0.05"},
        )
        _setup(society, ids, tmp_path)
        _read_november(society, ids)
        november = _november_ends(society, ids)
        _payments_on_time(society, ids, november)
        fee = _after_the_due_date(society, ids, november)
        _december_ends(society, ids, november, fee)
