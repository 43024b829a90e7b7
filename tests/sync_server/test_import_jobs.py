"""Imports started from the console (``/api/imports``): roles, refusals at the door, a job's progress written to
its row as it runs, its report and quarantine CSV, one running import per kind, and a dry run.

The importer is a fake (``_CountingImporter``) where the test is about the job, so these tests say what the job
machinery does whatever the import rules; ``test_master_import_job_*`` run the real master-data importer.
"""

from __future__ import annotations

import io
import json
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from sync_server.auth import hash_password
from sync_server.db import create_db_engine, refresh_statistics
from sync_server.demo import DEMO_PASSWORD
from sync_server.imports import jobs
from sync_server.imports.jobs import PROGRESS_EVERY, ImportOptions
from sync_server.imports.report import ImportReport, Progress, RowIssue
from sync_server.models import AuditEvent, Block, ImportJob, ImportKind, ImportStatus, Role, Unit, UnitCategory, User
from sync_server.problems import Problem
from tests.support.society_file import Quirks, build_society
from tests.sync_server.factories import NOW, auth

JSONL = {"Content-Type": "application/json-lines"}


class _CountingImporter:
    """Reads one row a line; a line holding "bad" is quarantined. Reports progress on every row, and looks at the
    job's row from another session while it runs (what a poll on another worker would see)."""

    def __init__(self) -> None:
        self.calls: list[ImportOptions] = []
        self.seen_while_running: dict[int, tuple[int, int]] = {}  # rows done -> (processed, total) on the row

    def __call__(
        self,
        engine: Engine,
        data: bytes,
        options: ImportOptions,
        *,
        actor: User,
        now: datetime,
        tz: ZoneInfo,
        progress: Progress,
    ) -> ImportReport:
        self.calls.append(options)
        lines = data.decode().splitlines()
        report = ImportReport(kind=options.kind.value, dry_run=options.dry_run)
        for number, line in enumerate(lines, start=1):
            if "bad" in line:
                report.quarantined.append(RowIssue(number, line.split()[0], "malformed line"))
            progress(number, len(lines))
            with Session(engine) as session:
                running = (ImportJob.status == ImportStatus.RUNNING) & (ImportJob.kind == options.kind)
                job = session.exec(select(ImportJob).where(running)).one()
                self.seen_while_running[number] = (job.processed, job.total)
        report.counts = {"units_imported": len(lines) - len(report.quarantined), "units_updated": 0}
        return report


class _Refusing:
    def __call__(self, engine: Engine, data: bytes, options: ImportOptions, **_: Any) -> ImportReport:
        raise Problem("import.unreadable", "Line 1 has no Unit_ID: this is not the master-data file")


class _Crashing:
    def __call__(self, engine: Engine, data: bytes, options: ImportOptions, **_: Any) -> ImportReport:
        raise RuntimeError("SELECT secret FROM somewhere WHERE password = 'hunter2'")


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> _CountingImporter:
    importer = _CountingImporter()
    for kind in ImportKind:
        monkeypatch.setitem(jobs.IMPORTERS, kind, importer)
    return importer


def _engine(client: TestClient) -> Engine:
    app: FastAPI = client.app  # type: ignore[assignment]
    engine: Engine = app.state.context.engine
    return engine


def _finished(client: TestClient, job_id: int, headers: dict[str, str]) -> dict[str, Any]:
    """The job once it has stopped running (imports run on a thread of their own: the start answers first)."""
    for _poll in range(1200):
        job: dict[str, Any] = client.get(f"/api/imports/{job_id}", headers=headers).json()
        if job["status"] != "running":
            return job
        time.sleep(0.05)
    raise AssertionError(f"import {job_id} still running: {job}")


def _rows(count: int, bad: frozenset[int] = frozenset()) -> bytes:
    return "".join(f"U{n} {'bad' if n in bad else 'ok'}\n" for n in range(1, count + 1)).encode()


