"""Drawing helpers shared by the invoice template: page geometry, colours, fonts that fit their boxes, tables."""

from __future__ import annotations

from contextlib import AbstractContextManager

from fpdf import FPDF
from fpdf.enums import Align
from fpdf.fonts import FontFace
from fpdf.table import Table

__all__ = [
    "ACCENT",
    "FONT",
    "INK",
    "LEFT",
    "MIN_SIZE",
    "MUTED",
    "RIGHT",
    "RULE",
    "SHADE",
    "WIDTH",
    "fit_cell",
    "fit_font",
    "new_table",
    "rule",
    "set_font",
]

FONT = "DejaVu"  # the PDF core fonts have no ₹ glyph; DejaVu Sans has U+20B9
# Page geometry in millimetres (A4 portrait, 15 mm margins).
LEFT = 15.0
WIDTH = 180.0
RIGHT = LEFT + WIDTH
MIN_SIZE = 6.0  # smallest font size, in points, that text is shrunk to before it wraps
Colour = tuple[int, int, int]
INK: Colour = (33, 37, 41)
MUTED: Colour = (96, 103, 112)
ACCENT: Colour = (23, 48, 94)  # the logo's navy
SHADE: Colour = (232, 236, 243)
RULE: Colour = (170, 176, 186)


def set_font(pdf: FPDF, size: float, *, bold: bool = False, color: Colour = INK) -> None:
    """Select the embedded DejaVu Sans (regular or bold) at ``size`` points, in ``color``."""
    pdf.set_font(FONT, style="B" if bold else "", size=size)
    pdf.set_text_color(*color)


def fit_font(
    pdf: FPDF,
    text: str,
    width: float,
    size: float,
    *,
    bold: bool = False,
    color: Colour = INK,
    min_size: float = MIN_SIZE,
) -> bool:
    """Set the largest font size (down to ``min_size``) at which ``text`` fits ``width``; False if none does."""
    set_font(pdf, size, bold=bold, color=color)
    while pdf.get_string_width(text) > width and size > min_size:
        size = max(min_size, size - 0.25)
        set_font(pdf, size, bold=bold, color=color)
    return pdf.get_string_width(text) <= width


def fit_cell(
    pdf: FPDF,
    width: float,
    height: float,
    text: str,
    size: float,
    *,
    bold: bool = False,
    color: Colour = INK,
    align: Align = Align.L,
    min_size: float = MIN_SIZE,
    link: str = "",
) -> None:
    """One line of text in a box of fixed size: shrunk to fit, and wrapped onto two half-height lines if needed.

    Names and addresses come from the society's records; shrinking them keeps every box on the page where the
    layout put it, so no field can push the payment block onto the footer.
    """
    x, y = pdf.get_x(), pdf.get_y()
    if fit_font(pdf, text, width, size, bold=bold, color=color, min_size=min_size):
        pdf.cell(width, height, text, align=align, link=link)
    else:
        pdf.multi_cell(width, height / 2, text, align=align, max_line_height=height / 2, link=link or None)
    pdf.set_xy(x, y + height)


def rule(pdf: FPDF, y: float) -> None:
    """A navy rule across the page at ``y``, between the page's sections."""
    pdf.set_draw_color(*ACCENT)
    pdf.set_line_width(0.4)
    pdf.line(LEFT, y, RIGHT, y)


def new_table(pdf: FPDF, col_widths: tuple[float, ...]) -> AbstractContextManager[Table]:
    """An fpdf2 table across the page: first column left-aligned (text), the others right-aligned (figures)."""
    # Thin grey rules inside tables; the heavier navy rule is kept for the page's section breaks.
    pdf.set_draw_color(*RULE)
    pdf.set_line_width(0.2)
    pdf.set_fill_color(255, 255, 255)  # body rows unshaded: less toner, and the headings stand out
    set_font(pdf, 9)
    return pdf.table(
        width=WIDTH,
        col_widths=col_widths,
        text_align=(Align.L, *[Align.R] * (len(col_widths) - 1)),
        line_height=5,
        padding=(0.6, 1),
        headings_style=FontFace(emphasis="BOLD", color=ACCENT, fill_color=SHADE),
        borders_layout="HORIZONTAL_LINES",
        cell_fill_mode="NONE",
        align=Align.L,
    )
