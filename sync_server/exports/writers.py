"""A table written as CSV (streamed, chunk by chunk) or as an XLSX workbook (openpyxl's write-only mode, row by
row into a temporary file), so a large month never sits whole in memory."""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl import Workbook

from sync_server.exports.tables import Table

__all__ = ["csv_chunks", "xlsx_file"]

_ROWS_PER_CHUNK = 200


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return f"{value:f}"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def csv_chunks(table: Table) -> Iterator[bytes]:
    """UTF-8 with a byte-order mark (spreadsheet programs then read ₹ and Indian names right), header first."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(table.header)
    yield b"\xef\xbb\xbf" + buffer.getvalue().encode()
    buffer.seek(0)
    buffer.truncate()
    for index, row in enumerate(table.rows, start=1):
        writer.writerow([_csv_cell(value) for value in row])
        if index % _ROWS_PER_CHUNK == 0:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


def xlsx_file(table: Table, directory: Path | None = None) -> Path:
    """The table as one sheet in a new workbook file (the caller deletes it); money stays exact (a Decimal cell)."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=table.name[:31])  # Excel's limit on a sheet's name
    sheet.append(list(table.header))
    for row in table.rows:
        sheet.append(list(row))
    handle = tempfile.NamedTemporaryFile(suffix=".xlsx", dir=directory, delete=False)  # noqa: SIM115
    handle.close()
    workbook.save(handle.name)
    return Path(handle.name)