def test_import_runs_with_progress_on_its_row_and_stores_the_report(
    client: TestClient, fake: _CountingImporter
) -> None:
    admin = auth(client, "admin")
    started = client.post(
        "/api/imports/master",
        params={"file_name": "C:\\exports\\society.jsonl"},
        content=_rows(60, bad=frozenset({7, 31})),
        headers=admin | JSONL,
    )
    assert started.status_code == 202, started.text
    assert (started.json()["status"], started.json()["file_name"]) == ("running", "society.jsonl")
    job = _finished(client, started.json()["id"], admin)
    assert (job["status"], job["processed"], job["total"], job["dry_run"]) == ("done", 60, 60, False)
    assert job["report"]["counts"] == {"units_imported": 58, "units_updated": 0}
    assert [(i["line"], i["unit_id"], i["reason"]) for i in job["report"]["quarantined"]] == [
        (7, "U7", "malformed line"),
        (31, "U31", "malformed line"),
    ]
    # The row moved while the import ran: the first report, then every PROGRESS_EVERY rows, not every row.
    seen = fake.seen_while_running
    assert seen[1] == (1, 60)
    assert seen[PROGRESS_EVERY] == (1, 60)
    assert seen[PROGRESS_EVERY + 1] == seen[PROGRESS_EVERY + 5] == (PROGRESS_EVERY + 1, 60)
    assert seen[60] == (60, 60)

    csv = client.get(f"/api/imports/{job['id']}/quarantine.csv", headers=admin)
    assert csv.status_code == 200
    assert csv.headers["content-type"].startswith("text/csv")
    assert csv.text == "line,unit_id,reason\n7,U7,malformed line\n31,U31,malformed line\n"

    with Session(_engine(client)) as session:
        actions = session.exec(
            select(AuditEvent.action).where(AuditEvent.entity == "import_job").order_by(col(AuditEvent.id))
        ).all()
    assert actions == ["import.started", "import.done"]


def test_dry_run_and_master_options_reach_the_importer(client: TestClient, fake: _CountingImporter) -> None:
    admin = auth(client, "admin")
    params = {"dry_run": "true", "tariff": "RES-2025", "members_from": "2025-04-01"}
    started = client.post("/api/imports/master", params=params, content=_rows(3), headers=admin | JSONL)
    assert started.status_code == 202, started.text
    assert started.json()["dry_run"] is True
    assert _finished(client, started.json()["id"], admin)["status"] == "done"
    (options,) = fake.calls
    assert options == ImportOptions(ImportKind.MASTER, True, "RES-2025", datetime(2025, 4, 1).date())
    # The opening position has no tariff or membership date to take.
    refused = client.post(
        "/api/imports/opening_balances", params={"tariff": "X"}, content=b"unit,amount\n", headers=admin
    )
    assert (refused.status_code, refused.json()["details"]) == (422, {"field": "tariff"})


@pytest.mark.parametrize("username", ["supervisor", "accountant", "engineer1"])
def test_only_admins_import(client: TestClient, fake: _CountingImporter, username: str) -> None:
    headers = auth(client, username)
    assert client.post("/api/imports/master", content=_rows(2), headers=headers | JSONL).status_code == 403
    assert client.get("/api/imports", headers=headers).status_code == 403
    assert client.post("/api/imports/master", content=_rows(2), headers=JSONL).status_code == 401
    assert client.get("/api/imports/1").status_code == 401
    assert fake.calls == []


def test_refusals_at_the_door_say_why(client: TestClient, fake: _CountingImporter) -> None:
    admin = auth(client, "admin")
    app: FastAPI = client.app  # type: ignore[assignment]
    app.state.context.settings.max_import_bytes = 100
    too_large = client.post("/api/imports/master", content=b"x" * 101, headers=admin | JSONL)
    assert (too_large.status_code, too_large.json()["code"]) == (413, "request.too_large")
    empty = client.post("/api/imports/master", content=b"\n \n", headers=admin | JSONL)
    assert (empty.status_code, empty.json()["code"]) == (422, "import.empty_file")
    wrong_type = client.post("/api/imports/master", content=b"{}", headers=admin | {"Content-Type": "image/png"})
    assert (wrong_type.status_code, wrong_type.json()["code"]) == (415, "import.unsupported_type")
    assert "image/png" in wrong_type.json()["message"]
    latin1 = client.post("/api/imports/master", content=b'{"a": "caf\xe9"}', headers=admin | JSONL)
    assert (latin1.status_code, latin1.json()["code"]) == (422, "import.unreadable")
    assert "UTF-8" in latin1.json()["message"]
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    fake_book = client.post(
        "/api/imports/opening_readings", content=b"meter,date,value\n", headers=admin | {"Content-Type": xlsx}
    )
    assert (fake_book.status_code, fake_book.json()["code"]) == (422, "import.unreadable")
    unknown_kind = client.post("/api/imports/tariffs", content=b"x", headers=admin | JSONL)
    assert unknown_kind.status_code == 422
    bad_date = client.post(
        "/api/imports/master", params={"members_from": "April"}, content=_rows(1), headers=admin | JSONL
    )
    assert bad_date.status_code == 422
    assert all(r.json()["message"] for r in (too_large, empty, wrong_type, latin1, unknown_kind, bad_date))
    assert fake.calls == []
    assert client.get("/api/imports", headers=admin).json()["total"] == 0


