"""The meter's label against the meter's number (one rule for phone and server), and what a protocol-3 reading's
evidence does to its flags: a confirming label takes the GPS verdict off the reading, a label of another meter and
an overridden photo warning are flagged (docs/review.md "Evidence")."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from mobile_app import label_scan
from shared_billing.checks import (
    ReadingFlag,
    evidence_flags,
    gps_flags,
    presence_by_label,
    presence_flags,
    reading_flags,
)
from shared_billing.labels import LabelVerdict, label_verdict

AT = datetime(2025, 11, 20, 4, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("scanned", "number", "verdict"),
    [
        ("40012102", "40012102", LabelVerdict.CONFIRMED),
        (" sn:40012102 ", "40012102", LabelVerdict.CONFIRMED),
        ("https://discom.example/meters/40012102?v=2", "40012102", LabelVerdict.CONFIRMED),
        ("40012103", "40012102", LabelVerdict.OTHER_METER),
        ("SN:400121020", "40012102", LabelVerdict.OTHER_METER),  # a longer number is another meter
        ("MTR-0042", "mtr-0042", LabelVerdict.CONFIRMED),  # case aside
        ("SN: MTR 0042 / 1P2W", "MTR-0042", LabelVerdict.CONFIRMED),  # its words in a row
        ("0042 MTR", "MTR-0042", LabelVerdict.OTHER_METER),  # not in that order
        ("MTR-0042", "MTR-00421", LabelVerdict.OTHER_METER),
        ("   ", "40012102", LabelVerdict.NO_LABEL),
        ("", "40012102", LabelVerdict.NO_LABEL),
        (None, "40012102", LabelVerdict.NO_LABEL),
    ],
)
def test_a_label_confirms_its_meter_or_names_another(scanned: str | None, number: str, verdict: LabelVerdict) -> None:
    assert label_verdict(scanned, number) is verdict


def test_the_phone_judges_a_label_by_the_same_rule() -> None:
    assert label_scan.label_verdict is label_verdict
    assert label_scan.LabelVerdict is LabelVerdict


FAR_INDOORS = {"gps_lat": 30.9, "gps_lon": 75.85, "gps_accuracy_m": 80.0, "distance_m": 400.0}


def _flags(label: LabelVerdict | None, **gps: float | None) -> list[ReadingFlag]:
    return reading_flags(
        value=Decimal(1200),
        previous_value=Decimal(1300),
        **{**FAR_INDOORS, **gps},  # type: ignore[arg-type]
        sent_at=AT,
        received_at=AT,
        label=label,
    )


def test_a_confirming_label_takes_every_gps_flag_off_the_reading_but_nothing_else() -> None:
    assert _flags(None) == [ReadingFlag.BELOW_PREVIOUS, ReadingFlag.GPS_INACCURATE, ReadingFlag.GPS_FAR]
    assert _flags(LabelVerdict.CONFIRMED) == [ReadingFlag.BELOW_PREVIOUS]
    assert _flags(LabelVerdict.CONFIRMED, gps_lat=None, gps_lon=None) == [ReadingFlag.BELOW_PREVIOUS]
    # Another meter's label, or none read, proves nothing: the fix is judged as ever.
    assert _flags(LabelVerdict.OTHER_METER) == _flags(LabelVerdict.NO_LABEL) == _flags(None)


def test_presence_is_by_the_label_only_when_it_confirms_the_meter() -> None:
    gps = gps_flags(None, None, None, None)
    assert gps == [ReadingFlag.GPS_MISSING]
    assert presence_flags(gps, LabelVerdict.CONFIRMED) == []
    assert [presence_by_label(verdict) for verdict in (*LabelVerdict, None)] == [True, False, False, False]
    assert presence_flags(gps, LabelVerdict.OTHER_METER) == gps


@pytest.mark.parametrize(
    ("label", "blurred", "reused", "flags"),
    [
        (None, False, False, []),
        (LabelVerdict.CONFIRMED, False, False, []),
        (LabelVerdict.NO_LABEL, False, False, []),
        (LabelVerdict.OTHER_METER, False, False, [ReadingFlag.LABEL_OTHER_METER]),
        (None, True, False, [ReadingFlag.PHOTO_BLURRED]),
        (
            LabelVerdict.OTHER_METER,
            True,
            True,
            [ReadingFlag.PHOTO_BLURRED, ReadingFlag.PHOTO_REUSED, ReadingFlag.LABEL_OTHER_METER],
        ),
    ],
)
def test_evidence_raises_a_flag_for_each_overridden_warning_and_another_meters_label(
    label: LabelVerdict | None, blurred: bool, reused: bool, flags: list[ReadingFlag]
) -> None:
    assert evidence_flags(label=label, photo_blurred=blurred, photo_reused=reused) == flags
