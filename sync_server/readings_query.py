"""The previous approved reading of a meter: one rule for ingest, pull, review and billing.

"The previous approved reading before T" is the approved reading *with a value* (a skip is never a previous
reading) of the meter captured strictly before instant T, the newest by capture time and, for two captured at
the same instant, by server sequence (``id``). Each caller only chooses T:

- ingest and review: the judged reading's own capture time (a reading is compared with what came before it);
- pull: the server's now (the phone's "previous" is what a reading captured now would be checked against);
- billing: the start of a period, stated as the ``period`` column (``period < P``): the period was derived from
  the capture time in the society's zone when the reading was stored, so it is the same bound, and a bill keeps
  measuring from the same reading if the configured zone ever changes.

The batch form answers many (meter, T) keys in one statement (a VALUES list joined to the readings, the newest
per key by a window), so a push of 500 readings still costs one query for this, not one per meter.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Integer, column, func, values
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from sync_server.db_types import UTCDateTime
from sync_server.models import Reading, ReadingStatus

__all__ = ["PreviousKey", "last_approved", "last_approved_batch"]

#: (meter id, instant T): the last approved reading of the meter captured before T.
PreviousKey = tuple[int, datetime]


def _newest_first() -> tuple[object, object]:
    return col(Reading.captured_at).desc(), col(Reading.id).desc()


def last_approved(
    session: Session, meter_id: int, *, before: datetime | None = None, before_period: str | None = None
) -> Reading | None:
    """The previous approved reading of one meter captured before ``before`` (an instant) or in a period
    before ``before_period`` (billing's form of the same bound; see the module docstring). Exactly one bound."""
    if (before is None) == (before_period is None):
        raise ValueError("give exactly one of before / before_period")
    query = select(Reading).where(
        Reading.meter_id == meter_id,
        Reading.status == ReadingStatus.APPROVED,
        col(Reading.value).is_not(None),
    )
    if before is not None:
        query = query.where(col(Reading.captured_at) < before)
    else:
        query = query.where(col(Reading.period) < before_period)
    return session.exec(query.order_by(*_newest_first())).first()  # type: ignore[arg-type]


def last_approved_batch(session: Session, keys: Iterable[PreviousKey]) -> dict[PreviousKey, Reading]:
    """``last_approved(meter, before=T)`` for every key at once, in one statement; keys without one are absent."""
    wanted = sorted(set(keys))
    if not wanted:
        return {}
    # Keys are numbered so the window partitions by a plain integer (a timestamp in a VALUES list compares
    # exactly on both backends, but a number is cheaper to partition by and to map back).
    key_rows = values(
        column("k", Integer), column("meter_id", Integer), column("before", UTCDateTime()), name="previous_keys"
    ).data([(index, meter_id, before) for index, (meter_id, before) in enumerate(wanted)])
    key_table = key_rows.cte("previous_keys")
    rank = (
        func.row_number()
        .over(partition_by=key_table.c.k, order_by=_newest_first())  # type: ignore[arg-type]
        .label("rank")
    )
    ranked = (
        select(Reading, key_table.c.k.label("key_index"), rank)
        .join(
            key_table,
            (col(Reading.meter_id) == key_table.c.meter_id) & (col(Reading.captured_at) < key_table.c.before),
        )
        .where(Reading.status == ReadingStatus.APPROVED, col(Reading.value).is_not(None))
        .subquery("ranked")
    )
    newest = aliased(Reading, ranked)
    rows = session.exec(select(newest, ranked.c.key_index).where(ranked.c.rank == 1)).all()
    return {wanted[index]: reading for reading, index in rows}