def _running(client: TestClient, kind: ImportKind, heartbeat: datetime) -> int:
    with Session(_engine(client), expire_on_commit=False) as session:
        admin = session.exec(select(User).where(User.username == "admin")).one()
        job = ImportJob(
            kind=kind,
            file_name="first.jsonl",
            file_sha256="0" * 64,
            started_by_id=admin.id or 0,
            started_at=heartbeat,
            heartbeat_at=heartbeat,
            processed=10,
            total=146,
        )
        session.add(job)
        session.commit()
        assert job.id is not None
        return job.id


def test_one_running_import_per_kind(client: TestClient, fake: _CountingImporter) -> None:
    admin = auth(client, "admin")
    first = _running(client, ImportKind.MASTER, NOW - timedelta(seconds=30))
    second = client.post("/api/imports/master", content=_rows(2), headers=admin | JSONL)
    assert second.status_code == 409
    assert second.json()["code"] == "import.in_progress"
    assert second.json()["details"] == {"job_id": first, "processed": 10, "total": 146}
    # Another kind is not held up.
    other = client.post("/api/imports/opening_balances", content=b"unit,amount\nA1,10\n", headers=admin)
    assert other.status_code == 202, other.text
    assert _finished(client, other.json()["id"], admin)["status"] == "done"
    assert [c.kind for c in fake.calls] == [ImportKind.OPENING_BALANCES]


def test_a_stale_running_import_is_superseded(client: TestClient, fake: _CountingImporter) -> None:
    admin = auth(client, "admin")
    stale = _running(client, ImportKind.MASTER, NOW - jobs.IMPORT_STALE_AFTER - timedelta(seconds=1))
    started = client.post("/api/imports/master", content=_rows(2), headers=admin | JSONL)
    assert started.status_code == 202, started.text
    assert _finished(client, started.json()["id"], admin)["status"] == "done"
    old = client.get(f"/api/imports/{stale}", headers=admin).json()
    assert (old["status"], old["error_code"]) == ("failed", "import.superseded")
    assert client.get(f"/api/imports/{stale}/quarantine.csv", headers=admin).status_code == 409


