"""What a review card says of a protocol-3 reading's evidence (docs/review.md "Evidence"): each overridden photo
warning with the engineer's reason, the label's word on the meter in place of the GPS distance (or in red when it
names another meter), the meter-room session. The card's own text builder, without a Flet session."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import flet as ft

from mobile_app.console.review_card import EvidenceLine, evidence_lines, fact_lines
from shared_billing.api_models import ReviewItem

UUID = "3f2a1b0c-9d8e-4f7a-8b6c-5d4e3f2a1b0c"
ROOM = "0b6c2d4e-8f10-4a2b-9c3d-5e6f7a8b9c0d"
ZONE = ZoneInfo("Asia/Kolkata")
OVERRIDDEN = {"blur_score": 42, "blurred": True, "reuse_distance": 3, "reused": True, "override_reason": "Glass fogged"}


def _item(evidence: dict[str, Any] | None = None, *, presence_by_label: bool = False) -> ReviewItem:
    at = datetime(2025, 11, 20, 4, 30, tzinfo=UTC)
    return ReviewItem.model_validate(
        {
            "uuid": UUID,
            "meter_id": 7,
            "meter_number": "40012102",
            "meter_kind": "unit",
            "unit_code": "2BHK-B1-GF",
            "block_code": "B1",
            "read_type": "actual",
            "skip_reason": None,
            "value": "4521",
            "previous_value": "4471",
            "consumption": "50",
            "captured_at": at,
            "received_at": at,
            "period": "2025-11",
            "engineer_id": 2,
            "gps_lat": 30.91,
            "gps_lon": 75.85,
            "gps_accuracy_m": 8.0,
            "distance_m": 1112.0,
            "meter_lat": 30.9,
            "meter_lon": 75.85,
            "note": None,
            "replaces": None,
            "flags": [],
            "photo_sha256": None,
            "photo_url": None,
            "photo_pending": False,
            "status": "submitted",
            "decision_reason": None,
            "evidence": evidence,
            "presence_by_label": presence_by_label,
        }
    )


def _texts(item: ReviewItem) -> dict[str, ft.Text]:
    return {
        str(line.key): line
        for line in fact_lines(item, ZONE, lambda _flag: None)
        if isinstance(line, ft.Text) and line.key is not None
    }


def test_a_reading_without_evidence_says_nothing_of_it_and_keeps_its_gps_distance() -> None:
    item = _item()
    assert evidence_lines(item) == []
    assert _texts(item)[f"read-{UUID}"].value == "Read 20 Nov 2025, 10:00 · 1112 m from the meter (±8 m)"


def test_overridden_photo_warnings_show_the_engineers_reason() -> None:
    lines = evidence_lines(_item({"photo_checks": OVERRIDDEN}))
    assert lines == [
        EvidenceLine(f"photo-blurred-{UUID}", "Photo blurred — engineer: 'Glass fogged'"),
        EvidenceLine(f"photo-reused-{UUID}", "Photo like another of this route (3 bits) — 'Glass fogged'"),
    ]
    sharp = {"blur_score": 900, "blurred": False, "reused": False, "reuse_distance": 30}
    assert evidence_lines(_item({"photo_checks": sharp})) == []  # checks that passed are not news


def test_a_confirming_label_stands_where_the_gps_distance_was() -> None:
    item = _item({"label": "SN:40012102", "label_verdict": "confirmed"}, presence_by_label=True)
    texts = _texts(item)
    assert texts[f"label-{UUID}"].value == "Label confirms meter 40012102"
    assert texts[f"label-{UUID}"].color is None
    assert texts[f"read-{UUID}"].value == "Read 20 Nov 2025, 10:00"
    keys = list(texts)
    assert keys.index(f"label-{UUID}") == keys.index(f"read-{UUID}") + 1


def test_a_label_of_another_meter_is_in_red_beside_the_gps_distance() -> None:
    item = _item({"label": "SN:40012103", "label_verdict": "other_meter"})
    texts = _texts(item)
    assert texts[f"label-{UUID}"].value == "Label names another meter: 'SN:40012103'"
    assert texts[f"label-{UUID}"].color == ft.Colors.RED_900
    assert texts[f"read-{UUID}"].value.endswith("1112 m from the meter (±8 m)")


def test_a_meter_room_session_is_named() -> None:
    assert evidence_lines(_item({"room_session": ROOM})) == [
        EvidenceLine(f"room-session-{UUID}", "Meter room session 0b6c2d4e")
    ]
