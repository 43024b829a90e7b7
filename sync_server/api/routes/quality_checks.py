"""Quality checks (sync_server/quality_checks.py, docs/review.md "Quality checks"): the supervisor asks for a random
share of a period's approved reads to be read again, and sees each check's verdict."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from shared_billing.api_models import QualityCheckBatch, QualityCheckOut, QualityCheckRequest
from shared_billing.api_types import Period
from shared_billing.protocol import QualityCheckStatus
from sync_server.deps import CurrentUser, NowDep, SessionDep, access
from sync_server.models import Role
from sync_server.quality_checks import quality_check_list, request_checks

router = APIRouter(prefix="/review/quality-checks", tags=["review"])


@router.post("", status_code=201, **access(Role.SUPERVISOR, Role.ADMIN))
def ask_for_checks(body: QualityCheckRequest, session: SessionDep, user: CurrentUser, now: NowDep) -> QualityCheckBatch:
    """Pick ``share_percent`` of the period's approved field reads (at least one) for a check read by their meters'
    engineers; audited ``quality_check.requested``."""
    eligible, checks = request_checks(
        session, period=body.period, share_percent=body.share_percent, due_on=body.due_on, actor=user, now=now
    )
    session.commit()
    picked = {check.id for check in checks}
    listed = quality_check_list(session, period=body.period, status=QualityCheckStatus.OPEN)
    return QualityCheckBatch(eligible=eligible, requested=[item for item in listed if item.id in picked])


@router.get("", **access(Role.SUPERVISOR, Role.ADMIN))
def list_checks(
    session: SessionDep,
    period: Annotated[Period, Query(description="The billing month, YYYY-MM")],
    status: QualityCheckStatus | None = None,
) -> list[QualityCheckOut]:
    """The period's checks: those whose check read differs first, then the open ones, then those that agree."""
    return quality_check_list(session, period=period, status=status)
