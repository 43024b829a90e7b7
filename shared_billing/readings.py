"""Register values: parsing the value a reader typed, as the meter shows it.

The phone uses this at entry and the server per pushed item, so both refuse the same values with the same code
(docs/architecture.md "Limits": reading values ``0 ≤ value < 10^dials``, at most the meter's decimals).
"""

from __future__ import annotations

from decimal import Context, Decimal

from shared_billing.errors import NegativeRegisterValue, RegisterValueError, TooManyDecimals, TooManyDigits

__all__ = ["format_quantity", "format_register_value", "parse_register_value"]

# ASCII only: str.isdigit() and Decimal() also accept other scripts' digits ("١٢"), which a dial never shows.
_DIGITS = frozenset("0123456789")
_FORM = "digits with an optional fraction, like 12345 or 12345.6"


def _places(count: int) -> str:
    return f"{count} decimal place{'' if count == 1 else 's'}"


def _check_meter(dials: int, decimals: int) -> None:
    if dials < 1:
        raise ValueError(f"a meter has at least 1 dial, not {dials}")
    if decimals < 0:
        raise ValueError(f"a meter shows 0 or more decimals, not {decimals}")


def _is_digits(text: str) -> bool:
    return bool(text) and all(char in _DIGITS for char in text)


def _is_plain_number(text: str) -> bool:
    whole, dot, fraction = text.partition(".")
    return _is_digits(whole) and (not dot or _is_digits(fraction))


def parse_register_value(text: str, *, dials: int, decimals: int) -> Decimal:
    """Parse a typed register value into a ``Decimal`` quantized to the meter's ``decimals``.

    Accepts ASCII digits with an optional single ``.`` followed by at least one digit (leading zeros are fine:
    dials show them). Everything else is refused, with a distinct code:

    - ``reading.invalid_value`` (``RegisterValueError``): empty, spaces, signs, exponents, ``NaN``,
      ``Infinity``, non-ASCII digits, ``".5"``, ``"5."``;
    - ``reading.negative_value`` (``NegativeRegisterValue``): ``"-" + a valid number``;
    - ``reading.too_many_digits`` (``TooManyDigits``): the value is ≥ 10**dials;
    - ``reading.too_many_decimals`` (``TooManyDecimals``): more fraction digits than the meter shows, even
      zeros (a reader who types more precision than the dial has probably misread it).

    ``dials < 1`` or ``decimals < 0`` is a meter configuration bug and raises ``ValueError``.
    """
    _check_meter(dials, decimals)
    if text.startswith("-") and _is_plain_number(text[1:]):
        raise NegativeRegisterValue(f"Value {text} is negative; a meter register never is", value=text)
    if not _is_plain_number(text):
        raise RegisterValueError(f"Value {text!r} is not a meter reading: expected {_FORM}", value=text)
    whole, _, fraction = text.partition(".")
    # Value < 10**dials, counted on significant digits so that typed leading zeros ("000120") are harmless.
    significant = len(whole.lstrip("0"))
    if significant > dials:
        raise TooManyDigits(
            f"Value {text} has {significant} digits; meter has {dials} dial{'' if dials == 1 else 's'}",
            value=text,
            dials=str(dials),
        )
    if len(fraction) > decimals:
        raise TooManyDecimals(
            f"Value {text} has {_places(len(fraction))}; meter shows {_places(decimals) if decimals else 'none'}",
            value=text,
            decimals=str(decimals),
        )
    # A context wide enough for every digit the meter shows, so long registers never hit the default 28.
    wide = Context(prec=dials + decimals + 1)
    return Decimal(text).quantize(Decimal(1).scaleb(-decimals), context=wide)


def format_register_value(value: Decimal, *, decimals: int) -> str:
    """Format a register value as the phone sends it: fixed point at the meter's ``decimals`` (no exponent).

    A value with more decimals than the meter shows is a caller bug (``ValueError``), never silently rounded.
    """
    if decimals < 0:
        raise ValueError(f"a meter shows 0 or more decimals, not {decimals}")
    shown = value.quantize(Decimal(1).scaleb(-decimals), context=Context(prec=max(28, value.adjusted() + decimals + 2)))
    if shown != value:
        raise ValueError(f"{value} has more than {decimals} decimal places")
    return f"{shown:f}"


def format_quantity(value: Decimal) -> str:
    """A quantity without trailing zeros or exponent (``77.00000000`` → ``77``, ``1E+2`` → ``100``), for display."""
    return f"{value.normalize():f}"
