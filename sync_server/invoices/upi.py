"""UPI payment links and their QR codes (segno), as printed on a bill.

A static QR only pre-fills the payer's UPI app: nothing comes back to the society when someone pays, so a payment
counts only once it is matched on the bank statement (docs/domain.md). ``tr`` carries the bill number so that the
statement line can be matched to the bill.
"""

from __future__ import annotations

import io
from decimal import Decimal
from urllib.parse import quote

import segno

__all__ = ["QR_BORDER", "QR_SCALE", "qr_png", "upi_link", "upi_qr"]

# Pixels per QR module in the PNG, and the quiet zone in modules: 4 is the minimum ISO/IEC 18004 asks for, and
# scanners in phones fail more often on a QR printed hard against other ink.
QR_SCALE = 8
QR_BORDER = 4
# Payer apps show the note and cut long ones; 50 characters is within every limit we know of.
_MAX_NOTE = 50
_PAISA = Decimal("0.01")


def _param(value: str) -> str:
    # Percent-encode every reserved character, "/" and "&" included, so a bill number "FM/2526/000001" becomes
    # "FM%2F2526%2F000001" and no value can end a parameter early. "@" stays literal: it is legal in a query
    # (RFC 3986 pchar), and UPI apps show the payee address as typed. Spaces become %20 (quote, not quote_plus:
    # "+" is not read as a space by every UPI app).
    return quote(value, safe="@")


def upi_link(*, vpa: str, payee_name: str, amount: Decimal, note: str, reference: str) -> str:
    """Build ``upi://pay?pa=<vpa>&pn=<name>&am=<0.00>&cu=INR&tn=<note>&tr=<reference>`` (docs/domain.md).

    ``amount`` must be a positive ``Decimal`` at paise; it is printed with exactly two decimals.
    >>> upi_link(vpa="rwa@bank", payee_name="Blessings City", amount=Decimal("3711"), note="Bill", reference="A/1")
    'upi://pay?pa=rwa@bank&pn=Blessings%20City&am=3711.00&cu=INR&tn=Bill&tr=A%2F1'
    """
    if not isinstance(amount, Decimal) or not amount.is_finite() or amount <= 0:
        raise ValueError(f"a UPI amount must be a positive Decimal, got {amount!r}")
    if amount != amount.quantize(_PAISA):
        raise ValueError(f"a UPI amount must be whole paise, got {amount}")
    for name, value in (("vpa", vpa), ("payee_name", payee_name), ("note", note), ("reference", reference)):
        if not value.strip():
            raise ValueError(f"{name} must not be empty")
    if len(note) > _MAX_NOTE:
        raise ValueError(f"note must be at most {_MAX_NOTE} characters, got {len(note)}")
    params = [
        ("pa", vpa),
        ("pn", payee_name),
        ("am", f"{amount:.2f}"),
        ("cu", "INR"),
        ("tn", note),
        ("tr", reference),
    ]
    return "upi://pay?" + "&".join(f"{key}={_param(value)}" for key, value in params)


def upi_qr(link: str) -> segno.QRCode:
    """The QR symbol for ``link``: error level M (15 %) survives a crease or a stamp on a printed bill."""
    return segno.make_qr(link, error="m")


def qr_png(link: str) -> bytes:
    """The QR for ``link`` as a black-on-white PNG in memory, ``QR_SCALE`` pixels a module."""
    buffer = io.BytesIO()
    upi_qr(link).save(buffer, kind="png", scale=QR_SCALE, border=QR_BORDER)
    return buffer.getvalue()
