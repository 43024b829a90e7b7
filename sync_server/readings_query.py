"""The previous approved reading of a meter: one rule for ingest, pull, review and billing.

"The previous approved reading before T" is the approved reading *with a value* (a skip is never a previous
reading) of the meter captured strictly before instant T, the newest by capture time and, for two captured at
the same instant, by server sequence (``id``). Each caller only chooses T:

- ingest and review: the judged reading's own capture time (a reading is compared with what came before it);
- pull: the server's now (the phone's "previous" is what a reading captured now would be checked against);
- billing: the start of a period, stated as the ``period`` column (``period < P``): the period was derived from
  the capture time in the society's zone when the reading was stored, so it is the same bound, and a bill keeps
  measuring from the same reading if the configured zone ever changes.

A meter's readings are its own and, for a meter installed by a replacement the phone reported, the reading that
reported it (``attributed_to``): it is stored against the old meter, as the phone sent it, but its value is the new
meter's register, read at the visit after the new meter's baseline. So the new meter's previous reading is that
value, never the baseline below it (docs/domain.md "Meter replacement").

The batch form answers many (meter, T) keys in one statement (the keys as a table, the newest reading per key by
a correlated subquery on the meter/status/capture index), so a push of 500 readings still costs one query for
this, not one per meter.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any, NamedTuple

from sqlalchemy import (
    ColumnElement,
    DateTime,
    Integer,
    String,
    and_,
    bindparam,
    case,
    func,
    literal,
    or_,
    true,
    union_all,
)
from sqlalchemy import select as sa_select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import Session, col, select

from shared_billing.protocol import PreviousReading
from sync_server.db_types import UTCDateTime
from sync_server.models import MeterReplacement, Reading, ReadingSource, ReadingStatus

__all__ = [
    "HISTORY_READS",
    "PreviousKey",
    "PreviousRow",
    "approved_history_batch",
    "as_previous_readings",
    "attributed_to",
    "baseline_last",
    "last_approved",
    "last_approved_batch",
]

#: How many approved reads make a meter's history (the pull's ``MeterAssignment.history``, the usage window): six
#: months tell a household's season from a misread digit, and a longer past says more about old habits than today.
HISTORY_READS = 6

#: (meter id, instant T): the last approved reading of the meter captured before T.
PreviousKey = tuple[int, datetime]


def attributed_to(meter_id: int) -> ColumnElement[bool]:
    """A meter's readings: its own, and the confirmed reading that reported its installation (see above)."""
    return or_(col(Reading.meter_id) == meter_id, col(Reading.uuid).in_(_reported_installation(meter_id)))


def _reported_installation(meter_id: int) -> Any:
    return select(MeterReplacement.reading_uuid).where(
        MeterReplacement.new_meter_id == meter_id, col(MeterReplacement.reading_uuid).is_not(None)
    )


def _newest_first() -> tuple[object, object]:
    return col(Reading.captured_at).desc(), col(Reading.id).desc()


def baseline_last() -> ColumnElement[int]:
    """An order term: of readings captured at the same instant, a new meter's baseline (source ``install``) comes
    after the read taken on it at that instant (a reported replacement stamps its baseline with the visit's time)."""
    return case((col(Reading.source) == ReadingSource.INSTALL, 1), else_=0)


def last_approved(
    session: Session, meter_id: int, *, before: datetime | None = None, before_period: str | None = None
) -> Reading | None:
    """The previous approved reading of one meter captured before ``before`` (an instant) or in a period
    before ``before_period`` (billing's form of the same bound; see the module docstring). Exactly one bound."""
    if (before is None) == (before_period is None):
        raise ValueError("give exactly one of before / before_period")
    query = select(Reading).where(
        attributed_to(meter_id),
        Reading.status == ReadingStatus.APPROVED,
        col(Reading.value).is_not(None),
    )
    if before is not None:
        query = query.where(col(Reading.captured_at) < before)
    else:
        query = query.where(col(Reading.period) < before_period)
    newest = (col(Reading.captured_at).desc(), baseline_last(), col(Reading.id).desc())
    return session.exec(query.order_by(*newest)).first()


