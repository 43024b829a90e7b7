"""Choosing the register among a recogniser's findings, and comparing it with the typed value."""

from decimal import Decimal

import pytest

from shared_billing.protocol import OcrVerdict
from shared_billing.register_ocr import Found, RegisterRead, ocr_verdict, register_read

FACE = [Found("kWh", 0.99, 40), Found("SN 40012102 1P 2W", 0.95, 30), Found("40012102", 0.99, 30)]


def test_the_register_is_the_tallest_number_on_the_face():
    read = register_read([*FACE, Found("04521", 0.97, 95)])
    assert read == RegisterRead("04521", Decimal("0.97"))


def test_equally_tall_numbers_go_to_the_most_confident_and_a_comma_is_a_point():
    read = register_read([Found("0123,5", 0.91, 90), Found("01235", 0.80, 88)])
    assert read == RegisterRead("0123.5", Decimal("0.91"))


def test_a_face_without_a_number_reads_nothing():
    assert register_read([Found("kWh", 0.99, 40), Found("SN A12", 0.9, 30)]) is None
    assert register_read([]) is None


@pytest.mark.parametrize(
    ("read", "typed", "verdict"),
    [
        ("04521", "4521", OcrVerdict.MATCH),  # leading zeros are the register's, not the value's
        ("01234.5", "1234.5", OcrVerdict.MATCH),
        ("012345", "1234.5", OcrVerdict.MATCH),  # the decimal point not seen
        ("04531", "4521", OcrVerdict.MISMATCH),
        ("1234.6", "1234.5", OcrVerdict.MISMATCH),
        ("04521", None, OcrVerdict.MISMATCH),  # a skip, and the photo shows a value
    ],
)
def test_verdicts(read: str, typed: str | None, verdict: OcrVerdict):
    assert ocr_verdict(RegisterRead(read, Decimal("0.9")), typed) is verdict


def test_nothing_read_is_unreadable():
    assert ocr_verdict(None, "4521") is OcrVerdict.UNREADABLE
