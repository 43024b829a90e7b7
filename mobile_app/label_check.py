"""What the meter's label says about the meter being read, in words for the capture screen (Flet-free).

``mobile_app.label_scan`` reads the QR code and judges it against one meter number; this says which meter of the
route the label names when it is another, so the engineer can switch to it (docs/field-app.md "The meter's label").
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from mobile_app.capture import label_text
from mobile_app.i18n import _
from mobile_app.label_scan import LabelVerdict, label_verdict
from shared_billing.protocol import MeterAssignment

__all__ = ["LabelCheck", "check_label", "label_message"]


@dataclass(frozen=True)
class LabelCheck:
    scanned: str | None  # as the reading carries it (``capture.label_text``); None: no label read
    verdict: LabelVerdict
    other: MeterAssignment | None = None  # the route's meter the label names, when not the one being read


def check_label(scanned: str | None, meter: MeterAssignment, route: Iterable[MeterAssignment]) -> LabelCheck:
    """The label read off a picture, judged against ``meter``; when it names another, that meter if on the route."""
    text = label_text(scanned)
    verdict = label_verdict(text, meter.meter_number)
    other = None
    if verdict is LabelVerdict.OTHER_METER:
        other = next(
            (
                candidate
                for candidate in route
                if candidate.meter_id != meter.meter_id
                and label_verdict(text, candidate.meter_number) is LabelVerdict.CONFIRMED
            ),
            None,
        )
    return LabelCheck(scanned=text, verdict=verdict, other=other)


def label_message(check: LabelCheck, meter: MeterAssignment) -> str:
    if check.verdict is LabelVerdict.CONFIRMED:
        return _("Label confirms meter {number}").format(number=meter.meter_number)
    if check.verdict is LabelVerdict.NO_LABEL:
        return _("No label found")
    if check.other is not None:
        return _("The label says {label}: that is meter {number} ({unit}) on your route, not this one").format(
            label=check.scanned, number=check.other.meter_number, unit=check.other.unit_code or "—"
        )
    return _("The label says {label}, not meter {number}").format(label=check.scanned, number=meter.meter_number)
