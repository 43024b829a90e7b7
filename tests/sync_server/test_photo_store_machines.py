"""Photos beyond one machine (docs/operations.md "Photo store"): with ``FIELDMETER_PHOTO_STORE=database`` two
server processes with their own data folders and one database serve the same photos, and a phone's upload cut on
one resumes on the other. On SQLite (one file, two apps) and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from sync_server.clock import FixedClock
from sync_server.config import PhotoStoreKind, Settings
from sync_server.main import create_app
from tests.sync_server.factories import auth, sha256
from tests.sync_server.test_photo_resume import _offset, _photo, _piece, _reading_with_photo


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"photo_store": PhotoStoreKind.DATABASE})


@pytest.fixture
def second_machine(settings: Settings, clock: FixedClock, tmp_path: Path, demo_app: FastAPI) -> Iterator[TestClient]:
    """Another server on the same database, with a data folder of its own (nothing shared on disk)."""
    other = settings.model_copy(update={"data_dir": tmp_path / "machine-2"})
    application = create_app(other, clock=clock, run_migrations=False)
    with TestClient(application) as test_client:
        yield test_client
    application.state.context.engine.dispose()


def test_an_upload_cut_on_one_machine_resumes_on_the_other(client: TestClient, second_machine: TestClient) -> None:
    data = _photo()
    headers = _reading_with_photo(client, data)
    half = len(data) // 2
    assert _piece(client, headers, data, 0, half - 1).status_code == 204

    # The phone comes back through the other machine: it knows the offset and takes the rest.
    other_headers = auth(second_machine, "engineer1")
    assert _offset(second_machine, other_headers, sha256(data)) == (204, half)
    assert _piece(second_machine, other_headers, data, half, len(data) - 1).status_code == 201

    # Either machine serves the stored photo, byte for byte; neither wrote a photo file.
    supervisor = auth(client, "supervisor")
    answer = client.get(f"/api/photos/{sha256(data)}", headers=supervisor)
    assert answer.status_code == 200
    assert answer.content == data
    assert second_machine.get(f"/api/photos/{sha256(data)}", headers=auth(second_machine, "supervisor")).content == data
    for folder in (client, second_machine):
        photo_dir = folder.app.state.context.settings.photo_dir  # type: ignore[attr-defined]
        assert not photo_dir.exists() or not any(path.is_file() for path in photo_dir.rglob("*"))


def test_a_piece_sent_to_both_machines_is_appended_once(client: TestClient, second_machine: TestClient) -> None:
    data = _photo()
    headers = _reading_with_photo(client, data)
    assert _piece(client, headers, data, 0, 99).status_code == 204
    # The same piece again through the other machine (a retry after a lost answer): refused with the offset.
    repeat = _piece(second_machine, auth(second_machine, "engineer1"), data, 0, 99)
    assert repeat.status_code == 409
    assert repeat.headers["Upload-Offset"] == "100"
    assert _piece(client, headers, data, 100, len(data) - 1).status_code == 201
    assert client.get(f"/api/photos/{sha256(data)}", headers=auth(client, "supervisor")).content == data
