"""The public names of the phone's Flet-free layers, locked; and importing them loads no UI or server code."""

from __future__ import annotations

import subprocess
import sys

import mobile_app.store
import mobile_app.sync

STORE_API = {
    "DuplicateReadingError",
    "LocalState",
    "OutboxItem",
    "PendingPhoto",
    "PhotoMismatchError",
    "ReadingRecord",
    "SchemaTooNewError",
    "Store",
    "StoreError",
    "apply_pull",
    "apply_push_results",
    "count_due_outbox",
    "delete_state",
    "finite_gps",
    "get_meters",
    "get_or_create_device_id",
    "get_pull_cursor",
    "get_tariffs",
    "get_zone",
    "get_state",
    "list_readings",
    "mark_photo_failed",
    "mark_photo_uploaded",
    "mark_retry",
    "mark_server_failure",
    "next_outbox_attempt_at",
    "open_store",
    "pending_outbox",
    "photos_to_upload",
    "recent_photo_hashes",
    "record_reading",
    "set_state",
}

SYNC_API = {
    "ApiError",
    "AuthExpired",
    "Backoff",
    "Me",
    "MemoryTokenStore",
    "ProgressCallback",
    "StoreTokenStore",
    "SyncApi",
    "SyncEngine",
    "ApiClientError",
    "SyncReport",
    "TokenPair",
    "TokenStore",
    "TransportError",
    "photo_content_type",
}


def test_store_public_api_is_locked() -> None:
    assert set(mobile_app.store.__all__) == STORE_API
    assert all(hasattr(mobile_app.store, name) for name in STORE_API)


def test_sync_public_api_is_locked() -> None:
    assert set(mobile_app.sync.__all__) == SYNC_API
    assert all(hasattr(mobile_app.sync, name) for name in SYNC_API)


def test_sync_errors_form_one_hierarchy() -> None:
    for error in (mobile_app.sync.ApiError, mobile_app.sync.AuthExpired, mobile_app.sync.TransportError):
        assert issubclass(error, mobile_app.sync.ApiClientError)


def test_importing_store_and_sync_loads_no_flet_fastapi_or_server() -> None:
    code = (
        "import sys, mobile_app.store, mobile_app.sync\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in {'flet', 'fastapi', 'sync_server'}"
        " or m.startswith('flet_'))\n"
        "print(','.join(bad))\n"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)

    assert loaded.stdout.strip() == ""
