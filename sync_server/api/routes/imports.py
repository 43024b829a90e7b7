"""Imports from the console: a file sent as the request body becomes a job that runs in the background; the
console polls it for its progress and then shows its report (docs/api.md "Imports")."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response
from sqlmodel import Session, col, select
from starlette.concurrency import run_in_threadpool

from shared_billing.api_models import ImportIssueOut, ImportJobOut, ImportReportOut, Page
from shared_billing.api_types import Day, Id
from sync_server.api.paging import PageQuery, paginate
from sync_server.deps import ContextDep, CurrentUser, NowDep, SessionDep, access
from sync_server.imports.jobs import ImportOptions, launch_import, live_progress, start_import
from sync_server.imports.upload import ACCEPTED_TYPES, check_upload, clean_file_name
from sync_server.models import ImportJob, ImportKind, ImportStatus, Role, User
from sync_server.problems import Problem

__all__ = ["job_out", "read_limited", "router"]

router = APIRouter(prefix="/imports", tags=["imports"])

_BODY_TYPES = sorted(set().union(*ACCEPTED_TYPES.values()))


def job_out(job: ImportJob) -> ImportJobOut:
    """The job as the API shows it; a running job with the progress this process knows, if it runs it."""
    processed, total = job.processed, job.total
    live = live_progress(job.id) if job.status == ImportStatus.RUNNING and job.id is not None else None
    if live is not None and live[0] >= processed:
        processed, total = live
    return ImportJobOut(
        id=job.id or 0,
        kind=job.kind,
        dry_run=job.dry_run,
        status=job.status,
        file_name=job.file_name,
        file_sha256=job.file_sha256,
        size_bytes=job.size_bytes,
        tariff_code=job.tariff_code,
        members_from=job.members_from,
        total=total,
        processed=processed,
        report=_report_out(job.kind, job.report) if job.report is not None else None,
        error=job.error,
        error_code=job.error_code,
        started_by_id=job.started_by_id,
        started_at=job.started_at,
        finished_at=job.finished_at,
    )


def _report_out(kind: ImportKind, stored: dict[str, Any]) -> ImportReportOut:
    # Stored as the command line's --json prints it (counts beside the lists), plus its kind.
    lists = {"kind", "quarantined", "warnings"}
    return ImportReportOut(
        kind=kind,
        counts={name: int(value) for name, value in stored.items() if name not in lists},
        quarantined=[ImportIssueOut.model_validate(issue) for issue in stored.get("quarantined", [])],
        warnings=[ImportIssueOut.model_validate(issue) for issue in stored.get("warnings", [])],
    )


async def read_limited(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise Problem("request.too_large", f"The file is {declared} bytes; an import file is at most {limit}")
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > limit:
            raise Problem("request.too_large", f"The file is over {limit} bytes, the most an import takes")
    return bytes(body)


def _start(
    session: Session, options: ImportOptions, file_name: str, data: bytes, user: User, now: datetime
) -> ImportJob:
    return start_import(
        session,
        options,
        file_name=file_name,
        file_sha256=hashlib.sha256(data).hexdigest(),
        size_bytes=len(data),
        actor=user,
        now=now,
    )


@router.post(
    "/{kind}",
    status_code=202,
    **access(
        Role.ADMIN,
        errors=(409, 413, 415),
        openapi_extra={
            "requestBody": {
                "required": True,
                "description": "The file: JSON Lines (master data), CSV or XLSX (opening readings and balances)",
                "content": {t: {"schema": {"type": "string", "format": "binary"}} for t in _BODY_TYPES},
            }
        },
    ),
)
async def start(
    kind: ImportKind,
    request: Request,
    context: ContextDep,
    session: SessionDep,
    user: CurrentUser,
    now: NowDep,
    dry_run: Annotated[bool, Query(description="Report what the import would do; write nothing")] = False,
    tariff: Annotated[
        str | None, Query(min_length=1, max_length=40, description="Master data: the tariff new units are billed on")
    ] = None,
    members_from: Annotated[
        Day | None, Query(description="Master data: when motors' member flats start sharing them")
    ] = None,
    file_name: Annotated[str | None, Query(max_length=400, description="The file's name, as chosen")] = None,
    x_file_name: Annotated[str | None, Header(max_length=400, description="The file's name (or the query)")] = None,
) -> ImportJobOut:
    """Start an import of the file sent as the body; it runs in the background (poll ``GET /api/imports/{id}``).

    One import of a kind at a time: 409 ``import.in_progress`` names the running job's id. A file the kind cannot
    read is refused at once (415 ``import.unsupported_type``, 422 ``import.empty_file`` or ``import.unreadable``);
    a bad row inside a good file is quarantined in the report and the rest is imported."""
    if kind != ImportKind.MASTER and (tariff is not None or members_from is not None):
        name = "tariff" if tariff is not None else "members_from"
        raise Problem("request.invalid", f"{name} applies to master-data imports only", {"field": name})
    data = await read_limited(request, context.settings.max_import_bytes)
    check_upload(kind, request.headers.get("content-type", ""), data)
    options = ImportOptions(kind=kind, dry_run=dry_run, tariff_code=tariff, members_from=members_from)
    name = clean_file_name(file_name or x_file_name)
    # The database runs in the thread pool: this route is async only to stream the body.
    job = await run_in_threadpool(_start, session, options, name, data, user, now)
    assert job.id is not None
    launch_import(context.engine, job.id, data, options, clock=context.clock, tz=context.settings.tz)
    return job_out(job)


def _job(session: Session, job_id: int) -> ImportJob:
    job = session.get(ImportJob, job_id, populate_existing=True)  # its progress is written by another session
    if job is None:
        raise Problem("request.not_found", f"No import {job_id}")
    return job


@router.get("", **access(Role.ADMIN))
def list_imports(session: SessionDep, page: PageQuery) -> Page[ImportJobOut]:
    """Imports, newest first; ``q`` searches file names."""
    query = select(ImportJob).order_by(col(ImportJob.id).desc())
    rows, total = paginate(session, query, page, search=[col(ImportJob.file_name)])
    return Page[ImportJobOut](items=[job_out(job) for job in rows], total=total, limit=page.limit, offset=page.offset)


@router.get("/{job_id}", **access(Role.ADMIN, errors=(404,)))
def get_import(job_id: Id, session: SessionDep) -> ImportJobOut:
    """An import with its progress (``processed`` of ``total`` rows) and, once done, its report."""
    return job_out(_job(session, job_id))


@router.get(
    "/{job_id}/quarantine.csv",
    **access(
        Role.ADMIN,
        errors=(404, 409),
        responses={200: {"content": {"text/csv": {}}, "description": "line, unit_id, reason of each quarantined row"}},
    ),
    response_class=Response,
)
def quarantine_csv(job_id: Id, session: SessionDep) -> Response:
    """The rows a done import quarantined and why, as CSV for the clerk who fixes the source (a header alone when
    none was); 409 ``import.no_report`` while it runs or when it failed."""
    job = _job(session, job_id)
    if job.quarantine_csv is None:
        raise Problem("import.no_report", details={"status": job.status.value})
    return Response(
        job.quarantine_csv,
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="import-{job_id}-quarantine.csv"'},
    )
