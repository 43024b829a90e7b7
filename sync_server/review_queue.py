"""The review list at volume: which readings a filter selects and in which order, a page of them with the true
total, each filter's choices with their counts, and bulk approval of the clean ones.

A page costs the same few queries whatever its size: the total, the clean count, the page's rows, then the items'
facts (``sync_server.review.review_facts``, a fixed number). Bulk approval selects the clean readings the filter
selects *now*, then one conditional UPDATE decides those still waiting; the supervisor confirmed a count, and a
different count (a push arrived, another supervisor decided some) rolls it back and says so, so nothing is approved
unseen and nothing twice.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Integer, String, and_, cast, exists, false, func, or_, update
from sqlalchemy import select as sa_select
from sqlalchemy.sql import Select
from sqlmodel import Session, col

from shared_billing.api_models import Facet, ReviewFacets, ReviewFilter
from shared_billing.protocol import OcrVerdict, ReviewSort
from sync_server.api.paging import count_of, matching
from sync_server.models import (
    Block,
    Meter,
    Photo,
    Reading,
    ReadingFlagRecord,
    ReadingSource,
    ReadingStatus,
    Unit,
    User,
)
from sync_server.problems import Problem
from sync_server.review import DecidedReading, ocr_switched_on, record_decision_events
from sync_server.sql import one_of

__all__ = ["approve_clean", "clean_reading", "ocr_pending", "review_facets", "review_page_rows"]


def _flagged() -> Any:
    return exists().where(col(ReadingFlagRecord.reading_uuid) == col(Reading.uuid))


def _photo_in() -> ColumnElement[bool]:
    return exists().where(col(Photo.sha256) == col(Reading.photo_sha256))


def ocr_pending() -> ColumnElement[bool]:
    """The reading's photo is in but the server has not read it yet (``ReviewFacts.ocr_of`` in Python)."""
    return and_(col(Reading.ocr_verdict).is_(None), _photo_in(), ocr_switched_on())


def clean_reading() -> ColumnElement[bool]:
    """Nothing for a supervisor to look at, in SQL (``ReviewFacts.is_clean`` in Python): a value (not a skip), no
    flag (a photo warning the engineer overrode and another meter's label are flags; a confirming label raised no
    GPS flag), the photo stored or none required and, when the server reads photos, read and not showing another
    value, no meter replacement reported with it."""
    # A JSON column may hold SQL NULL or the JSON null, depending on how the row was written.
    no_replacement = or_(col(Reading.replacement).is_(None), cast(col(Reading.replacement), String) == "null")
    return and_(
        col(Reading.value).is_not(None),
        ~_flagged(),
        or_(col(Reading.photo_required) == false(), _photo_in()),
        ~ocr_pending(),
        or_(col(Reading.ocr_verdict).is_(None), col(Reading.ocr_verdict) != OcrVerdict.MISMATCH),
        no_replacement,
    )


def in_review(status: ReadingStatus) -> ColumnElement[bool]:
    """Readings in ``status`` that a supervisor decides: a quality check's read is compared, never decided."""
    return and_(col(Reading.status) == status, col(Reading.source) != ReadingSource.CHECK)


def _selected(wanted: ReviewFilter, now: datetime) -> Select[Any]:
    """``SELECT reading …`` with its meter, block and unit joined, narrowed by every field of ``wanted``."""
    statement = (
        sa_select(Reading)
        .join(Meter, col(Meter.id) == col(Reading.meter_id))
        .outerjoin(Block, col(Block.id) == col(Meter.block_id))
        .outerjoin(Unit, col(Unit.id) == col(Meter.unit_id))
        .where(in_review(wanted.status))
    )
    if wanted.block_id is not None:
        statement = statement.where(col(Meter.block_id) == wanted.block_id)
    if wanted.engineer_id is not None:
        statement = statement.where(col(Reading.engineer_id) == wanted.engineer_id)
    if wanted.flag is not None:
        statement = statement.where(
            exists().where(
                col(ReadingFlagRecord.reading_uuid) == col(Reading.uuid), col(ReadingFlagRecord.code) == wanted.flag
            )
        )
    if wanted.read_type is not None:
        statement = statement.where(col(Reading.read_type) == wanted.read_type)
    if wanted.ocr is OcrVerdict.PENDING:
        statement = statement.where(ocr_pending())
    elif wanted.ocr is not None:
        statement = statement.where(col(Reading.ocr_verdict) == wanted.ocr)
    if wanted.older_than_days is not None:
        statement = statement.where(col(Reading.received_at) <= now - timedelta(days=wanted.older_than_days))
    if wanted.q:
        statement = statement.where(matching(wanted.q, [col(Meter.number), col(Unit.code), col(Meter.label)]))
    return statement


