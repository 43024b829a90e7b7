"""A bank or UPI statement file read into its credit lines (docs/reconciliation.md "Columns").

Pure: the bytes of a CSV or XLSX in (read by ``sync_server.imports.tabular``), a ``Statement`` out, or
``StatementError`` saying in the accountant's words why the file is not a statement. The header is the first row
that names a date and a credit column (a bank's export starts with the account's details); columns are found by
any of a few common names, compared without case, spaces or punctuation. A debit line is counted and ignored; a
line that names an amount but cannot be read is a problem line, reported and never recorded; other rows (separators,
opening and closing balances) are left out.

Each credit gets a key that the same line has in every download of the statement: its reference (UTR, UPI
transaction number) with its date and amount; without one, its date, amount and narration with how many identical
lines came before it in the file (two equal payments on one day are two payments). Re-importing finds the keys it
stored and records nothing twice.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sync_server.imports.cells import CellError, parse_amount, parse_day
from sync_server.imports.tabular import Row, TabularError, read_table

__all__ = [
    "COLUMNS",
    "HEADER_SEARCH_ROWS",
    "LineProblem",
    "Statement",
    "StatementError",
    "StatementLine",
    "column_key",
    "parse_statement",
    "parse_statement_day",
]

#: Each field's accepted headers, in order of preference (a file with "Txn Date" and "Value Date" is read by the
#: first). ``date`` and ``credit`` are required; the rest optional.
COLUMNS: Mapping[str, Sequence[str]] = {
    "date": ("Txn Date", "Transaction Date", "Tran Date", "Date", "Value Date", "Posting Date"),
    "narration": (
        "Narration",
        "Description",
        "Remarks",
        "Particulars",
        "Transaction Details",
        "Transaction Remarks",
        "Details",
    ),
    "reference": (
        "UTR",
        "UTR No.",
        "UTR Number",
        "Ref No.",
        "Reference",
        "Reference No.",
        "Ref No./Cheque No.",
        "Chq./Ref.No.",
        "Cheque/Ref No.",
        "Transaction ID",
        "RRN",
    ),
    "credit": (
        "Credit",
        "Credit Amount",
        "Credit Amt.",
        "Deposit",
        "Deposits",
        "Deposit Amt.",
        "Deposit Amount",
        "Cr Amount",
        "Amount",
        "Transaction Amount",
    ),
    "debit": (
        "Debit",
        "Debit Amount",
        "Withdrawal",
        "Withdrawals",
        "Withdrawal Amt.",
        "Withdrawal Amount",
        "Dr Amount",
    ),
    # With a single amount column: whether the line is a credit (CR, C, Credit) or a debit (DR, D, Debit).
    "direction": ("Cr/Dr", "Dr/Cr", "Type", "Txn Type", "Transaction Type", "Credit/Debit"),
}
_REQUIRED = ("date", "credit")
#: How far down the file the header may be (below the bank's account details).
HEADER_SEARCH_ROWS = 40
_MONTHS = {
    name: number
    for number, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1
    )
}
_NAMED_MONTH = re.compile(r"(\d{1,2})[-/ .]([a-z]{3})[a-z]*[-/ .,]+(\d{2}|\d{4})", re.IGNORECASE)
_SHORT_YEAR = re.compile(r"(\d{1,2})([-/.])(\d{1,2})\2(\d{2})")
# A time after the day (a bank's "03/12/2026 10:15:22", Excel's "2026-12-03 10:15:00").
_TIME = re.compile(r"[ T]\d{1,2}:\d{2}(?::\d{2})?(?:\.\d+)?(?:\s*[AP]M)?$", re.IGNORECASE)
_NO_REFERENCE = re.compile(r"[-0.\s]*|N/?A", re.IGNORECASE)  # what banks print for "none"
_UPI_RRN = re.compile(r"(?<!\d)\d{12}(?!\d)")  # the UPI transaction number (RRN), 12 digits
_SIDE_SUFFIX = re.compile(r"\s*\b(CR|DR)\.?$", re.IGNORECASE)  # "1,234.00 Cr"
MAX_NARRATION = 500
MAX_REFERENCE = 64


class StatementError(ValueError):
    """The file as a whole is not a statement Fieldmeter can read; the message says why."""


@dataclass(frozen=True)
class StatementLine:
    """A credit on the statement: its line in the file, day, narration, reference and amount, and its key."""

    line: int
    on: date
    narration: str
    reference: str | None
    amount: Decimal
    key: str


@dataclass(frozen=True)
class LineProblem:
    line: int
    reason: str


@dataclass(frozen=True)
class Statement:
    credits: tuple[StatementLine, ...]
    debits: int  # lines left out as debits (money going out)
    problems: tuple[LineProblem, ...]
    columns: Mapping[str, str]  # the header each field was read from


def column_key(text: str) -> str:
    """How headers compare: ``Chq./Ref.No.``, ``chq ref no`` and ``CHQ_REF_NO`` are one column."""
    return re.sub(r"[^0-9a-z]+", "", text.casefold())


def parse_statement(data: bytes) -> Statement:
    try:
        table = read_table(data)
    except TabularError as error:
        raise StatementError(str(error)) from None
    candidates = [Row(table.header_line, table.header), *table.rows[:HEADER_SEARCH_ROWS]]
    for index, candidate in enumerate(candidates):
        columns = _columns(candidate.cells)
        if all(columns.get(name) is not None for name in _REQUIRED):
            return _read(table.rows[index:], columns, candidate.cells)
    first = table.header
    raise StatementError(
        "No header row names a date and a credit column (accepted: "
        + "; ".join(f"{name}: {', '.join(COLUMNS[name])}" for name in _REQUIRED)
        + f"); the first row has: {', '.join(repr(text) for text in first if text) or 'nothing'}"
    )


def _columns(header: Sequence[str]) -> dict[str, int | None]:
    keys = [column_key(text) for text in header]
    found: dict[str, int | None] = {}
    for name, aliases in COLUMNS.items():
        found[name] = next((keys.index(key) for key in map(column_key, aliases) if key in keys), None)
    if found["debit"] == found["credit"]:
        found["debit"] = None
    return found


def _read(rows: Sequence[Row], columns: Mapping[str, int | None], header: Sequence[str]) -> Statement:
    credits: list[StatementLine] = []
    problems: list[LineProblem] = []
    debits = 0
    seen: Counter[tuple[date, Decimal, str]] = Counter()
    for row in rows:
        outcome = _line(row, columns)
        if outcome is None:
            continue
        if isinstance(outcome, LineProblem):
            problems.append(outcome)
        elif isinstance(outcome, _Debit):
            debits += 1
        else:
            on, amount, narration, reference = outcome
            if reference is not None:
                key = _key("ref", reference, on.isoformat(), str(amount))
            else:
                same = (on, amount, " ".join(narration.casefold().split()))
                key = _key("line", on.isoformat(), str(amount), same[2], str(seen[same]))
                seen[same] += 1
            credits.append(StatementLine(row.line, on, narration, reference, amount, key))
    if not credits and not debits and not problems:
        raise StatementError("The statement has no transaction lines under its header")
    used = {name: header[index] for name, index in columns.items() if index is not None}
    return Statement(tuple(credits), debits, tuple(problems), used)


class _Debit:
    """A debit line: counted, never stored."""


_DEBIT = _Debit()


def _line(
    row: Row, columns: Mapping[str, int | None]
) -> tuple[date, Decimal, str, str | None] | LineProblem | _Debit | None:
    """A credit's parts, a debit, a problem, or None for a row that is no transaction."""
    day_text, credit_text = row.cell(columns["date"]), row.cell(columns["credit"])
    debit_text, direction = row.cell(columns["debit"]), row.cell(columns["direction"]).strip().casefold()
    credit_text, credit_side = _split_side(credit_text)
    amount: Decimal | None = None
    amount_problem: str | None = None
    on: date | None = None
    day_problem: str | None = None
    try:
        amount = parse_amount(credit_text) if credit_text else None
    except CellError as error:
        amount_problem = str(error)
    try:
        on = parse_statement_day(day_text)
    except CellError as error:
        day_problem = str(error)
    if on is None and amount is None:
        return None  # a separator, a balance line, the bank's footer: no transaction
    if on is not None and amount_problem is not None:
        return LineProblem(row.line, amount_problem)
    is_debit = (
        direction.startswith("d")
        or credit_side == "dr"
        or (amount is not None and amount < 0)
        or ((amount is None or amount == 0) and bool(debit_text.strip()))
    )
    if on is not None and is_debit:
        return _DEBIT
    if amount is None or amount == 0:
        return None if on is None else LineProblem(row.line, "the line has a date but no credit or debit amount")
    if on is None:
        return LineProblem(row.line, day_problem or "the date is empty")
    narration = " ".join(row.cell(columns["narration"]).split())[:MAX_NARRATION]
    return on, amount, narration, _reference(row.cell(columns["reference"]), narration)