class PreviousRow(NamedTuple):
    """What callers of the batch form use of the previous reading (plain columns: a push loads 500 of them, and
    ORM objects would cost more than the query)."""

    id: int
    meter_id: int
    value: Decimal
    value_text: str | None
    captured_at: datetime


def as_previous_readings(rows: Iterable[PreviousRow]) -> list[PreviousReading]:
    """A meter's history as the API carries it (the pull's ``MeterAssignment.history``, the review's), newest first."""
    return [PreviousReading(value=row.value_text, captured_at=row.captured_at) for row in rows if row.value_text]


# The columns of a PreviousRow, in its order.
_PREVIOUS_COLUMNS = (
    col(Reading.id),
    col(Reading.meter_id),
    col(Reading.value),
    col(Reading.value_text),
    col(Reading.captured_at),
)


def last_approved_batch(session: Session, keys: Iterable[PreviousKey]) -> dict[PreviousKey, PreviousRow]:
    """``last_approved(meter, before=T)`` for every key at once, in one statement; keys without one are absent."""
    wanted = sorted(set(keys))
    if not wanted:
        return {}
    keys_table = _key_table(session, wanted)
    newest = _newest_per_key(keys_table)
    if session.get_bind().dialect.name == "postgresql":
        # LATERAL: one backward index scan per key and nothing else. Joining the picked ids back to the table
        # let the planner hash-join against a sequential scan of every reading, a cost that grew with the table.
        found = sa_select(*_PREVIOUS_COLUMNS)
        per_key = newest(found).lateral("previous")
        query = sa_select(*per_key.c, keys_table.c.k).select_from(keys_table).join(per_key, true())
    else:
        # SQLite has no LATERAL; its planner does use the primary key for the join back.
        picks = select(keys_table.c.k, newest(select(Reading.id)).scalar_subquery().label("reading_id")).subquery()
        query = sa_select(*_PREVIOUS_COLUMNS, picks.c.k).join(picks, col(Reading.id) == picks.c.reading_id)
    # The reading that reported a key meter's installation, if any, in the same statement (few meters were ever
    # installed by a reported replacement; the index scan above stays as it is for every other meter).
    reported = (
        sa_select(*_PREVIOUS_COLUMNS, keys_table.c.k, literal(1).label("reported"))
        .select_from(keys_table)
        .join(MeterReplacement, col(MeterReplacement.new_meter_id) == keys_table.c.meter_id)
        .join(Reading, col(Reading.uuid) == col(MeterReplacement.reading_uuid))
        .where(
            col(Reading.status) == ReadingStatus.APPROVED,
            col(Reading.captured_at) < keys_table.c.before,
            col(Reading.value).is_not(None),
        )
    )
    own = query.add_columns(literal(0).label("reported"))
    best: dict[PreviousKey, tuple[PreviousRow, int]] = {}
    for *row, index, is_reported in session.execute(union_all(own, reported)).all():
        key, candidate = wanted[index - 1], PreviousRow(*row)
        current = best.get(key)
        # At the same instant the visit's read follows the baseline it was measured after.
        if current is None or (candidate.captured_at, is_reported) > (current[0].captured_at, current[1]):
            best[key] = (candidate, is_reported)
    return {key: row for key, (row, _) in best.items()}


