"""PDF bills of supply (sync_server.invoices): rendered, then read back with pypdf as a person's PDF reader would.

The demo walk-through's bill (docs/domain.md, 5BHK-B17-FF, November 2025): 77 units + 39.63 units of MOTOR-B at ₹12 and
the 5BHK fixed charge of ₹2311 = ₹3710.56, round-off +0.44, payable ₹3711.00.

No QR decoder is installed, so the QR is checked without one: the embedded image's pixels are sampled module by
module and compared with the symbol segno makes from the link printed under it.
"""

from __future__ import annotations

import dataclasses
import io
import re
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
from fontTools.ttLib import TTFont
from pypdf import PdfReader
from pypdf.generic import DictionaryObject

from sync_server.invoices import (
    DEFAULT_ASSETS_DIR,
    FOOTER_NOTE,
    MAX_LINES,
    InvoiceAssetsError,
    InvoiceData,
    InvoiceDataError,
    InvoiceLine,
    amount_in_words,
    format_inr,
    format_rate,
    render_block,
    render_invoice,
    upi_link,
    upi_qr,
)
from sync_server.invoices.data import UsageMonth
from sync_server.invoices.formatting import local_day
from sync_server.invoices.upi import QR_BORDER, QR_SCALE

ASSETS = DEFAULT_ASSETS_DIR
DEMO_WORDS = "Rupees Three Thousand Seven Hundred And Eleven Only"
# The chosen form: every reserved character of a value percent-encoded, "/" included (see sync_server/invoices/upi.py).
DEMO_LINK = (
    "upi://pay?pa=blessingsrwa@okbank&pn=Blessings%20City%20RWA&am=3711.00&cu=INR"
    "&tn=Electricity%205BHK-B17-FF%20Nov%202025&tr=FM%2F2526%2F000001"
)


def demo_invoice(**changes: Any) -> InvoiceData:
    data = InvoiceData(
        society_name="Blessings City",
        society_address="Residents' Welfare Association, Blessings City\nPakhowal Road, Ludhiana, Punjab 141013",
        upi_vpa="blessingsrwa@okbank",
        payee_name="Blessings City RWA",
        bill_number="FM/2526/000001",
        bill_date=date(2025, 12, 1),
        due_date=date(2025, 12, 15),
        period_from=date(2025, 11, 1),
        period_to=date(2025, 11, 30),
        unit_code="5BHK-B17-FF",
        consumer_name="Demo Resident B17",
        meter_number="70012345",
        previous_reading=Decimal("12345"),
        current_reading=Decimal("12422"),
        units=Decimal("77"),
        lines=[
            InvoiceLine("Energy", Decimal("77"), Decimal("12"), Decimal("924.00")),
            InvoiceLine("Shared meter MOTOR-B share", Decimal("39.63"), Decimal("12"), Decimal("475.56")),
            InvoiceLine("Fixed charge (5BHK)", Decimal("1"), Decimal("2311"), Decimal("2311.00")),
        ],
        total=Decimal("3710.56"),
        round_off=Decimal("0.44"),
        payable=Decimal("3711.00"),
    )
    return dataclasses.replace(data, **changes) if changes else data


