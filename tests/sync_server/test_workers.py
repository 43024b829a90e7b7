"""Several server processes on one database: ``serve --workers N`` (PostgreSQL only), migrations and the demo seed
done once, one secret for all, and background jobs run by one process at a time."""

from __future__ import annotations

import multiprocessing
import os
import stat
import subprocess
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from sync_server import housekeeping
from sync_server.audit import AuditSealer
from sync_server.clock import FixedClock
from sync_server.config import SECRET_FILE, Settings, load_secret_key
from sync_server.demo import DEMO_PASSWORD, DEMO_USERS
from sync_server.health_probe import expected_revision
from sync_server.main import create_app
from tests.support.browser import ServerProcess, free_port, wait_http_ok
from tests.support.live_server import FIELDMETER, LIVE_NOW
from tests.support.postgres import fresh_postgres_database, require_postgres_admin_url

START_TIMEOUT_S = 120  # two servers and two workers starting at once on two shared cores
MAX_CONNECTIONS = 80


def _server_env(database_url: str) -> dict[str, str]:
    return {
        "DATABASE_URL": database_url,
        "FIELDMETER_NOW": LIVE_NOW,
        "FIELDMETER_MOUNT_WEB_APP": "false",
        "FIELDMETER_SECRET_KEY": "",  # generated into the shared data dir: the servers race to create it
        "TZ": os.environ.get("TZ", "UTC"),
    }


