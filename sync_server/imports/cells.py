"""The values an imported spreadsheet's cells hold, read the way the clerks of the older system wrote them.

Pure: text in, a value out, or ``CellError`` with the reason a quarantined row shows. Dates: ``YYYY-MM-DD``,
``DD-MM-YYYY`` or ``DD/MM/YYYY`` (day first, as India writes them), or an Excel date (a date cell, or its serial
number). Amounts: rupees with an optional ``₹``/``Rs``/``INR``, a sign (or accounting parentheses), commas in
Indian (1,23,456.50) or international (123,456.50) grouping and at most paise.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

from shared_billing.money import PAISA
from shared_billing.protocol import EARLIEST, LATEST

__all__ = ["MAX_AMOUNT", "CellError", "parse_amount", "parse_day"]

#: The money columns hold 12 digits, 2 of them paise.
MAX_AMOUNT = Decimal("9999999999.99")

_ISO = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[ T]00:00(?::00)?)?")  # a date cell at midnight is a date
_DAY_FIRST = re.compile(r"(\d{1,2})([-/.])(\d{1,2})\2(\d{4})")
_SERIAL = re.compile(r"\d{5}")
# Day 0 of Excel's 1900 date system as Python counts (Excel's fictitious 29 February 1900 comes before 2000).
_EXCEL_EPOCH = date(1899, 12, 30)

_CURRENCY = re.compile(r"^(?:₹|rs\.?|inr)", re.IGNORECASE)
_WHOLE = re.compile(r"\d+|\d{1,3}(?:,\d{3})+|\d{1,2}(?:,\d{2})*,\d{3}")  # plain, international or Indian grouping
_MINUS = ("-", "−")  # a typed hyphen, or the minus sign spreadsheets print


class CellError(ValueError):
    """A cell that does not hold what its column takes; the message is the quarantine reason."""


def parse_day(text: str) -> date:
    """A calendar day from 2000 to 2099."""
    day = _day(text.strip())
    if not EARLIEST.date() <= day < LATEST.date():
        raise CellError(f"date {text.strip()!r} is outside 2000–2099")
    return day


def _day(text: str) -> date:
    if not text:
        raise CellError("the date is empty")
    try:
        if match := _ISO.fullmatch(text):
            return date(int(match[1]), int(match[2]), int(match[3]))
        if match := _DAY_FIRST.fullmatch(text):
            return date(int(match[4]), int(match[3]), int(match[1]))
    except ValueError:
        raise CellError(f"date {text!r} is no calendar day") from None
    if _SERIAL.fullmatch(text):
        return _EXCEL_EPOCH + timedelta(days=int(text))
    raise CellError(f"date {text!r} is not written YYYY-MM-DD, DD-MM-YYYY or DD/MM/YYYY")


def parse_amount(text: str) -> Decimal:
    """Rupees to the paisa; negative (a credit) with a leading minus on either side of the ``₹``, or in
    parentheses."""
    raw = text.strip()
    body = raw.replace(" ", "").replace("\u00a0", "")
    if not raw:
        raise CellError("the amount is empty")
    signs = 0
    if body.startswith("(") and body.endswith(")"):
        signs, body = 1, body[1:-1]
    if body.startswith(_MINUS):
        signs, body = signs + 1, body[1:]
    body = _CURRENCY.sub("", body, count=1)
    if body.startswith(_MINUS):
        signs, body = signs + 1, body[1:]
    elif body.startswith("+") and not signs:
        body = body[1:]
    negative = signs == 1
    whole, dot, fraction = body.partition(".")
    if signs > 1 or not _WHOLE.fullmatch(whole) or (dot and not re.fullmatch(r"\d{1,2}", fraction)):
        raise CellError(f"amount {raw!r} is not rupees (like ₹1,23,456.50 or -250)")
    amount = Decimal(whole.replace(",", "") + (dot + fraction if dot else "")).quantize(PAISA)
    if amount > MAX_AMOUNT:
        raise CellError(f"amount {raw!r} is beyond ₹{MAX_AMOUNT:,}")
    # Adding zero turns a negative zero into zero: "-0" is no credit.
    return (-amount if negative else amount) + Decimal("0.00")
