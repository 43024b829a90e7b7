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
from zoneinfo import ZoneInfo

from fpdf import FPDF
from fpdf.enums import Align, XPos, YPos

from shared_billing.protocol import BillStatus
from sync_server.invoices.data import InvoiceData, UsageMonth
from sync_server.invoices.formatting import (
    amount_in_words,
    format_bill_date,
    format_bill_month,
    format_inr,
    format_quantity,
    format_rate,
)
from sync_server.invoices.layout import (
    ACCENT,
    FONT,
    INK,
    LEFT,
    MUTED,
    RIGHT,
    RULE,
    SHADE,
    WIDTH,
    fit_cell,
    new_table,
    rule,
    set_font,
)
from sync_server.invoices.upi import qr_png, upi_link

__all__ = ["DEFAULT_ASSETS_DIR", "FOOTER_NOTE", "InvoiceAssetsError", "render_block", "render_invoice"]

# In a source checkout the assets sit at the repository root; callers may pass another folder (a society's own logo).
DEFAULT_ASSETS_DIR = Path(__file__).resolve().parents[2] / "assets"
FONT_FILES = {"": "fonts/DejaVuSans.ttf", "B": "fonts/DejaVuSans-Bold.ttf"}
LOGO_FILE = "logo.png"
_IST = ZoneInfo("Asia/Kolkata")
_QR_SIZE = 38.0
_DRAFT = (176, 0, 32)
_FOOTER_TOP = 271.0
# Six rows of the Bill box at this height end where five rows of 5.5 mm did: the read dates cost no other room.
_ROW_HEIGHT = 5.0
_READINGS_TOP = 92.0
_CHART_HEIGHT = 38.0  # gap, title, value labels, bars and month labels (the tallest bar's figure clears the title)
_ROW_CHART_HEIGHT = 10.0  # gap, title and one line of months
_BAR_HEIGHT = 20.0  # the tallest bar; the others in proportion
_BAR_WIDTH = 12.0
_EARLIER_BAR = (138, 156, 189)  # a lighter navy: this bill's month stands out in ACCENT

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
        pdf.add_font(FONT, style=style, fname=_asset(assets_dir, relative))
    pdf.set_margins(LEFT, 15, 210 - RIGHT)
    # Each bill is laid out to fit one page; an automatic break would split a bill and shift a block's pages.
    pdf.set_auto_page_break(False)
    pdf.set_creator("Fieldmeter")
    pdf.set_creation_date(created)
    return pdf, logo


def _header(pdf: FPDF, data: InvoiceData, logo: Path) -> None:
    pdf.image(logo, x=LEFT, y=14, w=54, h=18)
    width = WIDTH - 60
    pdf.set_xy(LEFT + 60, 13)
    fit_cell(pdf, width, 7, data.society_name, 15, bold=True, color=ACCENT, align=Align.R)
    for line in data.society_address.splitlines():
        fit_cell(pdf, width, 4, line, 8.5, color=MUTED, align=Align.R)
    rule(pdf, 36)
    pdf.set_xy(LEFT, 39)
    set_font(pdf, 16, bold=True, color=ACCENT)
    pdf.cell(WIDTH, 8, "BILL OF SUPPLY", align=Align.C)
    if data.status is BillStatus.DRAFT:
        # On the title's own line, so that a draft has exactly the layout of the bill it will become.
        pdf.set_x(LEFT)
        set_font(pdf, 12, bold=True, color=_DRAFT)
        pdf.cell(WIDTH, 8, "DRAFT: not issued", align=Align.R)
    pdf.set_xy(LEFT, 47)
    set_font(pdf, 8, color=MUTED)
    # Electricity is exempt from GST, so this is a bill of supply and not a tax invoice (docs/domain.md "Bills:
    # draft, issue, numbers").
    pdf.cell(WIDTH, 4, "Supply of electricity, exempt from GST: not a tax invoice", align=Align.C)


def _key_values(pdf: FPDF, x: float, y: float, title: str, rows: Sequence[tuple[str, str]]) -> None:
    width, label_width, height = 87.0, 24.0, _ROW_HEIGHT
    pdf.set_xy(x, y)
    set_font(pdf, 9, bold=True, color=ACCENT)
    pdf.set_fill_color(*SHADE)
    pdf.cell(width, 6, f" {title}", fill=True, new_x=XPos.LEFT, new_y=YPos.NEXT)
    for label, value in rows:
        pdf.set_x(x)
        set_font(pdf, 8.5, color=MUTED)
        pdf.cell(label_width, height, f" {label}")
        fit_cell(pdf, width - label_width, height, value, 9.5, bold=label == "Bill No.")


