"""The local store's refusals, in one module so the database and its migrations can both raise them."""

from __future__ import annotations

__all__ = [
    "DuplicateReadingError",
    "MigrationFailedError",
    "PhotoMismatchError",
    "SchemaTooNewError",
    "StoreError",
    "UnknownSchemaError",
]


class StoreError(Exception):
    """Base of the local store's refusals."""


class DuplicateReadingError(StoreError):
    """A reading with this uuid is already saved; the saved one is left exactly as it was."""

    def __init__(self, uuid: str) -> None:
        self.uuid = uuid
        super().__init__(f"reading {uuid} is already saved on this phone; a correction is a new reading")


class PhotoMismatchError(StoreError):
    """The photo file and the reading's ``photo_sha256`` do not agree."""


class SchemaTooNewError(StoreError):
    """The database was written by a newer app version; this one leaves it untouched rather than guess."""

    def __init__(self, found: int, latest: int) -> None:
        self.found = found
        self.latest = latest
        super().__init__(
            f"this phone's database is at schema version {found}, written by a newer app version "
            f"(this app knows up to {latest}); install the newer app again: the saved readings are kept"
        )


class UnknownSchemaError(StoreError):
    """An unversioned database whose tables are not any schema an older app made; left untouched."""


class MigrationFailedError(StoreError):
    """A migration raised; the whole upgrade was rolled back and the database is at its previous version."""

    def __init__(self, version: int, name: str, previous: int) -> None:
        self.version = version
        self.name = name
        self.previous = previous
        super().__init__(
            f"upgrading the phone's database failed at migration {version} ({name}); "
            f"it was rolled back and stays at schema version {previous}"
        )