def pdf_text(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


@pytest.fixture(scope="module")
def demo_pdf() -> bytes:
    return render_invoice(demo_invoice(), assets_dir=ASSETS)


def test_demo_bill_reads_back_with_its_figures(demo_pdf: bytes) -> None:
    reader = PdfReader(io.BytesIO(demo_pdf))
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    for expected in (
        "BILL OF SUPPLY",
        "FM/2526/000001",
        "₹3,711.00",
        "₹3,710.56",
        "₹0.44",
        "₹2,311.00",
        "5BHK-B17-FF",
        "70012345",
        DEMO_WORDS,
        "exempt from GST",
        "1 Dec 2025",
        "15 Dec 2025",
    ):
        assert expected in text, expected
    # The footer says what a static QR cannot do (docs/domain.md "Bills: draft, issue, numbers").
    assert " ".join(FOOTER_NOTE.split()) in " ".join(text.split())


def test_a_round_off_row_only_where_rounding_changed_the_payable(demo_pdf: bytes) -> None:
    assert "Round-off" in pdf_text(demo_pdf)[0]
    # A tariff billed to the paisa (payable_rounding = "none"): the payable is the total, and no round-off row.
    to_the_paisa = demo_invoice(round_off=Decimal("0.00"), payable=Decimal("3710.56"))
    text = pdf_text(render_invoice(to_the_paisa, assets_dir=ASSETS))[0]
    assert "Round-off" not in text
    assert "₹3,710.56" in text


def test_upi_link_is_printed_whole_with_the_bill_number_encoded(demo_pdf: bytes) -> None:
    link = upi_link(
        vpa="blessingsrwa@okbank",
        payee_name="Blessings City RWA",
        amount=Decimal("3711.00"),
        note="Electricity 5BHK-B17-FF Nov 2025",
        reference="FM/2526/000001",
    )
    assert link == DEMO_LINK
    assert "tr=FM%2F2526%2F000001" in link
    assert link in pdf_text(demo_pdf)[0]


def test_upi_link_round_trips_through_a_url_parser() -> None:
    link = upi_link(
        vpa="society.rwa@upi",
        payee_name="A & B Society",
        amount=Decimal("1234.5"),
        note="Bill 50% due=now",
        reference="FM/2526/000009",
    )
    assert " " not in link
    assert "+" not in link  # spaces are %20, never "+"
    parts = urlsplit(link)
    assert (parts.scheme, parts.netloc) == ("upi", "pay")
    assert parse_qs(parts.query) == {
        "pa": ["society.rwa@upi"],
        "pn": ["A & B Society"],
        "am": ["1234.50"],
        "cu": ["INR"],
        "tn": ["Bill 50% due=now"],
        "tr": ["FM/2526/000009"],
    }


@pytest.mark.parametrize("amount", [3711.0, 3711, Decimal("0"), Decimal("-1.00"), Decimal("1.005"), Decimal("NaN")])
def test_upi_link_refuses_bad_amounts(amount: Any) -> None:
    with pytest.raises(ValueError, match="amount"):
        upi_link(vpa="a@b", payee_name="X", amount=amount, note="n", reference="R1")


def test_qr_image_is_the_symbol_of_the_printed_link(demo_pdf: bytes) -> None:
    qr = upi_qr(DEMO_LINK)
    # Regenerating from the link gives the same symbol (version and error level) as the one embedded.
    assert upi_qr(DEMO_LINK).designator == qr.designator
    assert qr.designator.endswith("-M")
    page = PdfReader(io.BytesIO(demo_pdf)).pages[0]
    images = [image.image for image in page.images]
    assert len(images) == 2  # the logo and the QR
    modules = qr.symbol_size(scale=1, border=QR_BORDER)[0]
    side = modules * QR_SCALE
    qr_images = [image for image in images if image is not None and image.size == (side, side)]
    assert len(qr_images) == 1, [image.size for image in images if image is not None]
    gray = qr_images[0].convert("L")
    # Sample the centre of every module (quiet zone included) and compare with segno's matrix (1 = dark).
    for row, bits in enumerate(qr.matrix_iter(scale=1, border=QR_BORDER)):
        for col, dark in enumerate(bits):
            pixel = gray.getpixel((col * QR_SCALE + QR_SCALE // 2, row * QR_SCALE + QR_SCALE // 2))
            assert isinstance(pixel, int)
            assert (pixel < 128) == bool(dark), (row, col)


def test_embedded_font_has_the_rupee_sign(demo_pdf: bytes) -> None:
    for name in ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf"):
        assert 0x20B9 in TTFont(ASSETS / "fonts" / name).getBestCmap(), name
    assert (ASSETS / "fonts" / "LICENSE-DejaVu.txt").is_file()
    resources = PdfReader(io.BytesIO(demo_pdf)).pages[0]["/Resources"]
    assert isinstance(resources, DictionaryObject)
    fonts = resources["/Font"].get_object()
    assert isinstance(fonts, DictionaryObject)
    base_fonts = {str(font.get_object()["/BaseFont"]) for font in fonts.values()}
    assert base_fonts
    assert all("DejaVuSans" in name for name in base_fonts), base_fonts


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        (Decimal("123456.5"), "₹1,23,456.50"),
        (Decimal("3711"), "₹3,711.00"),
        (Decimal("12345678.9"), "₹1,23,45,678.90"),
        (Decimal("-0.44"), "-₹0.44"),
    ],
)
def test_indian_grouping(amount: Decimal, text: str) -> None:
    assert format_inr(amount) == text


def test_equal_amounts_written_apart_format_as_themselves() -> None:
    # Formatted amounts are remembered (a bill run tells thousands of consumers a few amounts): by value and sign.
    assert [format_inr(Decimal(text)) for text in ("-0.00", "0.00", "100.5", "100.50", "1E+2")] == [
        "-₹0.00",
        "₹0.00",
        "₹100.50",
        "₹100.50",
        "₹100.00",
    ]


def test_rates_keep_their_precision() -> None:
    assert format_rate(Decimal("12")) == "₹12.00"
    assert format_rate(Decimal("0.345")) == "₹0.345"


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        (Decimal("3711.00"), DEMO_WORDS),
        (Decimal("0"), "Rupees Zero Only"),
        (
            Decimal("123456.50"),
            "Rupees One Lakh Twenty-Three Thousand Four Hundred And Fifty-Six And Fifty Paise Only",
        ),
        (Decimal("10000000"), "Rupees One Crore Only"),
    ],
)
def test_amount_in_words(amount: Decimal, words: str) -> None:
    assert amount_in_words(amount) == words


