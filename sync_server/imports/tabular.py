"""A spreadsheet's rows as text: a CSV (UTF-8, with or without a byte-order mark, comma or semicolon separated) or
an XLSX workbook's first sheet, told apart by the file's content (an XLSX is a zip), not by its name.

Pure: bytes in, a ``Table`` out (or ``TabularError`` saying, in the clerk's words, why the file cannot be read).
Every row keeps the 1-based line it came from (the header is line 1 when it is the first line), so a quarantined
row can be found in the source. Headers are matched ignoring case, spaces and underscores.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Protocol

__all__ = ["MAX_ROWS", "Row", "Table", "TabularError", "header_key", "read_table"]

#: More rows than any society has: a file beyond it is a mistake (a whole ledger export), refused before work.
MAX_ROWS = 100_000
# A zip's members are inflated by openpyxl: a small file that inflates past this is a zip bomb, not a sheet.
_MAX_INFLATED_BYTES = 200 * 1024 * 1024

_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the .xls format before 2007 (and other Office binaries)


class TabularError(ValueError):
    """The file as a whole cannot be read; the message says why, for the person who chose it."""


def header_key(text: str) -> str:
    """How a header is compared: ``Meter No.``, ``meter  no.`` and ``METER_NO.`` are one column."""
    return " ".join(text.replace("_", " ").casefold().split())


@dataclass(frozen=True)
class Row:
    """One data row: its line in the source and its cells as text (stripped; an absent cell is ``""``)."""

    line: int
    cells: tuple[str, ...]

    def cell(self, index: int | None) -> str:
        """The cell of a column ``Table.columns`` found (None: an optional column the file does not have)."""
        if index is None or index >= len(self.cells):
            return ""
        return self.cells[index]


@dataclass(frozen=True)
class Table:
    header: tuple[str, ...]
    rows: tuple[Row, ...]
    header_line: int = 1

    def columns(
        self, required: Mapping[str, Sequence[str]], optional: Mapping[str, Sequence[str]] | None = None
    ) -> dict[str, int | None]:
        """Where each named column is: ``{name: index}``, each name found by any of its accepted headers.

        A required column missing, or a column given twice, is a ``TabularError`` naming it.
        """
        positions: dict[str, list[int]] = {}
        for index, text in enumerate(self.header):
            positions.setdefault(header_key(text), []).append(index)
        found: dict[str, int | None] = {}
        missing: list[str] = []
        for name, accepted in [*required.items(), *(optional or {}).items()]:
            hits = sorted(
                index for key in {header_key(alias) for alias in accepted} for index in positions.get(key, [])
            )
            if len(hits) > 1:
                raise TabularError(f"The header names the {name!r} column more than once (columns {_letters(hits)})")
            if not hits and name in required:
                missing.append(name)
            found[name] = hits[0] if hits else None
        if missing:
            raise TabularError(
                f"The header (line {self.header_line}) lacks the column{'s' if len(missing) > 1 else ''} "
                f"{', '.join(repr(name) for name in missing)}; it has: "
                f"{', '.join(repr(text) for text in self.header if text) or 'nothing'}"
            )
        return found


def _letters(indexes: Iterable[int]) -> str:
    return ", ".join(str(index + 1) for index in indexes)


def read_table(data: bytes) -> Table:
    """The file's header (its first non-blank row) and data rows; blank rows are left out."""
    if not data.strip():
        raise TabularError("The file is empty")
    if data.startswith(_ZIP_MAGIC):
        lines = _xlsx_lines(data)
    elif data.startswith(_OLE_MAGIC):
        raise TabularError("This is an old Excel (.xls) file: save it as .xlsx or CSV (UTF-8) and import that")
    else:
        lines = _csv_lines(data)
    return _table(lines)


def _table(lines: Iterator[tuple[int, tuple[str, ...]]]) -> Table:
    header: tuple[str, ...] | None = None
    header_line = 1
    rows: list[Row] = []
    for line, cells in lines:
        if not any(cells):
            continue
        if header is None:
            header, header_line = cells, line
            continue
        if len(rows) >= MAX_ROWS:
            raise TabularError(f"The file has more than {MAX_ROWS:,} rows: split it")
        rows.append(Row(line, cells))
    if header is None:
        raise TabularError("The file has no header row")
    return Table(header, tuple(rows), header_line)


# --- CSV ---


def _csv_lines(data: bytes) -> Iterator[tuple[int, tuple[str, ...]]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise TabularError(
            f"The file is neither an XLSX workbook nor UTF-8 text (line {line}): "
            "save the CSV as 'CSV UTF-8', or import the workbook itself"
        ) from None
    if "\x00" in text:
        raise TabularError("The file holds NUL characters: it is not a CSV")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text), strict=True)
    return _numbered(reader)


class _CsvReader(Protocol):
    line_num: int

    def __next__(self) -> list[str]: ...


def _numbered(reader: _CsvReader) -> Iterator[tuple[int, tuple[str, ...]]]:
    # A quoted cell may run over several lines: a row is numbered by the line it starts on.
    start = 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise TabularError(f"Line {start}: the CSV cannot be read ({error})") from None
        yield start, tuple(cell.strip() for cell in cells)
        start = reader.line_num + 1


def _delimiter(text: str) -> str:
    """Semicolons when the header uses them more than commas (a CSV saved where the decimal mark is a comma)."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    return ";" if first.count(";") > first.count(",") else ","


# --- XLSX ---


def _xlsx_lines(data: bytes) -> Iterator[tuple[int, tuple[str, ...]]]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            inflated = sum(member.file_size for member in archive.infolist())
    except (zipfile.BadZipFile, ValueError) as error:
        raise TabularError(f"The file looks like an XLSX workbook but its zip is damaged ({error})") from None
    if inflated > _MAX_INFLATED_BYTES:
        raise TabularError("The workbook inflates to more than 200 MB: save the sheet as CSV instead")
    from openpyxl import load_workbook  # lazily: only the import commands and routes read workbooks

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:
        # openpyxl fails on a broken or foreign zip with whatever its parser met (KeyError, ValueError, XML
        # errors, ...): every one of them means the same to the clerk.
        raise TabularError(f"The file is a zip but not an XLSX workbook ({type(error).__name__})") from None
    try:
        if not workbook.worksheets:
            raise TabularError("The workbook has no sheet")
        sheet = workbook.worksheets[0]
        # Read-only sheets yield every row from the first, blank ones included: the position is the row number.
        rows = [
            (number, tuple(_cell_text(value) for value in values))
            for number, values in enumerate(sheet.iter_rows(values_only=True), start=1)
        ]
    finally:
        workbook.close()
    return iter(rows)


def _cell_text(value: object) -> str:
    """A cell as the text a CSV would have held (what the column's parser then reads)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        # A whole number stored as a float (Excel's only number type) is written without its ".0"; otherwise the
        # shortest text that reads back as the same float.
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value).strip()  # text, whole numbers, decimals
