"""Lay out bills of supply on A4 pages with fpdf2: one page per bill, for a single bill or a whole block.

The output is deterministic (the PDF's dates come from the bill date, not the clock), so rendering the same bill
twice gives the same bytes: a stored PDF can be checked against its bill by rendering again.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fpdf import FPDF
from fpdf.enums import Align, XPos, YPos
from fpdf.fonts import FontFace

from sync_server.invoices.data import InvoiceData
from sync_server.invoices.formatting import (
    amount_in_words,
    format_bill_date,
    format_inr,
    format_quantity,
    format_rate,
)
from sync_server.invoices.upi import qr_png, upi_link

__all__ = ["DEFAULT_ASSETS_DIR", "FOOTER_NOTE", "InvoiceAssetsError", "render_block", "render_invoice"]

# In a source checkout the assets sit at the repository root; callers may pass another folder (a society's own logo).
DEFAULT_ASSETS_DIR = Path(__file__).resolve().parents[2] / "assets"
FONT_FILES = {"": "fonts/DejaVuSans.ttf", "B": "fonts/DejaVuSans-Bold.ttf"}
LOGO_FILE = "logo.png"
_FONT = "DejaVu"  # the PDF core fonts have no ₹ glyph; DejaVu Sans has U+20B9
_IST = ZoneInfo("Asia/Kolkata")

# Page geometry in millimetres (A4 portrait, 15 mm margins).
_LEFT = 15.0
_WIDTH = 180.0
_RIGHT = _LEFT + _WIDTH
_QR_SIZE = 38.0
_MIN_SIZE = 6.0
_INK = (33, 37, 41)
_MUTED = (96, 103, 112)
_ACCENT = (23, 48, 94)  # the logo's navy
_SHADE = (232, 236, 243)
_RULE = (170, 176, 186)
_DRAFT = (176, 0, 32)
_FOOTER_TOP = 271.0

FOOTER_NOTE = (
    "This UPI QR code is static: scanning it or paying with it confirms nothing by itself. A payment counts once "
    "it appears on the society's bank statement and is reconciled against the bill number (the UPI reference); "
    "keep your UPI transaction ID until it shows on your next bill. Computer-generated bill; no signature required."
)


class InvoiceAssetsError(FileNotFoundError):
    """The font or logo files the template needs are missing from the assets folder."""


def _asset(assets_dir: Path, relative: str) -> Path:
    path = assets_dir / relative
    if not path.is_file():
        raise InvoiceAssetsError(f"invoice asset missing: {path} (expected under the assets folder {assets_dir})")
    return path


def _new_document(assets_dir: Path, created: datetime) -> tuple[FPDF, Path]:
    logo = _asset(assets_dir, LOGO_FILE)
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    for style, relative in FONT_FILES.items():
        pdf.add_font(_FONT, style=style, fname=_asset(assets_dir, relative))
    pdf.set_margins(_LEFT, 15, 210 - _RIGHT)
    # Each bill is laid out to fit one page; an automatic break would split a bill and shift a block's pages.
    pdf.set_auto_page_break(False)
    pdf.set_creator("Fieldmeter")
    pdf.set_creation_date(created)
    return pdf, logo


def _font(pdf: FPDF, size: float, *, bold: bool = False, color: tuple[int, int, int] = _INK) -> None:
    pdf.set_font(_FONT, style="B" if bold else "", size=size)
    pdf.set_text_color(*color)


def _fit_font(
    pdf: FPDF,
    text: str,
    width: float,
    size: float,
    *,
    bold: bool = False,
    color: tuple[int, int, int] = _INK,
    min_size: float = _MIN_SIZE,
) -> bool:
    """Set the largest font size (down to ``min_size``) at which ``text`` fits ``width``; False if none does."""
    _font(pdf, size, bold=bold, color=color)
    while pdf.get_string_width(text) > width and size > min_size:
        size = max(min_size, size - 0.25)
        _font(pdf, size, bold=bold, color=color)
    return pdf.get_string_width(text) <= width


def _fit_cell(
    pdf: FPDF,
    width: float,
    height: float,
    text: str,
    size: float,
    *,
    bold: bool = False,
    color: tuple[int, int, int] = _INK,
    align: Align = Align.L,
    min_size: float = _MIN_SIZE,
    link: str = "",
) -> None:
    """One line of text in a box of fixed size: shrunk to fit, and wrapped onto two half-height lines if needed.

    Names and addresses come from the society's records; shrinking them keeps every box on the page where the
    layout put it, so no field can push the payment block onto the footer.
    """
    x, y = pdf.get_x(), pdf.get_y()
    if _fit_font(pdf, text, width, size, bold=bold, color=color, min_size=min_size):
        pdf.cell(width, height, text, align=align, link=link)
    else:
        pdf.multi_cell(width, height / 2, text, align=align, max_line_height=height / 2, link=link or None)
    pdf.set_xy(x, y + height)


def _rule(pdf: FPDF, y: float) -> None:
    pdf.set_draw_color(*_ACCENT)
    pdf.set_line_width(0.4)
    pdf.line(_LEFT, y, _RIGHT, y)


def _header(pdf: FPDF, data: InvoiceData, logo: Path) -> None:
    pdf.image(logo, x=_LEFT, y=14, w=54, h=18)
    width = _WIDTH - 60
    pdf.set_xy(_LEFT + 60, 13)
    _fit_cell(pdf, width, 7, data.society_name, 15, bold=True, color=_ACCENT, align=Align.R)
    for line in data.society_address.splitlines():
        _fit_cell(pdf, width, 4, line, 8.5, color=_MUTED, align=Align.R)
    _rule(pdf, 36)
    pdf.set_xy(_LEFT, 39)
    _font(pdf, 16, bold=True, color=_ACCENT)
    pdf.cell(_WIDTH, 8, "BILL OF SUPPLY", align=Align.C)
    if data.status.lower() == "draft":
        # On the title's own line, so that a draft has exactly the layout of the bill it will become.
        pdf.set_x(_LEFT)
        _font(pdf, 12, bold=True, color=_DRAFT)
        pdf.cell(_WIDTH, 8, "DRAFT: not issued", align=Align.R)
    pdf.set_xy(_LEFT, 47)
    _font(pdf, 8, color=_MUTED)
    # Electricity is exempt from GST, so this is a bill of supply and not a tax invoice (DOMAIN.md).
    pdf.cell(_WIDTH, 4, "Supply of electricity, exempt from GST: not a tax invoice", align=Align.C)


def _key_values(pdf: FPDF, x: float, y: float, title: str, rows: Sequence[tuple[str, str]]) -> None:
    width, label_width = 87.0, 24.0
    pdf.set_xy(x, y)
    _font(pdf, 9, bold=True, color=_ACCENT)
    pdf.set_fill_color(*_SHADE)
    pdf.cell(width, 6, f" {title}", fill=True, new_x=XPos.LEFT, new_y=YPos.NEXT)
    for label, value in rows:
        pdf.set_x(x)
        _font(pdf, 8.5, color=_MUTED)
        pdf.cell(label_width, 5.5, f" {label}")
        _fit_cell(pdf, width - label_width, 5.5, value, 9.5, bold=label == "Bill No.")


def _parties(pdf: FPDF, data: InvoiceData) -> None:
    consumer = [("Name", data.consumer_name), ("Unit", data.unit_code), ("Meter No.", data.meter_number)]
    _key_values(pdf, _LEFT, 55, "Consumer", consumer)
    period = f"{format_bill_date(data.period_from)} to {format_bill_date(data.period_to)}"
    bill = [
        ("Bill No.", data.bill_number),
        ("Bill date", format_bill_date(data.bill_date)),
        ("Period", period),
        ("Due date", format_bill_date(data.due_date)),
        ("Status", data.status.capitalize()),
    ]
    _key_values(pdf, _LEFT + 93, 55, "Bill", bill)


def _table(pdf: FPDF, col_widths: tuple[float, ...]) -> Any:
    # Thin grey rules inside tables; the heavier navy rule is kept for the page's section breaks.
    pdf.set_draw_color(*_RULE)
    pdf.set_line_width(0.2)
    pdf.set_fill_color(255, 255, 255)  # body rows unshaded: less toner, and the headings stand out
    _font(pdf, 9)
    return pdf.table(
        width=_WIDTH,
        col_widths=col_widths,
        text_align=(Align.L, *[Align.R] * (len(col_widths) - 1)),
        line_height=5,
        padding=(0.6, 1),
        headings_style=FontFace(emphasis="BOLD", color=_ACCENT, fill_color=_SHADE),
        borders_layout="HORIZONTAL_LINES",
        cell_fill_mode="NONE",
        align=Align.L,
    )


def _readings(pdf: FPDF, data: InvoiceData) -> None:
    pdf.set_xy(_LEFT, 92)
    with _table(pdf, (60, 40, 40, 40)) as table:
        table.row(["Meter No.", "Previous reading", "Current reading", "Units consumed"])
        values = (data.previous_reading, data.current_reading, data.units)
        table.row([data.meter_number, *(format_quantity(value) for value in values)])


def _charges(pdf: FPDF, data: InvoiceData) -> None:
    pdf.set_xy(_LEFT, pdf.get_y() + 5)
    with _table(pdf, (100, 25, 25, 30)) as table:
        table.row(["Description", "Quantity", "Rate", "Amount"])
        for line in data.lines:
            rate = "" if line.rate is None else format_rate(line.rate)
            table.row([line.description, format_quantity(line.quantity), rate, format_inr(line.amount)])


def _summary(pdf: FPDF, data: InvoiceData, top: float) -> float:
    """The totals, right-aligned beside the payment block; returns the y below them."""
    rows: list[tuple[str, Decimal, bool]] = [
        ("Total of charges", data.total, False),
        ("Round-off (to the rupee)", data.round_off, False),
        ("Payable for this bill", data.payable, True),
    ]
    if data.arrears:
        label = "Arrears (earlier bills)" if data.arrears > 0 else "Credit (earlier bills)"
        due_label = "Amount due" if data.amount_due >= 0 else "Credit carried forward"
        rows += [(label, data.arrears, False), (due_label, data.amount_due, True)]
    pdf.set_y(top)
    for label, amount, strong in rows:
        height = 7.0 if strong else 5.5
        pdf.set_x(_RIGHT - 82)
        _font(pdf, 10.5 if strong else 9, bold=strong, color=_ACCENT if strong else _INK)
        pdf.cell(50, height, label, align=Align.R)
        pdf.cell(32, height, format_inr(amount), align=Align.R, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    return pdf.get_y()


def _payment(pdf: FPDF, data: InvoiceData, top: float) -> tuple[float, str | None]:
    """The UPI QR and how to pay, left of the totals; returns the y below it and the UPI link (None: no QR)."""
    due = data.amount_due
    if due <= 0:
        pdf.set_xy(_LEFT, top)
        _font(pdf, 10, bold=True, color=_ACCENT)
        text = f"Nothing to pay: a credit of {format_inr(-due)} is carried to the next bill."
        pdf.multi_cell(88, 5, text, align=Align.L)
        return pdf.get_y(), None
    link = upi_link(
        vpa=data.upi_vpa,
        payee_name=data.payee_name,
        amount=due,
        note=f"Electricity {data.unit_code} {data.period_to:%b %Y}"[:50],
        reference=data.bill_number,
    )
    # The QR and the printed link are also PDF links: a resident who opens the bill on a phone taps to pay.
    qr = io.BytesIO(qr_png(link))
    pdf.image(qr, x=_LEFT, y=top, w=_QR_SIZE, h=_QR_SIZE, link=link, alt_text="UPI payment QR code")
    x, width = _LEFT + _QR_SIZE + 3, 55.0
    pdf.set_xy(x, top + 1)
    _font(pdf, 11, bold=True, color=_ACCENT)
    pdf.cell(width, 6, "Pay by UPI", new_x=XPos.LEFT, new_y=YPos.NEXT)
    _font(pdf, 8.5)
    pdf.multi_cell(width, 4, "Scan with any UPI app: the amount and the bill number are filled in.", new_x=XPos.LEFT)
    for text in (f"UPI ID: {data.upi_vpa}", f"Payee: {data.payee_name}", f"Pay by {format_bill_date(data.due_date)}"):
        pdf.set_xy(x, pdf.get_y() + 1)
        _fit_cell(pdf, width, 4.5, text, 8.5)
    return max(pdf.get_y(), top + _QR_SIZE), link


def _amount_block(pdf: FPDF, data: InvoiceData) -> None:
    top = pdf.get_y() + 5
    below_summary = _summary(pdf, data, top)
    below_payment, link = _payment(pdf, data, top)
    pdf.set_xy(_LEFT, max(below_summary, below_payment) + 2)
    _font(pdf, 9.5, bold=True)
    due = data.amount_due
    words = amount_in_words(due) if due > 0 else "Nothing to pay"
    pdf.multi_cell(_WIDTH, 5, f"In words: {words}", align=Align.L)
    if link is not None:
        # Printed on one line (down to a small size) so that it reads, and is extracted from the PDF, as one string.
        pdf.set_xy(_LEFT, pdf.get_y() + 1)
        _fit_cell(pdf, _WIDTH, 4, link, 7.5, color=_MUTED, min_size=4.5, link=link)


def _footer(pdf: FPDF) -> None:
    _rule(pdf, _FOOTER_TOP)
    pdf.set_xy(_LEFT, _FOOTER_TOP + 2)
    _font(pdf, 7.5, color=_MUTED)
    pdf.multi_cell(_WIDTH, 3.6, FOOTER_NOTE, align=Align.L)


def _page(pdf: FPDF, data: InvoiceData, logo: Path) -> None:
    pdf.add_page()
    _header(pdf, data, logo)
    _parties(pdf, data)
    _readings(pdf, data)
    _charges(pdf, data)
    _amount_block(pdf, data)
    # MAX_LINES and the field lengths in data.py are chosen so that this holds; if a change breaks it, fail
    # loudly rather than print the payment block over the footer.
    if pdf.get_y() > _FOOTER_TOP:
        raise RuntimeError(f"bill {data.bill_number} does not fit one page ({pdf.get_y():.1f} mm > {_FOOTER_TOP} mm)")
    _footer(pdf)


def _created(data: InvoiceData) -> datetime:
    return datetime.combine(data.bill_date, time(), _IST)


def render_block(invoices: Sequence[InvoiceData], *, assets_dir: Path) -> bytes:
    """One PDF with one A4 page per bill, in the order given (e.g. a block's bills by unit)."""
    if not invoices:
        raise ValueError("a block PDF needs at least one invoice")
    pdf, logo = _new_document(assets_dir, _created(invoices[0]))
    pdf.set_title(f"Bills of supply {invoices[0].bill_number} to {invoices[-1].bill_number}")
    for data in invoices:
        _page(pdf, data, logo)
    return bytes(pdf.output())


def render_invoice(data: InvoiceData, *, assets_dir: Path) -> bytes:
    """One bill of supply as a one-page A4 PDF."""
    pdf, logo = _new_document(assets_dir, _created(data))
    pdf.set_title(f"Bill of supply {data.bill_number}")
    pdf.set_subject(f"Electricity, {data.unit_code}")
    _page(pdf, data, logo)
    return bytes(pdf.output())
