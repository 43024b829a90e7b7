"""Backup and restore (sync_server/backup.py, ``fieldmeter backup`` / ``restore``) on SQLite and PostgreSQL.

The restore drill runs real server processes and the real CLI: bills made, backed up while the server runs,
server stopped, data dir wiped and database dropped, restored, server started again: the same bills, ledgers,
PDFs and photos, and the audit chain intact. The in-process tests cover the archive's rules: the manifest, a
tampered or cut archive refused with nothing written, a non-empty target refused, retention, a backup taken while
a writer commits, an older schema upgraded, the secret's checks and pg_dump missing.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sqlite3
import stat
import subprocess
import tarfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from alembic.script import ScriptDirectory
from psycopg import sql
from pypdf import PdfReader
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlmodel import Session
from typer.testing import CliRunner

from sync_server.audit import chain_key, seal_pending, verify_chain
from sync_server.backup import (
    ArchiveRejected,
    BackupError,
    BackupRefused,
    backup_dir_of,
    create_backup,
    restore_backup,
)
from sync_server.cli import app
from sync_server.clock import FixedClock
from sync_server.config import Settings
from sync_server.db import alembic_config, create_db_engine, migrate
from sync_server.demo import seed_demo
from sync_server.models import AuditEvent
from tests.support.live_server import FIELDMETER, LIVE_NOW, LiveServer, start_live_server
from tests.support.postgres import fresh_postgres_database, libpq_url, postgres_admin_url, require_postgres_admin_url
from tests.sync_server.factories import NOW, jpeg_bytes, meters_by_unit, push, reading, sha256

SECRET = "s" * 48
PERIOD = LIVE_NOW[:7]
CLI_TIMEOUT_S = 120  # liveness bounds, not speed figures
WAIT_S = 60


def _head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None
    return head


# --- in-process: a server's data dir and database, made directly --------------------------------------------------


def _settings(data_dir: Path, database_url: str | None, secret_key: str | None = None, **extra: Any) -> Settings:
    return Settings(data_dir=data_dir, DATABASE_URL=database_url, secret_key=secret_key, now=NOW, **extra)


def _photos(data_dir: Path, count: int) -> dict[str, bytes]:
    photos = {}
    for number in range(count):
        data = jpeg_bytes(color=(number * 40 % 256, 90, 200))
        path = data_dir / "photos" / sha256(data)[:2] / sha256(data)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        photos[sha256(data)] = data
    return photos


@pytest.fixture
def source(database_url: str, tmp_path: Path) -> Settings:
    """A server's data: the demo society, three sealed audit events, two photos and a secret file."""
    data_dir = tmp_path / "source"
    data_dir.mkdir()
    (data_dir / "secret.key").write_text(SECRET)
    (data_dir / "secret.key").chmod(0o600)
    _photos(data_dir, 2)
    (data_dir / "photos" / "ab").mkdir(exist_ok=True)
    (data_dir / "photos" / "ab" / ".upload-partial").write_bytes(b"half an upload")  # not a photo yet
    engine = create_db_engine(database_url)
    assert seed_demo(engine, now=NOW, tz=Settings().tz)
    with Session(engine) as session:
        for number in range(3):
            session.add(AuditEvent(at=NOW, action="t.backup", entity="t", entity_id=str(number), detail={}))
        session.commit()
    seal_pending(engine, chain_key(SECRET))
    engine.dispose()
    return _settings(data_dir, database_url)


@pytest.fixture
def target(source: Settings, tmp_path: Path) -> Iterator[Settings]:
    """An empty place to restore into, on the source's kind of database."""
    if source.sqlalchemy_url.startswith("sqlite"):
        yield _settings(tmp_path / "restored", None)
        return
    with fresh_postgres_database(require_postgres_admin_url()) as url:
        yield _settings(tmp_path / "restored", url)


def _members(archive: Path) -> dict[str, bytes]:
    with tarfile.open(archive, "r:gz") as tar:
        return {info.name: tar.extractfile(info).read() for info in tar.getmembers()}  # type: ignore[union-attr]