def approved_history_batch(
    session: Session, keys: Iterable[PreviousKey], *, reads: int = HISTORY_READS
) -> dict[PreviousKey, list[PreviousRow]]:
    """For each (meter, T): the meter's last ``reads`` approved readings with a value captured before T, newest
    first, in one statement. The same rule as ``last_approved`` (its first row is the previous reading): the
    meter's own readings and the one that reported its installation, the baseline after the read at one instant.
    Keys without any are absent."""
    wanted = sorted(set(keys))
    if not wanted:
        return {}
    keys_table = _key_table(session, wanted)
    columns = (*_PREVIOUS_COLUMNS, col(Reading.source))
    approved_before: tuple[ColumnElement[bool], ...] = (
        col(Reading.status) == ReadingStatus.APPROVED,
        col(Reading.captured_at) < keys_table.c.before,
        col(Reading.value).is_not(None),
    )
    own_of_key = col(Reading.meter_id) == keys_table.c.meter_id
    if session.get_bind().dialect.name == "postgresql":
        # LATERAL: a backward index scan per key that stops after ``reads`` rows, however long the meter's past.
        newest = (col(Reading.captured_at).desc(), baseline_last(), col(Reading.id).desc())
        per_key = sa_select(*columns).where(own_of_key, *approved_before).order_by(*newest).limit(reads)
        lateral = per_key.lateral("history")
        own = sa_select(*lateral.c, keys_table.c.k).select_from(keys_table).join(lateral, true())
    else:
        # SQLite has no LATERAL: every approved reading of the key's meter before T (an index range scan), ranked
        # below.
        own = (
            sa_select(*columns, keys_table.c.k)
            .select_from(keys_table)
            .join(Reading, and_(own_of_key, *approved_before))
        )
    reported = (
        sa_select(*columns, keys_table.c.k)
        .select_from(keys_table)
        .join(MeterReplacement, col(MeterReplacement.new_meter_id) == keys_table.c.meter_id)
        .join(Reading, col(Reading.uuid) == col(MeterReplacement.reading_uuid))
        .where(*approved_before)
    )
    both = union_all(own, reported).subquery("candidates")
    rank = func.row_number().over(
        partition_by=both.c.k,
        order_by=(
            both.c.captured_at.desc(),
            case((both.c.source == ReadingSource.INSTALL, 1), else_=0),
            both.c.id.desc(),
        ),
    )
    ranked = sa_select(both, rank.label("rank")).subquery("ranked")
    query = (
        sa_select(*(ranked.c[name] for name in PreviousRow._fields), ranked.c.k)
        .where(ranked.c.rank <= reads)
        .order_by(ranked.c.k, ranked.c.rank)
    )
    found: dict[PreviousKey, list[PreviousRow]] = {}
    for *row, index in session.execute(query).all():
        found.setdefault(wanted[index - 1], []).append(PreviousRow(*row))
    return found


def _newest_per_key(keys_table: Any) -> Any:
    """Restrict a select on ``reading`` to the newest approved reading with a value before each key's instant."""

    def restrict(query: Any) -> Any:
        # An index range scan on (meter_id, status, captured_at) per key on both backends.
        return (
            query.where(
                col(Reading.meter_id) == keys_table.c.meter_id,
                Reading.status == ReadingStatus.APPROVED,
                col(Reading.captured_at) < keys_table.c.before,
                col(Reading.value).is_not(None),
            )
            .order_by(*_newest_first())
            .limit(1)
        )

    return restrict


def _key_table(session: Session, wanted: list[PreviousKey]) -> Any:
    """The keys as a table (k, meter_id, before), k numbering them from 1.

    PostgreSQL: two array parameters unnested WITH ORDINALITY, so the statement stays short and cached whatever
    the batch size (as ``sync_server.sql.one_of``: 1,500 bind parameters would cost psycopg a Python parse of
    the statement on every push). SQLite: the same as one JSON parameter read by ``json_each``.
    """
    if session.get_bind().dialect.name == "postgresql":
        meter_ids = bindparam(None, [meter_id for meter_id, _ in wanted], type_=ARRAY(Integer))
        befores = bindparam(None, [before for _, before in wanted], type_=ARRAY(DateTime(timezone=True)))
        return (
            func.unnest(meter_ids, befores)
            .table_valued("meter_id", "before", with_ordinality="k")
            .render_derived(name="previous_keys", with_types=False)
        )
    # One JSON text parameter, [[meter_id, before], ...], the times in the column's own stored form: a VALUES
    # list would be compiled afresh on every push (its rows are not part of SQLAlchemy's statement cache).
    dialect = session.get_bind().dialect
    stored = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
    payload = json.dumps([[meter_id, stored(before) if stored else before] for meter_id, before in wanted])
    items = func.json_each(bindparam(None, payload, type_=String)).table_valued("key", "value")
    return select(
        (items.c.key + 1).label("k"),
        func.json_extract(items.c.value, "$[0]").label("meter_id"),
        func.json_extract(items.c.value, "$[1]").label("before"),
    ).cte("previous_keys")
