"""Indian formatting for invoices: ₹ amounts with lakh grouping (babel) and amounts in words (num2words)."""

from __future__ import annotations

from datetime import date, datetime, tzinfo
from decimal import Decimal
from functools import lru_cache

from babel.dates import format_date as babel_format_date
from babel.numbers import format_currency, format_decimal
from num2words import num2words

__all__ = [
    "amount_in_words",
    "format_bill_date",
    "format_bill_month",
    "format_inr",
    "format_quantity",
    "format_rate",
    "local_day",
]

_LOCALE = "en_IN"
_PAISA = Decimal("0.01")


def format_inr(amount: Decimal) -> str:
    """``Decimal("123456.5")`` → ``"₹1,23,456.50"``: CLDR's en_IN pattern groups lakhs and crores."""
    return _format_inr(amount, amount.is_signed())  # −0.00 equals 0.00 but prints "-₹0.00"


@lru_cache(maxsize=4096)  # a block's bills repeat their amounts: babel's formatting is the cost of a message
def _format_inr(amount: Decimal, _signed: bool) -> str:
    return format_currency(amount, "INR", locale=_LOCALE)


def format_rate(rate: Decimal) -> str:
    """A rate per unit in ₹ with at least two decimals and every further one it has (₹0.345 stays ₹0.345)."""
    return format_currency(rate, "INR", locale=_LOCALE, decimal_quantization=False)


def format_quantity(value: Decimal) -> str:
    """Readings and units with Indian grouping, every decimal the value carries (none dropped, none added)."""
    return format_decimal(value, locale=_LOCALE, decimal_quantization=False)


@lru_cache(maxsize=1024)  # a run's bills share their few days: babel's formatting is the cost
def format_bill_date(value: date) -> str:
    """``date(2025, 11, 30)`` → ``"30 Nov 2025"``: the month spelt out, so day and month cannot be swapped."""
    return babel_format_date(value, "d MMM yyyy", locale=_LOCALE)


@lru_cache(maxsize=1024)
def format_bill_month(period: str) -> str:
    """``"2025-11"`` → ``"Nov 2025"``: a billing month as the bill names it (its period line, its usage chart)."""
    return babel_format_date(date.fromisoformat(f"{period}-01"), "MMM yyyy", locale=_LOCALE)


def local_day(moment: datetime, tz: tzinfo) -> date:
    """The society's calendar day of a stored (UTC) instant: what every date printed on a bill is."""
    if moment.tzinfo is None:
        # A naive time would be read as this process's zone: a bill would change with the server it runs on.
        raise ValueError(f"a bill's dates come from time-zone-aware instants, got {moment!r}")
    return moment.astimezone(tz).date()


def _words(number: int) -> str:
    # num2words en_IN counts in lakhs and crores ("one lakh, twenty-three thousand, …"); cheques and bills in India
    # print it title-cased and without the commas.
    return str(num2words(number, lang=_LOCALE)).replace(",", "").title()


def amount_in_words(amount: Decimal) -> str:
    """``Decimal("3711")`` → ``"Rupees Three Thousand Seven Hundred And Eleven Only"``.

    Paise, when there are any, follow as "… And Fifty Paise Only". Rupees and paise are spelt separately with
    num2words' cardinal numbers: its ``to="currency"`` mode reads a bare int as paise (3711 → "thirty-seven
    rupees, eleven paise"), a trap not worth stepping around.
    """
    if not isinstance(amount, Decimal) or not amount.is_finite():
        raise ValueError(f"amount must be a finite Decimal, got {amount!r}")
    if amount < 0:
        raise ValueError(f"amount in words is for an amount to pay, got {amount}")
    if amount != amount.quantize(_PAISA):
        raise ValueError(f"amount must be whole paise, got {amount}")
    paise_total = int(amount * 100)
    rupees, paise = divmod(paise_total, 100)
    text = f"Rupees {_words(rupees)}"
    if paise:
        text += f" And {_words(paise)} Paise"
    return f"{text} Only"