def _ordered(statement: Select[Any], sort: ReviewSort) -> Select[Any]:
    # Every order ends on the server sequence: equal keys never swap between two pages.
    if sort is ReviewSort.NEWEST:
        return statement.order_by(col(Reading.captured_at).desc(), col(Reading.id).desc())
    if sort is ReviewSort.UNIT:
        place = func.coalesce(col(Unit.code), col(Meter.label), col(Meter.number))
        return statement.order_by(col(Block.code), place, col(Reading.captured_at), col(Reading.id))
    if sort is ReviewSort.FLAGGED:
        flags = (
            sa_select(func.count())
            .where(col(ReadingFlagRecord.reading_uuid) == col(Reading.uuid))
            .correlate(Reading)
            .scalar_subquery()
        )
        return statement.order_by(flags.desc(), col(Reading.captured_at), col(Reading.id))
    return statement.order_by(col(Reading.captured_at), col(Reading.id))


def review_page_rows(
    session: Session, wanted: ReviewFilter, *, sort: ReviewSort, limit: int, offset: int, now: datetime
) -> tuple[list[Reading], int, int]:
    """One page of the readings ``wanted`` selects, in ``sort`` order, with the count of all of them and of the
    clean ones: three queries."""
    statement = _selected(wanted, now)
    total = count_of(session, statement)
    clean = count_of(session, statement.where(clean_reading()))
    readings = list(session.execute(_ordered(statement, sort).limit(limit).offset(offset)).scalars().all())
    return readings, total, clean


def review_facets(session: Session, status: ReadingStatus) -> ReviewFacets:
    """Each engineer, block and flag with how many readings in ``status`` it has: one query each."""
    in_status = in_review(status)
    total = session.execute(sa_select(func.count()).select_from(Reading).where(in_status)).scalar_one()
    engineers = session.execute(
        sa_select(col(User.id), col(User.username), col(User.full_name), func.count())
        .join(Reading, col(Reading.engineer_id) == col(User.id))
        .where(in_status)
        .group_by(col(User.id), col(User.username), col(User.full_name))
        .order_by(col(User.full_name), col(User.id))
    ).all()
    blocks = session.execute(
        sa_select(col(Block.id), col(Block.code), col(Block.name), func.count())
        .join(Meter, col(Meter.block_id) == col(Block.id))
        .join(Reading, col(Reading.meter_id) == col(Meter.id))
        .where(in_status)
        .group_by(col(Block.id), col(Block.code), col(Block.name))
        .order_by(col(Block.code))
    ).all()
    flags = session.execute(
        sa_select(col(ReadingFlagRecord.code), func.count(func.distinct(col(Reading.id))))
        .join(Reading, col(Reading.uuid) == col(ReadingFlagRecord.reading_uuid))
        .where(in_status)
        .group_by(col(ReadingFlagRecord.code))
        .order_by(col(ReadingFlagRecord.code))
    ).all()
    return ReviewFacets(
        total=int(total),
        engineers=[Facet(id=id_, code=username, label=name, count=n) for id_, username, name, n in engineers],
        blocks=[Facet(id=id_, code=code, label=name or code, count=n) for id_, code, name, n in blocks],
        flags=[Facet(code=str(code), label=str(code), count=n) for code, n in flags],
    )


def approve_clean(session: Session, wanted: ReviewFilter, *, expected: int, supervisor: User, now: datetime) -> int:
    """Approve every clean submitted reading ``wanted`` selects, if there are exactly ``expected`` of them (the
    count the supervisor confirmed); else nothing changes (409 ``review.bulk_changed``). Commits."""
    if wanted.status is not ReadingStatus.SUBMITTED:
        raise Problem("review.bulk_changed", "Only readings waiting for review can be approved")
    chosen = (
        session.execute(
            _selected(wanted, now).where(clean_reading()).with_only_columns(col(Reading.id)).order_by(col(Reading.id))
        )
        .scalars()
        .all()
    )
    # The status is checked again on each updated row: a decision another request made since the select (on
    # PostgreSQL this statement waits for it to commit) leaves its row out, and the count below tells.
    decided = session.execute(
        update(Reading)
        .where(one_of(session, Reading.id, chosen, Integer), col(Reading.status) == ReadingStatus.SUBMITTED)
        .values(
            status=ReadingStatus.APPROVED,
            decided_by_id=supervisor.id,
            decided_at=now,
            decision_reason=None,
            due_on=None,
        )
        .returning(
            col(Reading.id),
            col(Reading.uuid),
            col(Reading.meter_id),
            col(Reading.engineer_id),
            col(Reading.value).is_not(None),
        )
        .execution_options(synchronize_session=False)
    ).all()
    if len(decided) != expected:
        session.rollback()
        raise Problem(
            "review.bulk_changed",
            f"{len(decided)} readings with nothing to check match now, not the {expected} confirmed: look again",
        )
    record_decision_events(
        session,
        sorted(DecidedReading(*row) for row in decided),
        status=ReadingStatus.APPROVED,
        reason=None,
        supervisor=supervisor,
        now=now,
    )
    session.commit()
    return len(decided)
