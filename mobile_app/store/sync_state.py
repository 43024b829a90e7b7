"""Small key/value facts about this phone's sync: the pull cursor, the device id, stored tokens."""

from __future__ import annotations

from collections.abc import Callable
from uuid import uuid4

from sqlmodel import Session

from mobile_app.store.database import Store
from mobile_app.store.tables import SyncStateEntry
from shared_billing.checks import DEFAULT_LIMITS, CheckLimits
from shared_billing.protocol import FieldLimits

__all__ = [
    "LIMITS_KEY",
    "PULL_CURSOR_KEY",
    "TARIFFS_KEY",
    "ZONE_KEY",
    "delete_state",
    "get_check_limits",
    "get_or_create_device_id",
    "get_pull_cursor",
    "get_state",
    "set_state",
]

PULL_CURSOR_KEY = "pull.cursor"
DEVICE_ID_KEY = "device.id"
LIMITS_KEY = "society.limits"  # the GPS limits of the last pull that carried them (FieldLimits as JSON)
ZONE_KEY = "society.zone"  # the society's IANA time zone: its billing periods are calendar months there
TARIFFS_KEY = "society.tariffs"  # the tariffs the pulled meters name (a list of FieldTariff as JSON)


def _random_device_id() -> str:
    return uuid4().hex


def read_state(session: Session, key: str) -> str | None:
    entry = session.get(SyncStateEntry, key)
    return entry.value if entry is not None else None


def write_state(session: Session, key: str, value: str) -> None:
    """Upsert inside the caller's transaction (``apply_pull`` saves its cursor with the data it pulled)."""
    entry = session.get(SyncStateEntry, key)
    if entry is None:
        session.add(SyncStateEntry(key=key, value=value))
    else:
        entry.value = value
        session.add(entry)


def get_state(*, store: Store, key: str) -> str | None:
    """The value stored under ``key``, or None."""
    with store.transaction() as session:
        return read_state(session, key)


def set_state(*, store: Store, key: str, value: str) -> None:
    """Store ``value`` under ``key``, replacing any earlier value."""
    with store.transaction() as session:
        write_state(session, key, value)


def delete_state(*, store: Store, key: str) -> None:
    """Forget ``key`` (e.g. tokens on sign-out)."""
    with store.transaction() as session:
        entry = session.get(SyncStateEntry, key)
        if entry is not None:
            session.delete(entry)


def get_pull_cursor(*, store: Store) -> int:
    """The cursor of the last applied pull; 0 means none yet (the next pull is a full one)."""
    value = get_state(store=store, key=PULL_CURSOR_KEY)
    return int(value) if value is not None else 0


def get_or_create_device_id(*, store: Store, make_id: Callable[[], str] = _random_device_id) -> str:
    """This phone's device id: made once with ``make_id`` and kept, since refresh tokens are bound to it."""
    with store.transaction() as session:
        device_id = read_state(session, DEVICE_ID_KEY)
        if device_id is None:
            device_id = make_id()
            write_state(session, DEVICE_ID_KEY, device_id)
        return device_id


def get_check_limits(*, store: Store) -> CheckLimits:
    """The society's GPS limits from the last pull, for the capture screen's verdict; the defaults before one."""
    raw = get_state(store=store, key=LIMITS_KEY)
    if raw is None:
        return DEFAULT_LIMITS
    limits = FieldLimits.model_validate_json(raw)
    return CheckLimits(gps_accuracy_limit_m=limits.gps_accuracy_limit_m, gps_radius_m=limits.gps_radius_m)
