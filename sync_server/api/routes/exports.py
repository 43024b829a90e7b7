"""Exports for the society's office (admin, accountant): a month's readings, bills, payments and ledger as CSV or
XLSX, and its bills and payments as a Tally import file. docs/exports.md says what each holds."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import FileResponse, Response, StreamingResponse
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from shared_billing.api_types import Id, Period
from sync_server.deps import ContextDep, SessionDep, access
from sync_server.exports.tables import Dataset, table
from sync_server.exports.tally import LedgerNames, tally_envelope
from sync_server.exports.vouchers import month_vouchers
from sync_server.exports.writers import csv_chunks, xlsx_file
from sync_server.models import Role

router = APIRouter(prefix="/exports", tags=["exports"])

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class SheetFormat(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"


def _attachment(name: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{name}"'}


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
    settings = context.settings
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
