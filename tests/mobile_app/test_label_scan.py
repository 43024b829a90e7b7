"""A meter label's QR code, generated with segno, read back off a photo by OpenCV: it confirms the meter or names
another."""

from __future__ import annotations

import io

import pytest
import segno
from PIL import Image

from mobile_app.label_scan import LabelVerdict, label_verdict, scan_label
from tests.support.meter_photos import as_jpeg, meter_face


def _label_photo(text: str, *, turned: bool = False) -> bytes:
    """A meter face with a printed label beside the register: a QR code of ``text``."""
    code = io.BytesIO()
    segno.make(text, error="m", micro=False).save(code, kind="png", scale=6, border=4)
    photo = meter_face("04521")
    photo.paste(Image.open(code).convert("RGB"), (860, 560))
    return as_jpeg(photo, turned=turned)


@pytest.mark.parametrize("turned", [False, True])
def test_a_generated_label_decodes_to_the_meter_number(turned: bool) -> None:
    assert scan_label(_label_photo("40012102", turned=turned)) == "40012102"


def test_a_photo_without_a_label_or_not_a_picture_reads_nothing() -> None:
    out = io.BytesIO()
    meter_face("04521").save(out, "JPEG")
    assert scan_label(out.getvalue()) is None
    assert scan_label(b"not a picture") is None


@pytest.mark.parametrize(
    ("scanned", "verdict"),
    [
        ("40012102", LabelVerdict.CONFIRMED),
        ("SN:40012102", LabelVerdict.CONFIRMED),
        ("https://discom.example/meters/40012102", LabelVerdict.CONFIRMED),
        ("40012103", LabelVerdict.OTHER_METER),
        ("SN:400121020", LabelVerdict.OTHER_METER),  # a longer number is another meter
        (None, LabelVerdict.NO_LABEL),
    ],
)
def test_the_label_confirms_the_selected_meter_or_warns(scanned: str | None, verdict: LabelVerdict) -> None:
    assert label_verdict(scanned, "40012102") is verdict
