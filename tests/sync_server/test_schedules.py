"""Scheduled jobs on a pinned clock, on SQLite and PostgreSQL: the month's draft bill runs fire at the month
boundary in India (not a minute before) and once; a failing backup is recorded; the API is the admin's."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from sync_server import backup
from sync_server.backup import BackupError
from sync_server.clock import FixedClock, system_clock
from sync_server.config import Settings
from sync_server.context import AppContext
from sync_server.housekeeping import run_scheduled, scheduler_check_seconds
from sync_server.models import AuditEvent, Bill, BillRun, Block, ScheduledJob, User
from sync_server.scheduling.store import (
    BACKUP_JOB,
    BILL_RUNS_JOB,
    NOTIFICATIONS_JOB,
    OCR_JOB,
    OVERDUE_JOB,
    SCHEDULER_USERNAME,
    claim,
    ensure_default_jobs,
)
from tests.sync_server.factories import auth, jpeg_bytes, meters_by_unit, push, reading, sha256

# 1 December 2025, 00:30 in India: the default monthly run (day 1 at 00:30) for November.
BOUNDARY = datetime(2025, 11, 30, 19, 0, tzinfo=UTC)
JUST_BEFORE = datetime(2025, 11, 30, 18, 59, tzinfo=UTC)
# 21 November 2025, 02:00 in India: the first daily backup after the pinned "now" (20 November, 10:00).
BACKUP_AT = datetime(2025, 11, 20, 20, 30, tzinfo=UTC)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    # The background scheduler would wait an hour before its first look: the tests run the passes themselves.
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        secret_key="t" * 40,
        mount_web_app=False,
        schedule_check_seconds=3600,
    )


def _context(client: TestClient) -> AppContext:
    context: AppContext = client.app.state.context  # type: ignore[attr-defined]
    return context


def _job(client: TestClient, name: str) -> ScheduledJob:
    with Session(_context(client).engine) as session:
        job = session.get(ScheduledJob, name)
        assert job is not None
        return job


def _approve_walkthrough(client: TestClient) -> None:
    """engineer1 reads 5BHK-B17-FF at previous + 77 in November; the supervisor approves it."""
    headers = auth(client, "engineer1")
    meter = meters_by_unit(client, headers)["5BHK-B17-FF"]
    photo = jpeg_bytes()
    item = reading(meter, value=str(int(meter["previous"]["value"]) + 77), photo_sha256=sha256(photo))
    push(client, headers, [item])
    client.put(f"/api/photos/{sha256(photo)}", content=photo, headers=headers | {"Content-Type": "image/jpeg"})
    assert client.post(f"/api/review/readings/{item['uuid']}/approve", headers=auth(client, "supervisor")).is_success


def _switch_off(client: TestClient, name: str) -> None:
    answer = client.put(f"/api/schedules/{name}", json={"enabled": False}, headers=auth(client, "admin"))
    assert answer.status_code == 200, answer.text


def _bills(client: TestClient, period: str) -> dict[str, list[tuple[int, str]]]:
    """Each block's bills of ``period``: (bill id, unit code)."""
    with Session(_context(client).engine) as session:
        rows = session.exec(
            select(Bill.id, Block.code)
            .join(BillRun, col(BillRun.id) == col(Bill.run_id))
            .join(Block, col(Block.id) == col(BillRun.block_id))
            .where(Bill.period == period)
        ).all()
    found: dict[str, list[tuple[int, str]]] = {}
    for bill_id, code in rows:
        assert bill_id is not None
        found.setdefault(code, []).append((bill_id, code))
    return found