def _rewrite(archive: Path, change: Any) -> Path:
    """A copy of ``archive`` with its members passed through ``change(members) -> members`` (order kept)."""
    members = change(_members(archive))
    forged = archive.with_name(
        f"forged-{getattr(change, '__name__', 'change')}-{len(list(archive.parent.iterdir()))}.tar.gz"
    )
    with tarfile.open(forged, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return forged


def _counts(url: str) -> dict[str, int]:
    engine = create_db_engine(url)
    with engine.connect() as connection:
        counts = {
            table: int(connection.execute(text(f'SELECT count(*) FROM "{table}"')).scalar_one())
            for table in ("block", "unit", "meter", "user", "reading", "bill", "audit_event")
        }
    engine.dispose()
    return counts


def test_the_archive_holds_database_photos_and_secret_with_a_checked_manifest(source: Settings, tmp_path: Path) -> None:
    result = create_backup(source, tmp_path / "out")

    assert result.path.parent == tmp_path / "out"
    assert stat.S_IMODE(result.path.stat().st_mode) == 0o600
    assert result.size_bytes == result.path.stat().st_size
    assert [p.name for p in (tmp_path / "out").iterdir()] == [result.path.name]  # no partial or staging left
    members = _members(result.path)
    manifest = json.loads(members.pop("manifest.json"))
    assert manifest == result.manifest
    kind = "sqlite" if source.sqlalchemy_url.startswith("sqlite") else "postgresql"
    assert manifest["format"] == "fieldmeter-backup"
    assert manifest["format_version"] == 1
    assert manifest["created_at"].startswith(NOW.isoformat()[:16])  # the server's clock, in UTC
    assert manifest["fieldmeter_version"]
    assert manifest["database"]["kind"] == kind
    assert manifest["database"]["schema_revision"] == _head_revision()
    assert manifest["database"]["row_counts"] == manifest["database"]["row_counts"] | _counts(source.sqlalchemy_url)
    assert manifest["database"]["row_counts"]["audit_event"] >= 3  # the seed's and ours
    assert members["secret.key"] == SECRET.encode()
    photos = sorted(name for name in members if name.startswith("photos/"))
    assert manifest["photo_count"] == len(photos) == 2  # the dot-named upload in progress is not one
    assert all(name.split("/")[2] == hashlib.sha256(members[name]).hexdigest() for name in photos)
    assert {entry["path"] for entry in manifest["files"]} == set(members)
    for entry in manifest["files"]:
        data = members[entry["path"]]
        assert (entry["size"], entry["sha256"]) == (len(data), hashlib.sha256(data).hexdigest())


def test_a_restore_brings_back_the_same_data_with_an_intact_audit_chain(source: Settings, target: Settings) -> None:
    archive = create_backup(source).path
    assert archive.parent == backup_dir_of(source) == source.data_dir / "backups"

    result = restore_backup(archive, target)

    assert result.schema_revision == result.archived_revision == _head_revision()
    before, after = _counts(source.sqlalchemy_url), _counts(target.sqlalchemy_url)
    assert after == before | {"audit_event": before["audit_event"] + 1}  # the restore is audited
    assert result.row_counts["audit_event"] == after["audit_event"]
    for path in (source.data_dir / "photos").rglob("*"):
        if path.is_file() and not path.name.startswith("."):
            twin = target.photo_dir / path.relative_to(source.photo_dir)
            assert twin.read_bytes() == path.read_bytes()
            assert stat.S_IMODE(twin.stat().st_mode) == 0o600
    assert not list(target.photo_dir.rglob(".upload-*"))
    secret = target.data_dir / "secret.key"
    assert (secret.read_text(), stat.S_IMODE(secret.stat().st_mode)) == (SECRET, 0o600)
    assert sorted(p.name for p in target.data_dir.iterdir() if p.name.startswith(".")) == []
    engine = create_db_engine(target.sqlalchemy_url)
    seal_pending(engine, chain_key(SECRET))
    report = verify_chain(engine, chain_key(SECRET))
    with Session(engine) as session:
        restored = session.execute(text("SELECT entity_id FROM audit_event WHERE action = 'backup.restored'")).all()
    engine.dispose()
    assert report.intact, report
    assert report.sealed == after["audit_event"]
    assert [row[0] for row in restored] == [archive.name]


def test_a_tampered_or_cut_archive_is_refused_before_anything_is_written(source: Settings, target: Settings) -> None:
    archive = create_backup(source).path
    photo = next(name for name in _members(archive) if name.startswith("photos/"))

    def flip(members: dict[str, bytes]) -> dict[str, bytes]:
        data = bytearray(members[photo])
        data[-3] ^= 0xFF
        return members | {photo: bytes(data)}

    def extra(members: dict[str, bytes]) -> dict[str, bytes]:
        manifest = members.pop("manifest.json")
        return members | {"photos/zz/planted": b"x", "manifest.json": manifest}

    def unlisted_secret(members: dict[str, bytes]) -> dict[str, bytes]:
        return members | {"secret.key": b"t" * 48}

    cut = archive.with_name("cut.tar.gz")
    cut.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    cases = [
        (_rewrite(archive, flip), photo),
        (_rewrite(archive, lambda m: {k: v for k, v in m.items() if k != "manifest.json"}), "manifest.json"),
        (_rewrite(archive, extra), "photos/zz/planted"),
        (_rewrite(archive, unlisted_secret), "secret.key"),
        (cut, None),
    ]
    for bad, member in cases:
        with pytest.raises(ArchiveRejected) as refused:
            restore_backup(bad, target)
        if member is not None:
            assert refused.value.member == member, refused.value
        assert not target.data_dir.exists()
        if not target.sqlalchemy_url.startswith("sqlite"):
            assert _counts_or_none(target.sqlalchemy_url) is None  # still no tables


def _counts_or_none(url: str) -> dict[str, int] | None:
    engine = create_db_engine(url)
    with engine.connect() as connection:
        tables = connection.execute(
            text("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'")
        ).scalar_one()
    engine.dispose()
    return None if tables == 0 else _counts(url)


def test_a_target_that_is_not_empty_is_refused_and_left_alone(source: Settings, target: Settings) -> None:
    archive = create_backup(source).path
    target.data_dir.mkdir()
    (target.data_dir / "notes.txt").write_text("mine")
    with pytest.raises(BackupRefused, match="not empty"):
        restore_backup(archive, target)
    assert [p.name for p in target.data_dir.iterdir()] == ["notes.txt"]

    # The source's own database (full of tables) as the target, with an empty data dir: refused too.
    onto_source = _settings(target.data_dir.parent / "elsewhere", source.database_url)
    message = "exists" if source.sqlalchemy_url.startswith("sqlite") else "target database is not empty"
    with pytest.raises(BackupRefused, match=message):
        restore_backup(archive, onto_source)
    assert not onto_source.data_dir.exists()


def test_restore_keeps_a_backups_folder_already_in_the_data_dir(tmp_path: Path, sqlite_template: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    shutil.copyfile(sqlite_template, data_dir / "fieldmeter.db")
    (data_dir / "secret.key").write_text(SECRET)
    archive = create_backup(_settings(data_dir, None)).path
    # The server's data is lost but its backups folder survived: restore from it into the same data dir.
    for entry in data_dir.iterdir():
        if entry.name != "backups":
            entry.unlink()
    restore_backup(archive, _settings(data_dir, None))
    assert sorted(p.name for p in data_dir.iterdir()) == ["backups", "fieldmeter.db", "secret.key"]
    assert archive.is_file()


def test_the_secret_in_the_environment_must_match_the_archives(source: Settings, target: Settings) -> None:
    archive = create_backup(source).path
    other = target.model_copy(update={"secret_key": "o" * 40})
    with pytest.raises(BackupRefused, match="FIELDMETER_SECRET_KEY differs"):
        restore_backup(archive, other)
    assert not target.data_dir.exists()

    same = target.model_copy(update={"secret_key": SECRET})
    result = restore_backup(archive, same)
    assert result.secret == "FIELDMETER_SECRET_KEY"
    assert not (target.data_dir / "secret.key").exists()  # kept where the operator keeps it


def test_a_secret_given_in_the_environment_is_backed_up(tmp_path: Path, sqlite_template: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    shutil.copyfile(sqlite_template, data_dir / "fieldmeter.db")
    result = create_backup(_settings(data_dir, None, secret_key=SECRET))
    assert _members(result.path)["secret.key"] == SECRET.encode()
    assert result.manifest["secret"] == {"file": "secret.key", "source": "environment"}


def test_nothing_to_back_up_is_refused(tmp_path: Path, sqlite_template: Path) -> None:
    with pytest.raises(BackupRefused, match="no server secret"):
        create_backup(_settings(tmp_path / "none", None))
    (tmp_path / "none").mkdir()
    (tmp_path / "none" / "secret.key").write_text(SECRET)
    with pytest.raises(BackupRefused, match="no database"):
        create_backup(_settings(tmp_path / "none", None))
    shutil.copyfile(sqlite_template, tmp_path / "none" / "fieldmeter.db")
    with pytest.raises(BackupRefused, match="secret is not usable"):
        create_backup(_settings(tmp_path / "none", None, secret_key="short"))
    assert not (tmp_path / "none" / "backups").exists() or not list((tmp_path / "none" / "backups").iterdir())


def test_retention_keeps_the_newest_archives_and_nothing_else_is_touched(tmp_path: Path, sqlite_template: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    shutil.copyfile(sqlite_template, data_dir / "fieldmeter.db")
    (data_dir / "secret.key").write_text(SECRET)
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    (out / "fieldmeter-backup-copy.tar.gz").write_text("an operator's own copy")
    settings = _settings(data_dir, None, backup_keep=3)
    made = [create_backup(settings, out, keep=2) for _ in range(4)]

    assert made[0].deleted == ()
    assert made[2].deleted == (made[0].path,)
    assert made[3].deleted == (made[1].path,)
    archives = sorted(p.name for p in out.iterdir() if p.name.startswith("fieldmeter-backup-2"))
    assert archives == sorted(result.path.name for result in made[2:])
    assert (out / "notes.txt").read_text() == "mine"
    assert (out / "fieldmeter-backup-copy.tar.gz").exists()

    # The setting is the default: three kept.
    made.append(create_backup(settings, out))
    made.append(create_backup(settings, out))
    kept = sorted(p.name for p in out.iterdir() if p.name.startswith("fieldmeter-backup-2"))
    assert kept == sorted(result.path.name for result in made[3:])


def test_a_backup_taken_while_a_writer_commits_is_one_consistent_snapshot(
    tmp_path: Path, sqlite_template: Path
) -> None:
    """Each of the writer's transactions adds two events with one entity id: a consistent copy never has one."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    shutil.copyfile(sqlite_template, data_dir / "fieldmeter.db")
    (data_dir / "secret.key").write_text(SECRET)
    settings = _settings(data_dir, None)
    engine = create_db_engine(settings.sqlalchemy_url)  # WAL, as the server runs it
    stop = threading.Event()
    written = [0]

    def writer() -> None:
        while not stop.is_set():
            with Session(engine) as session:
                for _ in range(2):
                    session.add(AuditEvent(at=NOW, action="t.pair", entity="t", entity_id=str(written[0]), detail={}))
                session.commit()
            written[0] += 1

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        while written[0] < 20:
            time.sleep(0.01)
        archives = []
        for _ in range(3):
            archives.append(create_backup(settings, tmp_path / "out"))
            time.sleep(0.05)
    finally:
        stop.set()
        thread.join(timeout=WAIT_S)
        engine.dispose()
    for result in archives:
        copy = tmp_path / f"{result.path.name}.db"
        copy.write_bytes(_members(result.path)["database/fieldmeter.db"])
        with sqlite3.connect(copy) as db:
            assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            pairs = db.execute("SELECT entity_id, count(*) FROM audit_event GROUP BY entity_id").fetchall()
            total = db.execute("SELECT count(*) FROM audit_event").fetchone()[0]
        assert pairs
        assert {count for _, count in pairs} == {2}
        assert result.manifest["database"]["row_counts"]["audit_event"] == total
    assert written[0] > archives[0].manifest["database"]["row_counts"]["audit_event"] // 2  # it wrote on


def test_an_archive_of_an_older_schema_is_upgraded_on_restore(tmp_path: Path) -> None:
    data_dir = tmp_path / "old"
    engine = create_db_engine(f"sqlite:///{data_dir / 'fieldmeter.db'}")
    migrate(engine, "0011")
    engine.dispose()
    (data_dir / "secret.key").write_text(SECRET)
    archive = create_backup(_settings(data_dir, None))
    assert archive.manifest["database"]["schema_revision"] == "0011"

    result = restore_backup(archive.path, _settings(tmp_path / "new", None))
    assert (result.archived_revision, result.schema_revision) == ("0011", _head_revision())


def test_a_missing_pg_dump_is_named_and_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "secret.key").write_text(SECRET)
    with fresh_postgres_database(require_postgres_admin_url()) as database_url:
        monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
        with pytest.raises(BackupError, match="pg_dump is not installed"):
            create_backup(_settings(data_dir, database_url), tmp_path / "out")
    assert list((tmp_path / "out").iterdir()) == []


def test_the_commands_exit_codes(tmp_path: Path, sqlite_template: Path) -> None:
    env = {"DATABASE_URL": "", "FIELDMETER_SECRET_KEY": "", "FIELDMETER_NOW": LIVE_NOW}
    runner = CliRunner()
    empty = runner.invoke(app, ["backup", "--data-dir", str(tmp_path / "none")], env=env)
    assert empty.exit_code == 2, empty.output

    data_dir = tmp_path / "data"
    data_dir.mkdir()
    shutil.copyfile(sqlite_template, data_dir / "fieldmeter.db")
    (data_dir / "secret.key").write_text(SECRET)
    made = runner.invoke(app, ["backup", "--data-dir", str(data_dir), "--json"], env=env)
    assert made.exit_code == 0, made.output
    archive = Path(json.loads(made.stdout)["path"])

    garbage = tmp_path / "garbage.tar.gz"
    garbage.write_bytes(b"not an archive")
    refused = runner.invoke(app, ["restore", str(garbage), "--data-dir", str(tmp_path / "r1"), "--json"], env=env)
    assert refused.exit_code == 1
    assert json.loads(refused.stdout)["member"] == "garbage.tar.gz"
    assert not (tmp_path / "r1").exists()

    occupied = runner.invoke(app, ["restore", str(archive), "--data-dir", str(data_dir)], env=env)
    assert occupied.exit_code == 2
    assert "not empty" in occupied.stderr

    restored = runner.invoke(app, ["restore", str(archive), "--data-dir", str(tmp_path / "r2")], env=env)
    assert restored.exit_code == 0, restored.output
    assert "schema" in restored.stdout


# --- the restore drill: real processes, the real CLI ---------------------------------------------------------------


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(FIELDMETER), *args],
        env=os.environ | {"FIELDMETER_SECRET_KEY": "", "TZ": "UTC"} | env,
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT_S,
        check=False,
    )


def _verified(live: LiveServer) -> dict[str, Any]:
    """``fieldmeter audit verify --json`` once the server has sealed everything (it seals every second)."""
    deadline = time.monotonic() + WAIT_S
    while True:
        done = _cli("audit", "verify", "--read-only", "--json", "--data-dir", str(live.data_dir), env=_db(live))
        report: dict[str, Any] = json.loads(done.stdout)
        if done.returncode != 0 or report["unsealed"] == 0 or time.monotonic() > deadline:
            return report
        time.sleep(0.2)


def _db(live: LiveServer) -> dict[str, str]:
    return {"DATABASE_URL": live.database_url}


def _make_bills(live: LiveServer) -> str:
    """A read with a photo, approved; block B's run drafted and issued; one bill part paid. Answers the photo hash."""
    now = datetime.fromisoformat(LIVE_NOW)
    photo = jpeg_bytes(color=(10, 200, 30))
    with live.client(live.login("engineer1")) as http:
        headers = dict(http.headers)
        meter = meters_by_unit(http, headers)["5BHK-B17-FF"]  # type: ignore[arg-type]
        item = reading(
            meter,
            value=str(int(meter["previous"]["value"]) + 77),
            photo_sha256=sha256(photo),
            captured_at=(now - timedelta(minutes=5)).isoformat(),
        )
        push(http, headers, [item], sent_at=now)  # type: ignore[arg-type]
        uploaded = http.put(f"/api/photos/{sha256(photo)}", content=photo, headers={"Content-Type": "image/jpeg"})
        assert uploaded.status_code == 201, uploaded.text
    with live.client(live.login("supervisor")) as http:
        assert http.post(f"/api/review/readings/{item['uuid']}/approve").is_success
    with live.client(live.login("admin")) as http:
        block = next(b["id"] for b in http.get("/api/blocks").json()["items"] if b["code"] == "B")
        started = http.post("/api/billing/runs", json={"block_id": block, "period": PERIOD})
        assert started.status_code == 202, started.text
        deadline = time.monotonic() + WAIT_S
        while (run := http.get(f"/api/billing/runs/{started.json()['id']}").json())["status"] == "running":
            assert time.monotonic() < deadline, run
            time.sleep(0.1)
        assert run["status"] == "done", run
        assert run["created"] >= 2, run
        issued = http.post(f"/api/billing/runs/{run['id']}/issue")
        assert issued.status_code == 200, issued.text
        first = issued.json()[0]
    with live.client(live.login("accountant")) as http:
        body = {"unit_id": first["unit_id"], "bill_id": first["id"], "amount": "500.00", "paid_on": LIVE_NOW[:10]}
        paid = http.post("/api/payments", json=body | {"mode": "upi"})
        assert paid.is_success, paid.text
    return sha256(photo)


def _state(live: LiveServer, photo: str) -> dict[str, Any]:
    """What must survive: every bill (number, totals, status, lines), each ledger, each PDF's text, the photo."""
    with live.client(live.login("admin")) as http:
        bills = http.get("/api/bills", params={"limit": 200}).json()["items"]
        ledgers = {bill["unit_id"]: http.get(f"/api/accounts/{bill['unit_id']}/ledger").json() for bill in bills}
        pdfs = {}
        for bill in bills:
            link = http.post(f"/api/bills/{bill['id']}/pdf-link").json()["url"]
            document = http.get(link)
            assert document.status_code == 200
            pdfs[bill["bill_number"]] = "\n".join(
                page.extract_text() for page in PdfReader(io.BytesIO(document.content)).pages
            )
        events = [
            (e["id"], e["action"], e["entity_id"])
            for e in http.get("/api/audit/events", params={"limit": 1000}).json()["items"]
        ]
    with live.client(live.login("supervisor")) as http:
        picture = http.get(f"/api/photos/{photo}")
        assert picture.status_code == 200
    summary = [
        {
            key: bill[key]
            for key in ("bill_number", "unit_code", "period", "status", "charges", "total", "payable", "lines")
        }
        for bill in bills
    ]
    return {"bills": summary, "ledgers": ledgers, "pdfs": pdfs, "photo": picture.content, "events": events}


def _recreate_database(url: str) -> None:
    name = make_url(url).database
    assert name
    admin = postgres_admin_url()
    assert admin is not None
    with psycopg.connect(libpq_url(admin), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8'").format(sql.Identifier(name)))


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_restore_drill_backup_wipe_restore_gives_the_same_bills_and_an_intact_audit_log(
    backend: str, tmp_path: Path
) -> None:
    archives = tmp_path / "archives"
    with ExitStack() as stack:
        live = start_live_server(stack, tmp_path, backend)
        photo = _make_bills(live)
        before = _state(live, photo)
        assert "partly_paid" in {bill["status"] for bill in before["bills"]}, before["bills"]
        assert _verified(live)["intact"]

        # Backed up while the server runs, with the real command.
        made = _cli("backup", "--to", str(archives), "--data-dir", str(live.data_dir), "--json", env=_db(live))
        assert made.returncode == 0, made.stderr
        archive = Path(json.loads(made.stdout)["path"])
        assert json.loads(made.stdout)["photos"] == 1

        # Disaster: the server stops, its data dir and database are gone.
        live.process.stop()
        shutil.rmtree(live.data_dir)
        if backend == "postgresql":
            _recreate_database(live.database_url)

        restored = _cli("restore", str(archive), "--data-dir", str(live.data_dir), "--json", env=_db(live))
        assert restored.returncode == 0, restored.stderr
        assert json.loads(restored.stdout)["photos"] == 1

        again = start_live_server(stack, tmp_path, backend, database_url=live.database_url)
        after = _state(again, photo)
        report = _verified(again)

    assert after["bills"] == before["bills"]
    assert after["ledgers"] == before["ledgers"]
    assert after["pdfs"] == before["pdfs"]
    assert after["photo"] == before["photo"]
    # The log is the one before, plus the restore; the chain keyed by the restored secret verifies.
    assert after["events"][1:] == before["events"]
    assert after["events"][0][1:] == ("backup.restored", archive.name)
    assert report["intact"], report
    assert report["sealed"] == len(after["events"])


def test_the_running_servers_clock_dates_the_archive(tmp_path: Path, sqlite_template: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    shutil.copyfile(sqlite_template, data_dir / "fieldmeter.db")
    (data_dir / "secret.key").write_text(SECRET)
    later = FixedClock(NOW + timedelta(days=40, hours=3))
    result = create_backup(_settings(data_dir, None), clock=later)
    assert result.manifest["created_at"] == later().isoformat()
    assert result.path.name.startswith(f"fieldmeter-backup-{later():%Y%m%dT%H%M%S}.000000Z-")


def test_an_archive_restores_only_onto_its_own_kind_of_database(tmp_path: Path, sqlite_template: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    shutil.copyfile(sqlite_template, data_dir / "fieldmeter.db")
    (data_dir / "secret.key").write_text(SECRET)
    archive = create_backup(_settings(data_dir, None)).path
    with fresh_postgres_database(require_postgres_admin_url()) as url:
        onto = _settings(tmp_path / "restored", url)
        with pytest.raises(BackupRefused, match="holds a sqlite database but the target is postgresql"):
            restore_backup(archive, onto)
        assert _counts_or_none(url) is None
    assert not (tmp_path / "restored").exists()
