"""What an invoice shows, checked once on construction so the renderer never prints an impossible bill."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import NamedTuple

from shared_billing.protocol import BillStatus

__all__ = [
    "BILL_NUMBER_PATTERN",
    "HISTORY_MONTHS",
    "MAX_LINES",
    "InvoiceData",
    "InvoiceDataError",
    "InvoiceLine",
    "UsageMonth",
]

# Bill of supply rule (docs/domain.md "Bills: draft, issue, numbers"; CGST Rules 46/49): a consecutive serial of
# at most 16 characters. The project
# narrows "letters, digits, hyphen, slash" to upper-case A-Z so one bill number can never be keyed two ways.
BILL_NUMBER_PATTERN = re.compile(r"[A-Z0-9/-]{1,16}")
# A VPA is "handle@psp"; refusing anything else stops a typo from printing a QR that pays a stranger or nobody.
_VPA_PATTERN = re.compile(r"[A-Za-z0-9._-]{2,40}@[A-Za-z][A-Za-z0-9.]{1,20}")
# The template is one A4 page per bill (a block PDF is one page per bill): more lines would not fit.
MAX_LINES = 8
_MAX_DESCRIPTION = 60
# The usage chart: the bill's month and the five before, which is what fits across the page under the totals.
HISTORY_MONTHS = 6
_PERIOD_PATTERN = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])")
_PAISA = Decimal("0.01")


class InvoiceDataError(ValueError):
    """The data cannot make a correct invoice; the message names the field at fault."""


class InvoiceLine(NamedTuple):
    """One charge line. ``rate`` is ``None`` for unpriced lines (e.g. arrears carried in by the billing engine)."""

    description: str
    quantity: Decimal
    rate: Decimal | None
    amount: Decimal


class UsageMonth(NamedTuple):
    """One month of the usage chart: the units billed for it, ``None`` when the unit had no bill that month."""

    period: str
    units: Decimal | None


def _decimal(name: str, value: object, *, paise: bool) -> Decimal:
    # Money as Decimal only (docs/domain.md "Rounding": the old system's float money is a defect not to repeat);
    # int is refused as well
    # so that a caller who means paise cannot slip through, and bool (an int) with it.
    if not isinstance(value, Decimal):
        raise InvoiceDataError(f"{name} must be a Decimal, got {type(value).__name__} {value!r}")
    if not value.is_finite():
        raise InvoiceDataError(f"{name} must be a finite number, got {value}")
    if paise and value != value.quantize(_PAISA):
        raise InvoiceDataError(f"{name} must be whole paise (two decimals at most), got {value}")
    return value


def _text(name: str, value: object, *, max_len: int = 120, multiline: bool = False) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvoiceDataError(f"{name} must be non-empty text")
    if len(value) > max_len:
        raise InvoiceDataError(f"{name} must be at most {max_len} characters, got {len(value)}")
    if not multiline and ("\n" in value or "\r" in value):
        raise InvoiceDataError(f"{name} must be one line")
    return value


def _date(name: str, value: object) -> date:
    # datetime is a date subclass; a timestamp here would hide a time-zone decision that belongs to the caller.
    if not isinstance(value, date) or isinstance(value, datetime):
        raise InvoiceDataError(f"{name} must be a datetime.date, got {type(value).__name__}")
    return value


def _optional_date(name: str, value: object) -> date | None:
    return None if value is None else _date(name, value)


@dataclass(frozen=True)
class InvoiceData:
    """Everything one bill of supply shows. Money is ``Decimal`` at paise; construction refuses anything else.

    ``total`` is the sum of ``lines`` (the round-off is not a line here: it has its own field and row),
    ``payable = total + round_off`` is this bill's amount. ``arrears`` is the account's balance from earlier
    bills when the bill was issued (negative for a credit); the amount due, the amount in words and the UPI
    QR use ``payable + arrears``. Put arrears either here or in ``lines``, never both.

    The read dates are the society's calendar days of the two readings the bill measures between:
    ``current_read_on`` is ``None`` on an estimated bill (``estimated``), whose month was not read, and
    ``replaced_on`` is the day of a meter replacement the bill measures across. ``history`` is the usage chart,
    oldest month first, ending with this bill's month; empty draws no chart.
    """

    society_name: str
    society_address: str
    upi_vpa: str
    payee_name: str
    bill_number: str
    bill_date: date
    due_date: date
    period_from: date
    period_to: date
    unit_code: str
    consumer_name: str
    meter_number: str
    previous_reading: Decimal
    current_reading: Decimal
    units: Decimal
    lines: Sequence[InvoiceLine]
    total: Decimal
    round_off: Decimal
    payable: Decimal
    arrears: Decimal = field(default=Decimal("0.00"))
    status: BillStatus = BillStatus.ISSUED
    previous_read_on: date | None = None
    current_read_on: date | None = None
    estimated: bool = False
    replaced_on: date | None = None
    history: Sequence[UsageMonth] = ()

    def __post_init__(self) -> None:
        self._check_text()
        self._check_dates()
        self._check_reads()
        object.__setattr__(self, "history", self._checked_history())
        for name in ("previous_reading", "current_reading", "units"):
            _decimal(name, getattr(self, name), paise=False)
        for name in ("total", "round_off", "payable", "arrears"):
            _decimal(name, getattr(self, name), paise=True)
        # Frozen and hashable: keep the lines as a tuple whatever sequence the caller passed.
        object.__setattr__(self, "lines", self._checked_lines())
        self._check_sums()

    @property
    def amount_due(self) -> Decimal:
        """What the consumer is asked to pay now: this bill plus the balance of earlier bills."""
        return self.payable + self.arrears

    def _check_text(self) -> None:
        if not isinstance(self.bill_number, str) or not BILL_NUMBER_PATTERN.fullmatch(self.bill_number):
            raise InvoiceDataError(
                f"bill_number {self.bill_number!r} must be 1-16 characters of A-Z, 0-9, '-' and '/' "
                "(bill of supply rule; upper case only)"
            )
        if not isinstance(self.upi_vpa, str) or not _VPA_PATTERN.fullmatch(self.upi_vpa):
            raise InvoiceDataError(f"upi_vpa {self.upi_vpa!r} is not a UPI address of the form name@bank")
        _text("society_name", self.society_name, max_len=50)
        address = _text("society_address", self.society_address, max_len=180, multiline=True)
        if len(address.splitlines()) > 3:
            raise InvoiceDataError("society_address must be at most 3 lines (the header has room for 3)")
        _text("payee_name", self.payee_name, max_len=50)
        _text("unit_code", self.unit_code, max_len=20)
        _text("consumer_name", self.consumer_name, max_len=50)
        _text("meter_number", self.meter_number, max_len=20)
        try:
            object.__setattr__(self, "status", BillStatus(self.status))
        except ValueError:
            raise InvoiceDataError(f"status {self.status!r} is not a bill status") from None

    def _check_dates(self) -> None:
        bill_date = _date("bill_date", self.bill_date)
        period_from = _date("period_from", self.period_from)
        if _date("period_to", self.period_to) < period_from:
            raise InvoiceDataError(f"period_to {self.period_to} is before period_from {period_from}")
        if _date("due_date", self.due_date) < bill_date:
            raise InvoiceDataError(f"due_date {self.due_date} is before bill_date {bill_date}")

    def _check_reads(self) -> None:
        _optional_date("previous_read_on", self.previous_read_on)
        current = _optional_date("current_read_on", self.current_read_on)
        _optional_date("replaced_on", self.replaced_on)
        if not isinstance(self.estimated, bool):
            raise InvoiceDataError(f"estimated must be True or False, got {self.estimated!r}")
        # An estimate is exactly a month without a reading: a date beside "estimated" would contradict it.
        if self.estimated and current is not None:
            raise InvoiceDataError("an estimated bill has no current read date")

    def _checked_history(self) -> tuple[UsageMonth, ...]:
        if isinstance(self.history, str | bytes) or not isinstance(self.history, Sequence):
            raise InvoiceDataError("history must be a sequence of (period, units)")
        if len(self.history) > HISTORY_MONTHS:
            raise InvoiceDataError(f"history must hold at most {HISTORY_MONTHS} months, got {len(self.history)}")
        checked: list[UsageMonth] = []
        for raw in self.history:
            if not isinstance(raw, tuple) or len(raw) != 2:
                raise InvoiceDataError("each history month must be (period, units)")
            period, units = raw
            if not isinstance(period, str) or not _PERIOD_PATTERN.fullmatch(period):
                raise InvoiceDataError(f"history period {period!r} must be YYYY-MM")
            if checked and period <= checked[-1].period:
                raise InvoiceDataError(f"history must be oldest month first, {period} follows {checked[-1].period}")
            units = None if units is None else _decimal(f"{period} units", units, paise=False)
            checked.append(UsageMonth(period, units))
        # The chart's last bar is this bill's: a history of another month would label the wrong bar as this one.
        if checked and checked[-1].period != f"{self.period_to:%Y-%m}":
            raise InvoiceDataError(f"history must end with the bill's month {self.period_to:%Y-%m}")
        return tuple(checked)

    def _checked_lines(self) -> tuple[InvoiceLine, ...]:
        if isinstance(self.lines, str | bytes) or not isinstance(self.lines, Sequence):
            raise InvoiceDataError("lines must be a sequence of (description, quantity, rate, amount)")
        if not 1 <= len(self.lines) <= MAX_LINES:
            raise InvoiceDataError(f"lines must hold 1 to {MAX_LINES} lines (one A4 page), got {len(self.lines)}")
        checked: list[InvoiceLine] = []
        for index, raw in enumerate(self.lines, start=1):
            if not isinstance(raw, tuple) or len(raw) != 4:
                raise InvoiceDataError(f"line {index} must be (description, quantity, rate, amount)")
            description, quantity, rate, amount = raw
            checked.append(
                InvoiceLine(
                    _text(f"line {index} description", description, max_len=_MAX_DESCRIPTION),
                    _decimal(f"line {index} quantity", quantity, paise=False),
                    None if rate is None else _decimal(f"line {index} rate", rate, paise=False),
                    _decimal(f"line {index} amount", amount, paise=True),
                )
            )
        return tuple(checked)

    def _check_sums(self) -> None:
        # The printed figures must add up on paper, or the accountant cannot trust any of them.
        line_sum = sum((line.amount for line in self.lines), Decimal("0.00"))
        if line_sum != self.total:
            raise InvoiceDataError(f"total {self.total} is not the sum of the lines ({line_sum})")
        if self.total + self.round_off != self.payable:
            raise InvoiceDataError(f"payable {self.payable} is not total {self.total} + round_off {self.round_off}")
        if abs(self.round_off) > Decimal("0.50"):
            raise InvoiceDataError(f"round_off {self.round_off} is more than 50 paise (rounding to the rupee)")