def _parties(pdf: FPDF, data: InvoiceData) -> None:
    consumer = [("Name", data.consumer_name), ("Unit", data.unit_code), ("Meter No.", data.meter_number)]
    if data.replaced_on is not None:
        # The readings row then spans two meters: the old one's units to this day, the new one's from it.
        consumer.append(("Replaced on", format_bill_date(data.replaced_on)))
    _key_values(pdf, LEFT, 55, "Consumer", consumer)
    period = f"{format_bill_date(data.period_from)} to {format_bill_date(data.period_to)}"
    bill = [
        ("Bill No.", data.bill_number),
        ("Bill date", format_bill_date(data.bill_date)),
        ("Period", period),
        ("Meter read", _read_dates(data)),
        ("Due date", format_bill_date(data.due_date)),
        ("Status", data.status.replace("_", " ").capitalize()),
    ]
    _key_values(pdf, LEFT + 93, 55, "Bill", bill)


def _read_dates(data: InvoiceData) -> str:
    """The days of the two readings the bill measures between, beside its period: the consumer can check the units
    against their own note of the meter, and sees at once a month that was not read."""
    previous = format_bill_date(data.previous_read_on) if data.previous_read_on is not None else "no earlier read"
    if data.estimated:
        return f"{previous}; {format_bill_month(f'{data.period_to:%Y-%m}')} estimated"
    if data.current_read_on is None:
        return previous
    return f"{previous} to {format_bill_date(data.current_read_on)}"


def _readings(pdf: FPDF, data: InvoiceData) -> None:
    pdf.set_xy(LEFT, _READINGS_TOP)
    with new_table(pdf, (60, 40, 40, 40)) as table:
        table.row(["Meter No.", "Previous reading", "Current reading", "Units consumed"])
        values = (data.previous_reading, data.current_reading, data.units)
        table.row([data.meter_number, *(format_quantity(value) for value in values)])


def _charges(pdf: FPDF, data: InvoiceData) -> None:
    pdf.set_xy(LEFT, pdf.get_y() + 5)
    with new_table(pdf, (100, 25, 25, 30)) as table:
        table.row(["Description", "Quantity", "Rate", "Amount"])
        for line in data.lines:
            rate = "" if line.rate is None else format_rate(line.rate)
            table.row([line.description, format_quantity(line.quantity), rate, format_inr(line.amount)])