def test_more_than_one_worker_on_sqlite_is_refused(tmp_path: Path) -> None:
    env = {**os.environ, "DATABASE_URL": "", "FIELDMETER_SECRET_KEY": ""}
    command = [str(FIELDMETER), "serve", "--workers", "2", "--port", str(free_port()), "--data-dir", str(tmp_path)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2
    assert "--workers 2 needs PostgreSQL" in done.stderr
    assert not (tmp_path / "fieldmeter.db").exists()  # refused before touching anything


def test_processes_migrating_one_fresh_database_at_once_all_succeed(tmp_path: Path) -> None:
    with fresh_postgres_database(require_postgres_admin_url()) as database_url:
        env = {**os.environ, "DATABASE_URL": database_url, "FIELDMETER_SECRET_KEY": ""}
        command = [str(FIELDMETER), "migrate", "--data-dir", str(tmp_path)]
        racers = [
            subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            for _ in range(3)
        ]
        outputs = [racer.communicate(timeout=120)[0] for racer in racers]
        assert [racer.returncode for racer in racers] == [0, 0, 0], outputs
        engine = create_engine(database_url)
        try:
            with engine.connect() as connection:
                versions = connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
            head = expected_revision(engine)
        finally:
            engine.dispose()
        assert versions == [head]


# --- which process holds a TCP connection (from /proc: no psutil here) ---------------------------------------


def _children(pid: int) -> set[int]:
    children = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:  # the process ended meanwhile
                continue
            if int(fields[1]) == pid:
                children.add(int(entry.name))
    return children


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    fd_dir = Path(f"/proc/{pid}/fd")
    for fd in fd_dir.iterdir() if fd_dir.exists() else ():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    return inodes


def _accepted_client_ports(pid: int, server_port: int) -> set[int]:
    """Remote ports of the established connections to ``server_port`` that process ``pid`` holds."""
    inodes = _socket_inodes(pid)
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            columns = line.split()
            local, remote, state, inode = columns[1], columns[2], columns[3], columns[9]
            if state == "01" and int(local.rsplit(":", 1)[1], 16) == server_port and inode in inodes:
                ports.add(int(remote.rsplit(":", 1)[1], 16))
    return ports


def _workers_answering(parent: int, url: str, port: int) -> dict[int, int]:
    """Open keep-alive connections one by one until two worker processes hold some: {worker pid: connections}."""
    held: dict[int, int] = {}
    with ExitStack() as stack:
        for _ in range(MAX_CONNECTIONS):
            client = stack.enter_context(httpx.Client(base_url=url, timeout=60, trust_env=False))
            assert client.get("/api/health").json()["status"] == "ok"
            held = {}
            for worker in _children(parent):
                count = len(_accepted_client_ports(worker, port))
                if count:
                    held[worker] = count
            if len(held) >= 2:
                break
            time.sleep(0.02)
    return held


def _log_text(process: ServerProcess) -> str:
    return process.log_path.read_text(errors="replace")


def test_two_workers_and_a_second_server_start_together_on_a_fresh_database(tmp_path: Path) -> None:
    data_dir = tmp_path / "shared-data"  # one data dir: the generated secret is created by whoever is first
    with ExitStack() as stack:
        database_url = stack.enter_context(fresh_postgres_database(require_postgres_admin_url()))
        env = _server_env(database_url)
        ports = {"workers": free_port(), "single": free_port()}
        servers = {
            name: ServerProcess(
                [str(FIELDMETER), "serve", "--demo", "--port", str(port), "--data-dir", str(data_dir)]
                + (["--workers", "2"] if name == "workers" else []),
                log_path=tmp_path / f"{name}.log",
                env=env,
                name=name,
            )
            for name, port in ports.items()
        }
        for server in servers.values():  # at the same moment: both migrate, seed and create the secret
            stack.enter_context(server)
        urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
        for name, url in urls.items():
            wait_http_ok(f"{url}/api/health", timeout=START_TIMEOUT_S, process=servers[name])

        logs = [_log_text(server) for server in servers.values()]
        assert sum(log.count("Demo society seeded.") for log in logs) == 1, logs
        assert sum(log.count("demo seed skipped") for log in logs) == 1, logs

        held = _workers_answering(servers["workers"].pid, urls["workers"], ports["workers"])
        assert len(held) == 2, f"only {held} answered\n{_log_text(servers['workers'])}"

        # One secret: a token signed by one process is good at the other server (and so at every worker).
        login = {"username": "engineer1", "password": DEMO_PASSWORD, "device_id": "workers-test"}
        with httpx.Client(base_url=urls["workers"], timeout=60, trust_env=False) as http:
            token = http.post("/api/auth/login", json=login).raise_for_status().json()["access_token"]
        with httpx.Client(base_url=urls["single"], timeout=60, trust_env=False) as http:
            pulled = http.get("/api/sync/pull", headers={"Authorization": f"Bearer {token}"})
        assert pulled.status_code == 200, pulled.text
        assert pulled.json()["meters"]
        assert [p.name for p in data_dir.iterdir() if p.name.startswith(f".{SECRET_FILE}")] == []  # no temp left

        engine = create_engine(database_url)
        try:
            with engine.connect() as connection:
                versions = connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
                users = connection.execute(text('SELECT count(*) FROM "user"')).scalar_one()
            head = expected_revision(engine)
        finally:
            engine.dispose()
        assert versions == [head]
        assert users == len(DEMO_USERS)  # seeded once
        for server in servers.values():
            server.assert_running()


# --- the secret: exactly one value wins a race ------------------------------------------------------------------


def _load_after(barrier: Any, data_dir: str, answers: Any) -> None:
    barrier.wait()
    answers.put(load_secret_key(Settings(data_dir=Path(data_dir), secret_key=None)))


def test_processes_racing_to_create_the_secret_all_get_the_one_written(tmp_path: Path) -> None:
    context = multiprocessing.get_context("fork")
    racers = 8
    barrier = context.Barrier(racers)
    answers = context.Queue()
    processes = [context.Process(target=_load_after, args=(barrier, str(tmp_path), answers)) for _ in range(racers)]
    for process in processes:
        process.start()
    keys = [answers.get(timeout=60) for _ in processes]
    for process in processes:
        process.join(60)
        assert process.exitcode == 0
    written = (tmp_path / SECRET_FILE).read_text()
    assert set(keys) == {written}
    assert len(written) >= 32
    assert stat.S_IMODE((tmp_path / SECRET_FILE).stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == [SECRET_FILE]


def test_an_empty_secret_file_is_refused_not_used(tmp_path: Path) -> None:
    (tmp_path / SECRET_FILE).write_text("")
    with pytest.raises(ValueError, match="no usable secret"):
        load_secret_key(Settings(data_dir=tmp_path, secret_key=None))


# --- background jobs: two app instances on one database, one of them works ---------------------------------------


def test_two_app_instances_do_not_both_run_a_background_job(
    settings: Settings, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs: dict[str, list[str]] = {"refresh": [], "seal": []}
    monkeypatch.setattr(housekeeping, "_refresh_and_log", lambda context: runs["refresh"].append(str(id(context))))
    monkeypatch.setattr(AuditSealer, "run_once", lambda sealer: runs["seal"].append(sealer.holder))
    # Every 1.2 s; a lease lasts two periods, so the holder keeps it by renewing and the other never gets a turn.
    quick = settings.model_copy(update={"status_refresh_minutes": 0.02})
    apps = [create_app(quick, clock=clock, run_migrations=False) for _ in range(2)]
    try:
        with TestClient(apps[0]), TestClient(apps[1]):
            deadline = time.monotonic() + 20
            while (len(runs["refresh"]) < 3 or len(runs["seal"]) < 3) and time.monotonic() < deadline:
                time.sleep(0.2)
    finally:
        for app in apps:
            app.state.context.engine.dispose()
    assert len(runs["refresh"]) >= 3
    assert len(runs["seal"]) >= 3
    assert len(set(runs["refresh"])) == 1, runs
    assert len(set(runs["seal"])) == 1, runs