def test_a_refused_file_and_a_crash_fail_the_job_in_plain_words(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin = auth(client, "admin")
    monkeypatch.setitem(jobs.IMPORTERS, ImportKind.MASTER, _Refusing())
    refused = client.post("/api/imports/master", content=_rows(2), headers=admin | JSONL).json()
    job = _finished(client, refused["id"], admin)
    assert (job["status"], job["error_code"], job["report"]) == ("failed", "import.unreadable", None)
    assert job["error"] == "Line 1 has no Unit_ID: this is not the master-data file"

    monkeypatch.setitem(jobs.IMPORTERS, ImportKind.MASTER, _Crashing())
    crashed = client.post("/api/imports/master", content=_rows(2), headers=admin | JSONL).json()
    job = _finished(client, crashed["id"], admin)
    assert (job["status"], job["error_code"]) == ("failed", "import.failed")
    assert "hunter2" not in json.dumps(job)
    no_report = client.get(f"/api/imports/{crashed['id']}/quarantine.csv", headers=admin)
    assert (no_report.status_code, no_report.json()["code"]) == (409, "import.no_report")
    # A failed import holds nothing up.
    monkeypatch.setitem(jobs.IMPORTERS, ImportKind.MASTER, _CountingImporter())
    again = client.post("/api/imports/master", content=_rows(2), headers=admin | JSONL)
    assert again.status_code == 202
    assert _finished(client, again.json()["id"], admin)["status"] == "done"


def test_imports_are_listed_newest_first_and_searched_by_file_name(client: TestClient, fake: _CountingImporter) -> None:
    admin = auth(client, "admin")
    for name in ("blocks-a.jsonl", "blocks-b.jsonl", "villas.jsonl"):
        posted = client.post("/api/imports/master", params={"file_name": name}, content=_rows(1), headers=admin | JSONL)
        assert posted.status_code == 202
        _finished(client, posted.json()["id"], admin)
    page = client.get("/api/imports", params={"limit": 2}, headers=admin).json()
    assert (page["total"], [j["file_name"] for j in page["items"]]) == (3, ["villas.jsonl", "blocks-b.jsonl"])
    found = client.get("/api/imports", params={"q": "BLOCKS"}, headers=admin).json()
    assert [j["file_name"] for j in found["items"]] == ["blocks-b.jsonl", "blocks-a.jsonl"]
    by_header = client.post(
        "/api/imports/master", content=_rows(1), headers=admin | JSONL | {"X-File-Name": "header.jsonl"}
    )
    assert _finished(client, by_header.json()["id"], admin)["file_name"] == "header.jsonl"
    assert client.get("/api/imports/999", headers=admin).status_code == 404


# --- The real master-data importer behind the job ---


@pytest.fixture
def bare_client(app: FastAPI) -> Iterator[TestClient]:
    """A server with one admin and nothing else: what a society adopting Fieldmeter starts from."""
    with Session(app.state.context.engine) as session:
        session.add(
            User(
                username="admin",
                full_name="Admin",
                role=Role.ADMIN,
                password_hash=hash_password(DEMO_PASSWORD),
                created_at=NOW,
            )
        )
        session.commit()
    with TestClient(app) as test_client:
        yield test_client


def _unit_count(client: TestClient, headers: dict[str, str]) -> int:
    total: int = client.get("/api/units", params={"limit": 1}, headers=headers).json()["total"]
    return total


def test_master_import_job_reports_what_the_importer_did(bare_client: TestClient) -> None:
    admin = auth(bare_client, "admin")
    society = build_society(seed=5, quirks=Quirks(duplicate_meters=1, malformed_line=True))

    dry = bare_client.post(
        "/api/imports/master", params={"dry_run": "true"}, content=society.data, headers=admin | JSONL
    ).json()
    dry_job = _finished(bare_client, dry["id"], admin)
    assert dry_job["status"] == "done", dry_job
    assert dry_job["report"]["counts"]["units_imported"] == len(society.importable_units)
    assert _unit_count(bare_client, admin) == 0  # a dry run writes nothing

    started = bare_client.post(
        "/api/imports/master", params={"file_name": "society.jsonl"}, content=society.data, headers=admin | JSONL
    )
    job = _finished(bare_client, started.json()["id"], admin)
    assert job["status"] == "done", job
    assert job["processed"] == job["total"] > 0
    report = job["report"]
    assert report["counts"]["units_imported"] == len(society.importable_units)
    assert report["counts"]["shared_meters"] == len(society.motors)
    assert [issue["line"] for issue in report["quarantined"]] == list(society.quarantined)
    assert _unit_count(bare_client, admin) == len(society.importable_units)
    # The clerk's CSV: one row per quarantined line, each with its reason.
    csv_lines = bare_client.get(f"/api/imports/{job['id']}/quarantine.csv", headers=admin).text.splitlines()
    assert len(csv_lines) == 1 + len(society.quarantined)
    assert [int(line.split(",")[0]) for line in csv_lines[1:]] == list(society.quarantined)

    again = bare_client.post("/api/imports/master", content=society.data, headers=admin | JSONL).json()
    counts = _finished(bare_client, again["id"], admin)["report"]["counts"]
    assert (counts["units_imported"], counts["units_unchanged"]) == (0, len(society.importable_units))


def test_master_import_job_with_an_unknown_tariff_fails_saying_so(bare_client: TestClient) -> None:
    admin = auth(bare_client, "admin")
    society = build_society(seed=5)
    started = bare_client.post(
        "/api/imports/master", params={"tariff": "NOPE"}, content=society.data, headers=admin | JSONL
    ).json()
    job = _finished(bare_client, started["id"], admin)
    assert (job["status"], job["error_code"]) == ("failed", "import.unknown_tariff")
    assert "NOPE" in job["error"]
    assert _unit_count(bare_client, admin) == 0


def test_concurrent_starts_of_one_kind_leave_one_running_job(app: FastAPI) -> None:
    """Two starts at the same moment (two workers, a double click): the partial unique index lets one job in; the
    other start answers 409 naming it."""
    engine: Engine = app.state.context.engine
    with Session(engine, expire_on_commit=False) as session:
        admin = User(username="admin", full_name="Admin", role=Role.ADMIN, password_hash="x", created_at=NOW)
        session.add(admin)
        session.commit()
    barrier = threading.Barrier(4)
    outcomes: list[ImportJob | Problem] = []

    def start(name: str) -> None:
        with Session(engine, expire_on_commit=False) as session:
            barrier.wait()
            try:
                job = jobs.start_import(
                    session,
                    ImportOptions(ImportKind.MASTER),
                    file_name=name,
                    file_sha256="0" * 64,
                    size_bytes=1,
                    actor=admin,
                    now=NOW,
                )
                outcomes.append(job)
            except Problem as problem:
                outcomes.append(problem)

    threads = [threading.Thread(target=start, args=(f"file-{n}.jsonl",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    started = [o for o in outcomes if isinstance(o, ImportJob)]
    refused = [o for o in outcomes if isinstance(o, Problem)]
    assert (len(started), len(refused)) == (1, 3)
    assert {p.code for p in refused} == {"import.in_progress"}
    assert {p.details["job_id"] for p in refused} == {started[0].id}
    with Session(engine) as session:
        assert len(session.exec(select(ImportJob)).all()) == 1


def _workbook(rows: list[tuple[object, ...]]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_opening_balances_job_from_csv_then_from_a_workbook(client: TestClient) -> None:
    admin = auth(client, "admin")
    csv_file = b"unit,amount\n2BHK-B1-GF,1500\nNOWHERE-9,10\n2BHK-B2-GF,250.50\n"
    started = client.post(
        "/api/imports/opening_balances",
        params={"file_name": "balances.csv"},
        content=csv_file,
        headers=admin | {"Content-Type": "text/csv"},
    )
    assert started.status_code == 202, started.text
    job = _finished(client, started.json()["id"], admin)
    assert job["status"] == "done", job
    assert job["report"]["counts"]["balances_imported"] == 2
    assert [(i["line"], i["unit_id"]) for i in job["report"]["quarantined"]] == [(3, "NOWHERE-9")]

    # The same balances as a workbook: nothing changes.
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    book = _workbook([("unit", "amount"), ("2BHK-B1-GF", 1500), ("2BHK-B2-GF", 250.5)])
    again = client.post("/api/imports/opening_balances", content=book, headers=admin | {"Content-Type": xlsx})
    assert again.status_code == 202, again.text
    counts = _finished(client, again.json()["id"], admin)["report"]["counts"]
    assert (counts["balances_imported"], counts["balances_unchanged"]) == (0, 2)


# --- Statistics after a bulk load ---


def test_an_import_that_wrote_refreshes_the_planner_statistics(
    client: TestClient, fake: _CountingImporter, monkeypatch: pytest.MonkeyPatch
) -> None:
    refreshed: list[Engine] = []
    monkeypatch.setattr(jobs, "refresh_statistics", refreshed.append)
    admin = auth(client, "admin")
    for dry_run in ("true", "false"):
        started = client.post(
            "/api/imports/master", params={"dry_run": dry_run}, content=_rows(3), headers=admin | JSONL
        )
        assert _finished(client, started.json()["id"], admin)["status"] == "done"
    monkeypatch.setitem(jobs.IMPORTERS, ImportKind.MASTER, _Refusing())
    refused = client.post("/api/imports/master", content=_rows(3), headers=admin | JSONL)
    assert _finished(client, refused.json()["id"], admin)["status"] == "failed"
    assert refreshed == [_engine(client)]  # the import that wrote, not the dry run nor the refused file


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)  # SQLite keeps no statistics to refresh
def test_statistics_count_a_bulk_load_at_once(database_url: str) -> None:
    engine = create_db_engine(database_url)
    try:
        with Session(engine) as session:
            block = Block(code="BULK", name="Bulk")
            session.add(block)
            session.flush()
            assert block.id is not None
            units = (
                Unit(code=f"BULK-{n:04d}", block_id=block.id, category=UnitCategory.FLAT, unit_type="2BHK")
                for n in range(400)
            )
            session.add_all(units)
            session.commit()

        def planned_units() -> float:
            with engine.connect() as connection:
                sql = "SELECT reltuples FROM pg_class WHERE relname = 'unit'"
                return float(connection.exec_driver_sql(sql).scalar_one())

        assert planned_units() != 400  # what autovacuum has not caught up with yet
        refresh_statistics(engine)
        assert planned_units() == 400
    finally:
        engine.dispose()