def test_monthly_bill_runs_fire_at_the_month_boundary_in_india_and_once(client: TestClient, clock: FixedClock) -> None:
    _approve_walkthrough(client)
    _switch_off(client, BACKUP_JOB)  # its 02:00 runs fall inside the ten days this test skips
    context = _context(client)
    assert _job(client, BILL_RUNS_JOB).next_run_at == BOUNDARY

    clock.now = JUST_BEFORE
    assert run_scheduled(context) == []
    with Session(context.engine) as session:
        assert session.exec(select(BillRun)).all() == []

    clock.now = BOUNDARY
    assert run_scheduled(context) == [BILL_RUNS_JOB]
    with Session(context.engine) as session:
        runs = session.exec(select(BillRun, Block.code).join(Block, col(Block.id) == col(BillRun.block_id))).all()
        scheduler = session.exec(select(User).where(User.username == SCHEDULER_USERNAME)).one()
        events = session.exec(select(AuditEvent).where(AuditEvent.actor_id == scheduler.id)).all()
    assert sorted(code for _, code in runs) == ["B", "C", "S", "V"]  # every block, November's period
    assert {(run.period, run.status, run.started_by_id) for run, _ in runs} == {("2025-11", "done", scheduler.id)}
    assert (scheduler.role, scheduler.active) == ("admin", False)  # acts as an admin, cannot sign in
    assert {"billrun.started", "billrun.done", "schedule.ran"} <= {event.action for event in events}

    job = _job(client, BILL_RUNS_JOB)
    assert (job.last_status, job.last_started_at, job.last_finished_at) == ("ok", BOUNDARY, BOUNDARY)
    assert job.next_run_at == datetime(2025, 12, 31, 19, 0, tzinfo=UTC)  # 1 January, 00:30 in India
    bills = _bills(client, "2025-11")
    assert bills["B"], "the approved walk-through reading is billed"
    drafted = {code: run.created for run, code in runs}
    assert job.last_result is not None
    assert job.last_result.startswith("2025-11 — ")
    for code in ("B", "C", "S", "V"):
        assert len(bills.get(code, [])) == drafted[code]
        assert f"{code}: {drafted[code]} drafted" in job.last_result

    # Fired again for the same month ("Run now"): new runs, nothing new drafted.
    admin = auth(client, "admin")
    assert client.post(f"/api/schedules/{BILL_RUNS_JOB}/run", headers=admin).status_code == 200
    assert run_scheduled(context) == [BILL_RUNS_JOB]
    assert _bills(client, "2025-11") == bills
    again = _job(client, BILL_RUNS_JOB)
    assert again.last_result is not None
    assert all(f"{code}: 0 drafted" in again.last_result for code in ("B", "C", "S", "V")), again.last_result
    assert again.next_run_at == datetime(2025, 12, 31, 19, 0, tzinfo=UTC)
    assert run_scheduled(context) == []  # and not again


def test_a_closed_period_is_reported_not_failed(client: TestClient, clock: FixedClock) -> None:
    admin = auth(client, "admin")
    blocks = {b["code"]: b["id"] for b in client.get("/api/blocks", headers=admin).json()["items"]}
    closed = client.post(
        "/api/billing/periods/close", json={"block_id": blocks["C"], "period": "2025-11"}, headers=admin
    )
    assert closed.status_code == 201, closed.text
    _switch_off(client, BACKUP_JOB)
    clock.now = BOUNDARY
    assert run_scheduled(_context(client)) == [BILL_RUNS_JOB]
    job = _job(client, BILL_RUNS_JOB)
    assert job.last_status == "ok"
    assert job.last_result is not None
    assert "C: period closed" in job.last_result


def test_a_firing_is_claimed_once(client: TestClient, clock: FixedClock) -> None:
    context = _context(client)
    clock.now = BOUNDARY
    seen = _job(client, BILL_RUNS_JOB)  # two schedulers read the job due at once
    assert claim(context.engine, seen, now=BOUNDARY, tz=context.settings.tz)
    assert not claim(context.engine, seen, now=BOUNDARY, tz=context.settings.tz)
    assert BILL_RUNS_JOB not in run_scheduled(context)  # claimed: not due any more


