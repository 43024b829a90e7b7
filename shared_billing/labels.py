"""Whether the text scanned off a meter's label (its QR code) names the meter the reading is for.

One rule for the phone, which warns before the save (``mobile_app/label_scan``), and the server, which judges the
label a protocol-3 reading carries (docs/review.md "Evidence"): so both reach the same verdict on the same text.

A label carries the meter number alone or inside a longer text (a utility's URL, ``SN:40012102``), so the number is
looked for as a run of whole words, case aside: ``MTR-0042`` is found in ``SN: mtr 0042`` but ``40012102`` is not
found in ``400121020`` (a longer number is another meter). Standard library only.
"""

from __future__ import annotations

import re
from enum import StrEnum

__all__ = ["LabelVerdict", "label_verdict"]

_WORDS = re.compile(r"[A-Za-z0-9]+")


class LabelVerdict(StrEnum):
    CONFIRMED = "confirmed"  # the label names the selected meter
    OTHER_METER = "other_meter"  # it names another: the engineer is warned before saving, the supervisor after
    NO_LABEL = "no_label"  # nothing could be read off the picture


def _words(text: str) -> list[str]:
    return [word.upper() for word in _WORDS.findall(text)]


def label_verdict(scanned: str | None, meter_number: str) -> LabelVerdict:
    """Whether the label read names ``meter_number``: the whole text, or its words in a row among the label's
    (``SN:40012102``, a URL ending ``/40012102``), compared without regard to case."""
    if scanned is None or not scanned.strip():
        return LabelVerdict.NO_LABEL
    if scanned.strip().upper() == meter_number.strip().upper():
        return LabelVerdict.CONFIRMED
    wanted, found = _words(meter_number), _words(scanned)
    size = len(wanted)
    # A number without a letter or digit (it never is one) confirms nothing.
    named = size > 0 and any(found[start : start + size] == wanted for start in range(len(found) - size + 1))
    return LabelVerdict.CONFIRMED if named else LabelVerdict.OTHER_METER
