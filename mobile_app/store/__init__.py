"""The phone's local store: SQLite via SQLModel, with the outbox that carries readings to the server.

Never imports Flet (it runs in tests and in the sync thread). Nothing here ever deletes a reading.

Errors::

    StoreError
    ├── DuplicateReadingError   the uuid is already saved; nothing changed
    ├── PhotoMismatchError      the photo file and the reading's photo_sha256 disagree
    ├── SchemaTooNewError       open_store: a newer app wrote the database; it was left untouched
    ├── UnknownSchemaError      open_store: unversioned tables no earlier app made; left untouched
    └── MigrationFailedError    open_store: an upgrade step failed; rolled back to the old version

The schema's versions and their migrations are in ``mobile_app.store.migrations``; ``open_store`` applies them.
"""

from mobile_app.store.database import Store, open_store
from mobile_app.store.errors import DuplicateReadingError, PhotoMismatchError, SchemaTooNewError, StoreError
from mobile_app.store.meters import apply_pull, get_meters, get_tariffs, get_zone
from mobile_app.store.outbox import (
    OutboxItem,
    apply_push_results,
    count_due_outbox,
    mark_retry,
    mark_server_failure,
    next_outbox_attempt_at,
    pending_outbox,
)
from mobile_app.store.photos import (
    PendingPhoto,
    mark_photo_failed,
    mark_photo_uploaded,
    photos_to_upload,
    recent_photo_hashes,
)
from mobile_app.store.readings import ReadingRecord, finite_gps, list_readings, record_reading
from mobile_app.store.sync_state import (
    delete_state,
    get_or_create_device_id,
    get_pull_cursor,
    get_state,
    set_state,
)
from mobile_app.store.tables import LocalState

__all__ = [
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
    "get_state",
    "get_tariffs",
    "get_zone",
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
]