def test_a_failing_backup_is_recorded_failed_and_a_good_one_ok(
    client: TestClient, clock: FixedClock, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refused(settings: Settings, to_dir: Path | None = None, **_: Any) -> Any:
        raise BackupError("the backup directory is full")

    def broken(settings: Settings, to_dir: Path | None = None, **_: Any) -> Any:
        raise OSError("No space left on device: /secret/path")

    monkeypatch.setattr(backup, "create_backup", refused)
    clock.now = BACKUP_AT
    assert run_scheduled(_context(client)) == [BACKUP_JOB]
    job = _job(client, BACKUP_JOB)
    assert (job.last_status, job.last_result) == ("failed", "backup failed: the backup directory is full")
    assert job.next_run_at == datetime(2025, 11, 21, 20, 30, tzinfo=UTC)  # tomorrow, 02:00 in India

    admin = auth(client, "admin")  # signed in at the moved clock
    monkeypatch.setattr(backup, "create_backup", broken)
    assert client.post(f"/api/schedules/{BACKUP_JOB}/run", headers=admin).status_code == 200
    assert run_scheduled(_context(client)) == [BACKUP_JOB]
    job = _job(client, BACKUP_JOB)
    assert job.last_status == "failed"
    assert job.last_result is not None
    assert "/secret/path" not in job.last_result  # an unexpected error in plain words; its cause is in the log

    # The real backup (SQLite's online copy, or pg_dump) into the configured directory.
    monkeypatch.undo()
    assert client.post(f"/api/schedules/{BACKUP_JOB}/run", headers=admin).status_code == 200
    assert run_scheduled(_context(client)) == [BACKUP_JOB]
    job = _job(client, BACKUP_JOB)
    assert job.last_status == "ok", job.last_result
    archives = list((settings.data_dir / "backups").glob("fieldmeter-backup-*"))
    assert [f"saved {archive.name}" for archive in archives] == [job.last_result]


def test_overdue_refresh_runs_on_its_interval_when_asked(client: TestClient) -> None:
    admin = auth(client, "admin")
    listed = {job["name"]: job for job in client.get("/api/schedules", headers=admin).json()}
    assert listed[OVERDUE_JOB]["every_minutes"] == 60.0
    assert client.post(f"/api/schedules/{OVERDUE_JOB}/run", headers=admin).status_code == 200
    assert run_scheduled(_context(client)) == [OVERDUE_JOB]
    job = client.get("/api/schedules", headers=admin).json()
    refreshed = next(each for each in job if each["name"] == OVERDUE_JOB)
    assert (refreshed["last_status"], refreshed["last_result"]) == ("ok", "0 bill statuses changed")
    assert refreshed["running"] is False


# --- the API -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("username", ["engineer1", "supervisor", "accountant"])
def test_schedules_are_the_admins(client: TestClient, username: str) -> None:
    headers = auth(client, username)
    assert client.get("/api/schedules", headers=headers).status_code == 403
    assert client.put(f"/api/schedules/{BACKUP_JOB}", json={"enabled": False}, headers=headers).status_code == 403
    assert client.post(f"/api/schedules/{BACKUP_JOB}/run", headers=headers).status_code == 403
    assert client.get("/api/schedules").status_code == 401


def test_admin_lists_and_changes_a_schedule(client: TestClient) -> None:
    admin = auth(client, "admin")
    listed = client.get("/api/schedules", headers=admin).json()
    assert [job["name"] for job in listed] == [BACKUP_JOB, BILL_RUNS_JOB, NOTIFICATIONS_JOB, OVERDUE_JOB, OCR_JOB]
    notifications = next(job for job in listed if job["name"] == NOTIFICATIONS_JOB)
    assert (notifications["cadence"], notifications["enabled"]) == ("interval", False)  # FIELDMETER_NOTIFY_…=0
    ocr = next(job for job in listed if job["name"] == OCR_JOB)
    assert (ocr["cadence"], ocr["enabled"]) == ("interval", False)  # the tests' FIELDMETER_OCR_EVERY_MINUTES=0
    monthly = next(job for job in listed if job["name"] == BILL_RUNS_JOB)
    assert (monthly["cadence"], monthly["day_of_month"], monthly["at_time"], monthly["enabled"]) == (
        "monthly",
        1,
        "00:30",
        True,
    )
    assert monthly["last_status"] is None

    change = {"day_of_month": 5, "at_time": "06:00", "reason": "after the meter readers' week"}
    answer = client.put(f"/api/schedules/{BILL_RUNS_JOB}", json=change, headers=admin)
    assert answer.status_code == 200, answer.text
    # 5 December 2025, 06:00 in India (the pinned "now" is 20 November).
    assert answer.json()["next_run_at"] == "2025-12-05T00:30:00Z"
    events = client.get("/api/audit/events", params={"action": "schedule.changed"}, headers=admin).json()["items"]
    assert events[-1]["entity_id"] == BILL_RUNS_JOB
    assert events[-1]["reason"] == "after the meter readers' week"

    off = client.put(f"/api/schedules/{BILL_RUNS_JOB}", json={"enabled": False}, headers=admin)
    assert off.json()["enabled"] is False
    refused = client.post(f"/api/schedules/{BILL_RUNS_JOB}/run", headers=admin)
    assert (refused.status_code, refused.json()["code"]) == (409, "schedule.disabled")


@pytest.mark.parametrize(
    ("name", "body", "status", "code"),
    [
        (BACKUP_JOB, {"day_of_month": 3}, 422, "schedule.not_applicable"),
        (OVERDUE_JOB, {"at_time": "02:00"}, 422, "schedule.not_applicable"),
        (BILL_RUNS_JOB, {"every_minutes": 5}, 422, "schedule.not_applicable"),
        (BILL_RUNS_JOB, {"day_of_month": 29}, 422, "request.invalid"),
        (BILL_RUNS_JOB, {"at_time": "24:00"}, 422, "request.invalid"),
        (OVERDUE_JOB, {"every_minutes": 0}, 422, "request.invalid"),
        (BILL_RUNS_JOB, {"when": "soon"}, 422, "request.invalid"),
        ("no-such-job", {"enabled": True}, 404, "schedule.not_found"),
    ],
)
def test_a_bad_change_is_refused(client: TestClient, name: str, body: dict[str, Any], status: int, code: str) -> None:
    before = client.get("/api/schedules", headers=auth(client, "admin")).json()
    answer = client.put(f"/api/schedules/{name}", json=body, headers=auth(client, "admin"))
    assert (answer.status_code, answer.json()["code"]) == (status, code), answer.text
    assert client.get("/api/schedules", headers=auth(client, "admin")).json() == before


def test_a_start_adds_missing_jobs_and_keeps_edited_ones(client: TestClient, settings: Settings) -> None:
    admin = auth(client, "admin")
    edited = client.put(f"/api/schedules/{BACKUP_JOB}", json={"at_time": "03:15"}, headers=admin)
    assert edited.status_code == 200, edited.text
    context = _context(client)
    with Session(context.engine) as session:
        session.delete(session.get(ScheduledJob, OVERDUE_JOB))
        session.commit()
    other = settings.model_copy(update={"backup_time": "04:00", "status_refresh_minutes": 0})
    for _ in range(2):  # a second worker starting: nothing more, nothing refused
        ensure_default_jobs(context.engine, other, clock=context.clock, wall=system_clock)
    jobs = {job["name"]: job for job in client.get("/api/schedules", headers=admin).json()}
    assert jobs[BACKUP_JOB]["at_time"] == "03:15"  # the console's edit stands
    assert (jobs[OVERDUE_JOB]["enabled"], jobs[OVERDUE_JOB]["every_minutes"]) == (False, 60.0)  # 0: switched off


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"bill_run_day": 29}, "bill_run_day"),
        ({"bill_run_time": "7:30"}, "bill_run_time"),
        ({"backup_time": "25:00"}, "backup_time"),
    ],
)
def test_schedule_settings_are_checked(values: dict[str, Any], field: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=field):
        Settings(data_dir=tmp_path, **values)


def test_the_scheduler_checks_at_least_as_often_as_the_refresh_interval(tmp_path: Path) -> None:
    assert scheduler_check_seconds(Settings(data_dir=tmp_path)) == 30.0
    assert scheduler_check_seconds(Settings(data_dir=tmp_path, status_refresh_minutes=0.02)) == pytest.approx(1.2)
    assert scheduler_check_seconds(Settings(data_dir=tmp_path, status_refresh_minutes=0)) == 30.0