def _split_side(text: str) -> tuple[str, str | None]:
    match = _SIDE_SUFFIX.search(text)
    if match is None:
        return text, None
    return text[: match.start()], match[1].casefold()


def _reference(text: str, narration: str) -> str | None:
    """The bank's reference; without one, the UPI transaction number in a UPI narration."""
    cleaned = " ".join(text.split()).upper()
    if cleaned and not _NO_REFERENCE.fullmatch(cleaned):
        return cleaned[:MAX_REFERENCE]
    if "UPI" in narration.upper() and (rrn := _UPI_RRN.search(narration)):
        return rrn[0]
    return None


def _key(*parts: str) -> str:
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


def parse_statement_day(text: str) -> date:
    """A statement's day: ``03/12/2026``, ``03-12-2026``, ``03.12.26``, ``2026-12-03``, ``03-Dec-2026``, ``03 Dec
    26`` (day first, as Indian banks write it), with or without a time after it."""
    raw = _TIME.sub("", text.strip()).strip()
    if match := _NAMED_MONTH.fullmatch(raw):
        month = _MONTHS.get(match[2][:3].casefold())
        if month is None:
            raise CellError(f"date {text.strip()!r} names no month")
        year = match[3] if len(match[3]) == 4 else f"20{match[3]}"
        raw = f"{int(match[1]):02d}-{month:02d}-{year}"
    elif match := _SHORT_YEAR.fullmatch(raw):
        raw = f"{match[1]}{match[2]}{match[3]}{match[2]}20{match[4]}"
    try:
        return parse_day(raw)
    except CellError as error:
        if "is not written" not in str(error):
            raise  # empty, no calendar day, outside 2000–2099: said as it is
        raise CellError(f"date {text.strip()!r} is not a day like 03/12/2026, 2026-12-03 or 03-Dec-2026") from None
