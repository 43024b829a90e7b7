"""Exports for the society's office (admin, accountant): a month's readings, bills, payments and ledger as CSV or
XLSX, and its bills and payments as a Tally import file. docs/exports.md says what each holds."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import FileResponse, Response, StreamingResponse
from sqlmodel import Session
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from shared_billing.api_models import DownloadLink, ExportRequest
from shared_billing.api_types import Id, Period, Token
from shared_billing.protocol import ExportFile
from sync_server.config import Settings
from sync_server.context import AppContext
from sync_server.deps import PUBLIC, ContextDep, NowDep, SessionDep, access
from sync_server.exports.tables import Dataset, table
from sync_server.exports.tally import LedgerNames, tally_envelope
from sync_server.exports.vouchers import month_vouchers
from sync_server.exports.writers import csv_chunks, xlsx_file
from sync_server.models import Role
from sync_server.problems import Problem

router = APIRouter(prefix="/exports", tags=["exports"])

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class SheetFormat(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"


def _attachment(name: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{name}"'}


def _tally_response(session: Session, settings: Settings, period: str, block_id: int | None) -> Response:
    sales, receipts = month_vouchers(session, period=period, block_id=block_id, tz=settings.tz)
    ledgers = LedgerNames(
        company=settings.tally_company,
        income=settings.tally_income_ledger,
        bank=settings.tally_bank_ledger,
        cash=settings.tally_cash_ledger,
    )
    return Response(
        tally_envelope(sales, receipts, ledgers),
        media_type="application/xml",
        headers=_attachment(f"tally-{period}.xml"),
    )


async def _sheet_response(
    context: AppContext, dataset: Dataset, sheet_format: SheetFormat, period: str, block_id: int | None
) -> Response:
    rows = table(context.engine, dataset, period=period, block_id=block_id, tz=context.settings.tz)
    name = f"{rows.name}{'' if block_id is None else f'-block{block_id}'}.{sheet_format.value}"
    if sheet_format is SheetFormat.CSV:
        return StreamingResponse(
            csv_chunks(rows),  # a plain iterator: Starlette reads it on its thread pool
            media_type="text/csv; charset=utf-8",
            headers=_attachment(name),
        )
    path = await run_in_threadpool(xlsx_file, rows, context.settings.data_dir)
    return FileResponse(path, media_type=XLSX, filename=name, background=BackgroundTask(path.unlink))


@router.get(
    "/tally.xml",
    **access(Role.ADMIN, Role.ACCOUNTANT, responses={200: {"content": {"application/xml": {}}}}),
    response_class=Response,
)
def tally(
    session: SessionDep,
    context: ContextDep,
    period: Annotated[Period, Query(description="The billing month, YYYY-MM")],
    block_id: Annotated[Id | None, Query(description="One block's units only")] = None,
) -> Response:
    """The period's issued bills as Sales vouchers and the month's payments as Receipt vouchers, in Tally's
    import envelope."""
    return _tally_response(session, context.settings, period, block_id)


@router.post("/link", **access(Role.ADMIN, Role.ACCOUNTANT))
def export_link(body: ExportRequest, context: ContextDep, now: NowDep) -> DownloadLink:
    """A link (valid 10 minutes) to one export file, for a browser to download without the bearer header."""
    subject = f"export:{body.file.value}:{body.period}:{body.block_id or ''}"
    return DownloadLink(url=f"/api/exports/files/{context.tokens.download_token(subject, now)}")


@router.get(
    "/files/{token}",
    **access(PUBLIC, errors=(404,), responses={200: {"content": {"text/csv": {}, XLSX: {}, "application/xml": {}}}}),
    response_class=Response,
)
async def export_file(token: Token, context: ContextDep, session: SessionDep, now: NowDep) -> Response:
    """The export a signed link names; the link itself is the authorization (it expires)."""
    subject = context.tokens.read_download_token(token, now)
    kind, _, rest = (subject or "").partition(":")
    if kind != "export":
        raise Problem("download.invalid")
    file_name, period, block = rest.split(":")
    block_id = int(block) if block else None
    export = ExportFile(file_name)
    if export is ExportFile.TALLY_XML:
        return await run_in_threadpool(_tally_response, session, context.settings, period, block_id)
    dataset, _, sheet_format = export.value.partition(".")
    return await _sheet_response(context, Dataset(dataset), SheetFormat(sheet_format), period, block_id)


@router.get(
    "/{dataset}.{sheet_format}",
    **access(Role.ADMIN, Role.ACCOUNTANT, responses={200: {"content": {"text/csv": {}, XLSX: {}}}}),
    response_class=Response,
)
async def sheet(
    dataset: Dataset,
    sheet_format: SheetFormat,
    context: ContextDep,
    period: Annotated[Period, Query(description="The billing month, YYYY-MM")],
    block_id: Annotated[Id | None, Query(description="One block's units only")] = None,
) -> Response:
    """The month's readings, bills, payments or ledger entries, streamed as CSV or written as an XLSX sheet."""
    return await _sheet_response(context, dataset, sheet_format, period, block_id)
