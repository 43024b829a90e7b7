"""PDF bills of supply for electricity: one bill, or one PDF per block with a page per bill.

Built on well-kept libraries rather than local equivalents: fpdf2 lays out the page (with an embedded DejaVu Sans,
because the PDF core fonts have no ₹), segno draws the UPI QR code, babel formats ₹ amounts with lakh grouping and
num2words spells the amount in Indian English. Assets (fonts, logo) are read from ``assets_dir``, normally the
repository's ``assets/`` (``DEFAULT_ASSETS_DIR``).

>>> from decimal import Decimal
>>> amount_in_words(Decimal("3711.00"))
'Rupees Three Thousand Seven Hundred And Eleven Only'
"""

from sync_server.invoices.data import BILL_NUMBER_PATTERN, MAX_LINES, InvoiceData, InvoiceDataError, InvoiceLine
from sync_server.invoices.formatting import (
    amount_in_words,
    format_bill_date,
    format_inr,
    format_quantity,
    format_rate,
)
from sync_server.invoices.render import (
    DEFAULT_ASSETS_DIR,
    FOOTER_NOTE,
    InvoiceAssetsError,
    render_block,
    render_invoice,
)
from sync_server.invoices.upi import qr_png, upi_link, upi_qr

__all__ = [
    "BILL_NUMBER_PATTERN",
    "DEFAULT_ASSETS_DIR",
    "FOOTER_NOTE",
    "MAX_LINES",
    "InvoiceAssetsError",
    "InvoiceData",
    "InvoiceDataError",
    "InvoiceLine",
    "amount_in_words",
    "format_bill_date",
    "format_inr",
    "format_quantity",
    "format_rate",
    "qr_png",
    "render_block",
    "render_invoice",
    "upi_link",
    "upi_qr",
]