@pytest.mark.parametrize("amount", [3711.0, Decimal("-1"), Decimal("1.001")])
def test_amount_in_words_refuses(amount: Any) -> None:
    with pytest.raises(ValueError, match="amount"):
        amount_in_words(amount)


def test_block_pdf_has_one_page_per_bill_in_order() -> None:
    numbers = ["FM/2526/000001", "FM/2526/000002", "FM/2526/000003"]
    invoices = [demo_invoice(bill_number=number, unit_code=f"5BHK-B{17 + i}-FF") for i, number in enumerate(numbers)]
    pages = pdf_text(render_block(invoices, assets_dir=ASSETS))
    assert len(pages) == 3
    for i, text in enumerate(pages):
        assert numbers[i] in text
        assert f"5BHK-B{17 + i}-FF" in text
        assert not any(other in text for other in numbers if other != numbers[i])


def test_block_needs_bills() -> None:
    with pytest.raises(ValueError, match="at least one"):
        render_block([], assets_dir=ASSETS)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"bill_number": "fm/2526/000001"}, "bill_number"),
        ({"bill_number": "FM/2526/0000000001"}, "bill_number"),  # 18 characters
        ({"bill_number": "FM 2526 1"}, "bill_number"),
        ({"bill_number": ""}, "bill_number"),
        ({"payable": 3711.0}, "payable must be a Decimal"),
        ({"payable": 3711}, "payable must be a Decimal"),
        ({"round_off": Decimal("0.445")}, "round_off must be whole paise"),
        ({"units": 77.0}, "units must be a Decimal"),
        ({"payable": Decimal("3712.00")}, "payable 3712.00 is not total"),
        ({"total": Decimal("3710.00"), "round_off": Decimal("1.00")}, "not the sum of the lines"),
        ({"lines": [("Energy", Decimal("77"), Decimal("12"), 924.0)]}, "line 1 amount must be a Decimal"),
        ({"lines": [("Energy", 77.0, Decimal("12"), Decimal("924.00"))]}, "line 1 quantity must be a Decimal"),
        ({"lines": []}, "lines must hold"),
        ({"due_date": date(2025, 11, 30)}, "due_date"),
        ({"period_to": date(2025, 10, 31)}, "period_to"),
        ({"bill_date": datetime(2025, 12, 1, 10, 0)}, "bill_date must be a datetime.date"),
        ({"upi_vpa": "not a vpa"}, "upi_vpa"),
        ({"consumer_name": " "}, "consumer_name"),
        ({"society_address": "a\nb\nc\nd"}, "at most 3 lines"),
    ],
)
def test_bad_data_is_refused_with_the_field_named(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(InvoiceDataError, match=re.escape(message)):
        demo_invoice(**changes)


def test_too_many_lines_are_refused() -> None:
    line = InvoiceLine("Levy", Decimal("1"), None, Decimal("1.00"))
    count = MAX_LINES + 1
    with pytest.raises(InvoiceDataError, match="lines must hold"):
        demo_invoice(lines=[line] * count, total=Decimal(count), round_off=Decimal("0.00"), payable=Decimal(count))


def test_lines_are_kept_as_a_tuple() -> None:
    data = demo_invoice()
    assert isinstance(data.lines, tuple)
    assert hash(data) == hash(demo_invoice())


def test_arrears_are_added_to_the_amount_due_and_the_qr() -> None:
    data = demo_invoice(arrears=Decimal("1200.50"), status="overdue")
    text = pdf_text(render_invoice(data, assets_dir=ASSETS))[0]
    assert "₹3,711.00" in text
    assert "₹1,200.50" in text
    assert "₹4,911.50" in text
    assert "Rupees Four Thousand Nine Hundred And Eleven And Fifty Paise Only" in text
    assert "am=4911.50" in text
    assert "Overdue" in text


def test_a_credit_prints_no_qr() -> None:
    data = demo_invoice(arrears=Decimal("-5000.00"))
    pdf = render_invoice(data, assets_dir=ASSETS)
    text = pdf_text(pdf)[0]
    assert "Nothing to pay" in text
    assert "upi://" not in text
    assert len(PdfReader(io.BytesIO(pdf)).pages[0].images) == 1  # the logo only


def test_a_draft_says_so() -> None:
    assert "DRAFT" in pdf_text(render_invoice(demo_invoice(status="draft"), assets_dir=ASSETS))[0]


def test_the_largest_valid_bill_still_fits_one_page() -> None:
    # Wide glyphs at every length limit: the layout shrinks or wraps text, it never spills onto a second page.
    lines = [InvoiceLine("W" * 60, Decimal("123456.789"), Decimal("12.3456"), Decimal("99999.99"))] * MAX_LINES
    total = sum((line.amount for line in lines), Decimal("0.00"))
    data = demo_invoice(
        lines=lines,
        total=total,
        round_off=Decimal("0.08"),
        payable=total + Decimal("0.08"),
        arrears=Decimal("-12345.67"),
        status="draft",
        society_name="W" * 50,
        society_address="\n".join(["W" * 59] * 3),  # 179 of 180 characters
        consumer_name="W" * 50,
        payee_name="W" * 50,
        upi_vpa="w" * 40 + "@" + "w" * 20,
        bill_number="ABCDEFGHIJKLMNOP",
        unit_code="W" * 20,
        meter_number="W" * 20,
    )
    assert len(PdfReader(io.BytesIO(render_invoice(data, assets_dir=ASSETS))).pages) == 1


def test_rendering_is_deterministic(demo_pdf: bytes) -> None:
    assert render_invoice(demo_invoice(), assets_dir=ASSETS) == demo_pdf


def test_missing_assets_are_named(tmp_path: Path) -> None:
    with pytest.raises(InvoiceAssetsError, match=r"logo\.png"):
        render_invoice(demo_invoice(), assets_dir=tmp_path)


# Read dates and the usage chart (the bill a consumer can read).
SIX_MONTHS = (
    UsageMonth("2025-06", Decimal("120")),
    UsageMonth("2025-07", None),
    UsageMonth("2025-08", Decimal("95.5")),
    UsageMonth("2025-09", Decimal("0")),
    UsageMonth("2025-10", Decimal("1234.5")),
    UsageMonth("2025-11", Decimal("77")),
)


def _chart(text: str) -> list[str]:
    return text.split("Units billed, last six months\n", 1)[1].splitlines()[:12]


def test_read_dates_and_six_months_are_printed() -> None:
    data = demo_invoice(previous_read_on=date(2025, 10, 20), current_read_on=date(2025, 11, 19), history=SIX_MONTHS)
    [text] = pdf_text(render_invoice(data, assets_dir=ASSETS))
    assert "Meter read 20 Oct 2025 to 19 Nov 2025" in text
    assert _chart(text) == [
        "120",
        "Jun 2025",
        "no bill",
        "Jul 2025",
        "95.5",
        "Aug 2025",
        "0",
        "Sept 2025",
        "1,234.5",  # Indian grouping, every decimal kept, like the readings
        "Oct 2025",
        "77",
        "Nov 2025",
    ]


def test_an_estimated_bill_says_its_month_was_not_read() -> None:
    data = demo_invoice(previous_read_on=date(2025, 10, 20), estimated=True)
    [text] = pdf_text(render_invoice(data, assets_dir=ASSETS))
    assert "Meter read 20 Oct 2025; Nov 2025 estimated" in text


def test_a_replacement_bill_names_the_day_the_meter_was_changed() -> None:
    data = demo_invoice(
        previous_read_on=date(2025, 10, 20), current_read_on=date(2025, 11, 19), replaced_on=date(2025, 11, 10)
    )
    [text] = pdf_text(render_invoice(data, assets_dir=ASSETS))
    assert "Replaced on 10 Nov 2025" in text
    assert "Meter read 20 Oct 2025 to 19 Nov 2025" in text


def test_a_unit_without_earlier_bills_has_its_own_month_only() -> None:
    months = (*(UsageMonth(f"2025-{m:02d}", None) for m in range(6, 11)), UsageMonth("2025-11", Decimal("77")))
    [text] = pdf_text(render_invoice(demo_invoice(history=months), assets_dir=ASSETS))
    chart = _chart(text)
    assert chart[0::2] == ["no bill"] * 5 + ["77"]
    assert chart[1::2] == ["Jun 2025", "Jul 2025", "Aug 2025", "Sept 2025", "Oct 2025", "Nov 2025"]


def test_no_history_draws_no_chart(demo_pdf: bytes) -> None:
    assert "Units billed" not in pdf_text(demo_pdf)[0]


def test_a_long_bill_keeps_the_months_on_one_line_or_leaves_them_out() -> None:
    # Six lines that wrap leave room for one line of figures only; eight leave none: the bill's own figures and
    # the payment block come first, the chart only repeats earlier bills.
    for wrapped, expect_row in ((6, True), (MAX_LINES, False)):
        lines = [InvoiceLine("W" * 60, Decimal("1"), Decimal("1"), Decimal("1.00"))] * wrapped
        total = sum((line.amount for line in lines), Decimal("0.00"))
        data = demo_invoice(lines=lines, total=total, round_off=Decimal("0.00"), payable=total, history=SIX_MONTHS)
        [text] = pdf_text(render_invoice(data, assets_dir=ASSETS))
        assert ("Jun 2025: 120" in text) is expect_row, text
        assert ("Units billed, last six months" in text) is expect_row


def test_the_largest_bill_with_its_history_still_fits_one_page() -> None:
    lines = [InvoiceLine("W" * 60, Decimal("123456.789"), Decimal("12.3456"), Decimal("99999.99"))] * MAX_LINES
    total = sum((line.amount for line in lines), Decimal("0.00"))
    data = demo_invoice(
        lines=lines,
        total=total,
        round_off=Decimal("0.08"),
        payable=total + Decimal("0.08"),
        arrears=Decimal("12345.67"),
        consumer_name="W" * 50,
        meter_number="W" * 20,
        previous_read_on=date(2025, 10, 20),
        estimated=True,
        replaced_on=date(2025, 11, 10),
        history=tuple(UsageMonth(m.period, Decimal("123456.789")) for m in SIX_MONTHS),
    )
    assert len(PdfReader(io.BytesIO(render_invoice(data, assets_dir=ASSETS))).pages) == 1


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"estimated": True, "current_read_on": date(2025, 11, 19)}, "estimated bill has no current read date"),
        ({"previous_read_on": datetime(2025, 10, 20, 10, 0)}, "previous_read_on must be a datetime.date"),
        ({"history": SIX_MONTHS[::-1]}, "oldest month first"),
        ({"history": SIX_MONTHS[:-1]}, "must end with the bill's month 2025-11"),
        ({"history": (*SIX_MONTHS[:1], *SIX_MONTHS)}, "at most 6 months"),
        ({"history": (("2025-11", 77),)}, "units must be a Decimal"),  # an int might be paise or units
        ({"history": (UsageMonth("2025-13", Decimal(1)),)}, "must be YYYY-MM"),
    ],
)
def test_bad_read_dates_or_history_are_refused(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(InvoiceDataError, match=re.escape(message)):
        demo_invoice(**changes)


def test_a_bills_days_are_the_societys() -> None:
    late_evening = datetime(2025, 11, 19, 19, 0, tzinfo=UTC)  # 00:30 on the 20th in Kolkata
    assert local_day(late_evening, ZoneInfo("Asia/Kolkata")) == date(2025, 11, 20)
    assert local_day(late_evening, UTC) == date(2025, 11, 19)
    with pytest.raises(ValueError, match="time-zone-aware"):
        local_day(datetime(2025, 11, 19, 19, 0), UTC)


def test_the_tallest_bars_figure_stays_clear_of_the_charts_title() -> None:
    # Where each text starts, in points from the page's foot (pypdf's text matrix): the figure over the tallest
    # bar (October's) must sit wholly under the title's line, and every month's label on one baseline.
    starts: dict[str, tuple[float, float]] = {}

    def visit(text: str, _cm: Any, tm: Any, _font: Any, size: float) -> None:
        starts.setdefault(text.strip(), (float(tm[5]), float(size)))

    pdf = render_invoice(demo_invoice(history=SIX_MONTHS), assets_dir=ASSETS)
    PdfReader(io.BytesIO(pdf)).pages[0].extract_text(visitor_text=visit)
    title_y, _ = starts["Units billed, last six months"]
    tallest_y, tallest_size = starts["1,234.5"]
    assert tallest_y + tallest_size < title_y - 2
    assert len({starts[label][0] for label in ("Jun 2025", "Jul 2025", "Aug 2025", "Oct 2025", "Nov 2025")}) == 1