def _summary(pdf: FPDF, data: InvoiceData, top: float) -> float:
    """The totals, right-aligned beside the payment block; returns the y below them."""
    # The tariff says what the payable is rounded to (the rupee, ten paise or not at all): a round-off row only
    # where rounding changed it.
    round_off = [("Round-off", data.round_off, False)] if data.round_off else []
    rows: list[tuple[str, Decimal, bool]] = [
        ("Total of charges", data.total, False),
        *round_off,
        ("Payable for this bill", data.payable, True),
    ]
    if data.arrears:
        label = "Arrears (earlier bills)" if data.arrears > 0 else "Credit (earlier bills)"
        due_label = "Amount due" if data.amount_due >= 0 else "Credit carried forward"
        rows += [(label, data.arrears, False), (due_label, data.amount_due, True)]
    pdf.set_y(top)
    for label, amount, strong in rows:
        height = 7.0 if strong else 5.5
        pdf.set_x(RIGHT - 82)
        set_font(pdf, 10.5 if strong else 9, bold=strong, color=ACCENT if strong else INK)
        pdf.cell(50, height, label, align=Align.R)
        pdf.cell(32, height, format_inr(amount), align=Align.R, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    return pdf.get_y()


def _payment(pdf: FPDF, data: InvoiceData, top: float) -> tuple[float, str | None]:
    """The UPI QR and how to pay, left of the totals; returns the y below it and the UPI link (None: no QR)."""
    due = data.amount_due
    if due <= 0:
        pdf.set_xy(LEFT, top)
        set_font(pdf, 10, bold=True, color=ACCENT)
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
    pdf.image(qr, x=LEFT, y=top, w=_QR_SIZE, h=_QR_SIZE, link=link, alt_text="UPI payment QR code")
    x, width = LEFT + _QR_SIZE + 3, 55.0
    pdf.set_xy(x, top + 1)
    set_font(pdf, 11, bold=True, color=ACCENT)
    pdf.cell(width, 6, "Pay by UPI", new_x=XPos.LEFT, new_y=YPos.NEXT)
    set_font(pdf, 8.5)
    pdf.multi_cell(width, 4, "Scan with any UPI app: the amount and the bill number are filled in.", new_x=XPos.LEFT)
    for text in (f"UPI ID: {data.upi_vpa}", f"Payee: {data.payee_name}", f"Pay by {format_bill_date(data.due_date)}"):
        pdf.set_xy(x, pdf.get_y() + 1)
        fit_cell(pdf, width, 4.5, text, 8.5)
    return max(pdf.get_y(), top + _QR_SIZE), link


def _amount_block(pdf: FPDF, data: InvoiceData) -> None:
    top = pdf.get_y() + 5
    below_summary = _summary(pdf, data, top)
    below_payment, link = _payment(pdf, data, top)
    pdf.set_xy(LEFT, max(below_summary, below_payment) + 2)
    set_font(pdf, 9.5, bold=True)
    due = data.amount_due
    words = amount_in_words(due) if due > 0 else "Nothing to pay"
    pdf.multi_cell(WIDTH, 5, f"In words: {words}", align=Align.L)
    if link is not None:
        # Printed on one line (down to a small size) so that it reads, and is extracted from the PDF, as one string.
        pdf.set_xy(LEFT, pdf.get_y() + 1)
        fit_cell(pdf, WIDTH, 4, link, 7.5, color=MUTED, min_size=4.5, link=link)


def _usage_bar(pdf: FPDF, month: UsageMonth, x: float, baseline: float, top: Decimal, *, current: bool) -> None:
    """One month's column: its units over the bar, the month under it; "no bill" where the unit had none."""
    width = WIDTH / 6
    value = _usage_value(month)
    height = 0.0
    if month.units is not None and top > 0:
        # Negative units (a correction) draw no bar downwards: the figure over the baseline says what it was.
        height = float(max(month.units, Decimal(0)) / top) * _BAR_HEIGHT
    if height > 0:
        pdf.set_fill_color(*(ACCENT if current else _EARLIER_BAR))
        pdf.rect(x + (width - _BAR_WIDTH) / 2, baseline - height, _BAR_WIDTH, height, style="F")
    pdf.set_xy(x, baseline - height - 4.5)
    set_font(pdf, 8, bold=current, color=INK if month.units is not None else MUTED)
    pdf.cell(width, 4, value, align=Align.C)
    pdf.set_xy(x, baseline + 0.8)
    set_font(pdf, 8, bold=current, color=ACCENT if current else MUTED)
    pdf.cell(width, 4, format_bill_month(month.period), align=Align.C)


def _usage_bars(pdf: FPDF, data: InvoiceData, top_y: float) -> None:
    baseline = top_y + _CHART_HEIGHT - 6
    highest = max((m.units for m in data.history if m.units is not None), default=Decimal(0))
    # Right-aligned slots: with fewer than six months the bill's own month still sits last.
    first = 6 - len(data.history)
    for index, month in enumerate(data.history):
        x = LEFT + (first + index) * WIDTH / 6
        _usage_bar(pdf, month, x, baseline, highest, current=index == len(data.history) - 1)
    pdf.set_draw_color(*RULE)
    pdf.set_line_width(0.2)
    pdf.line(LEFT, baseline, RIGHT, baseline)


def _usage_row(pdf: FPDF, data: InvoiceData, top_y: float) -> None:
    months = [f"{format_bill_month(m.period)}: {_usage_value(m)}" for m in data.history]
    pdf.set_xy(LEFT, top_y + 8)
    fit_cell(pdf, WIDTH, 4, "  ·  ".join(months), 8, min_size=5)


def _usage_value(month: UsageMonth) -> str:
    return "no bill" if month.units is None else format_quantity(month.units)


def _usage_chart(pdf: FPDF, data: InvoiceData) -> None:
    """The units billed in the bill's month and the months before: bars drawn with fpdf2's own shapes, or one
    line of figures when a long bill leaves no room for bars, or nothing when it leaves none at all (the bill's
    own figures come first; the chart only repeats earlier bills)."""
    top_y = pdf.get_y() + 1
    room = _FOOTER_TOP - top_y
    if not data.history or room < _ROW_CHART_HEIGHT:
        return
    pdf.set_xy(LEFT, top_y + 2)
    set_font(pdf, 9, bold=True, color=ACCENT)
    pdf.cell(WIDTH, 5, "Units billed, last six months", align=Align.L)
    if room >= _CHART_HEIGHT:
        _usage_bars(pdf, data, top_y)
        pdf.set_xy(LEFT, top_y + _CHART_HEIGHT)
    else:
        _usage_row(pdf, data, top_y)
        pdf.set_xy(LEFT, top_y + _ROW_CHART_HEIGHT)


def _footer(pdf: FPDF) -> None:
    rule(pdf, _FOOTER_TOP)
    pdf.set_xy(LEFT, _FOOTER_TOP + 2)
    set_font(pdf, 7.5, color=MUTED)
    pdf.multi_cell(WIDTH, 3.6, FOOTER_NOTE, align=Align.L)


def _page(pdf: FPDF, data: InvoiceData, logo: Path) -> None:
    pdf.add_page()
    _header(pdf, data, logo)
    _parties(pdf, data)
    _readings(pdf, data)
    _charges(pdf, data)
    _amount_block(pdf, data)
    _usage_chart(pdf, data)
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
