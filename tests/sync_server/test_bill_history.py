"""A bill the consumer can read: its read dates and six months of billed units, on the PDF and in the bill's API
detail, from one query (sync_server.billing.documents.usage_history), on SQLite and PostgreSQL.

The walk-through's flat 5BHK-B17-FF is billed for November 2025 (77 units) after earlier bills written here:
June 120 units, August 95.5 (two slab lines), September a draft only, October 140; July none. Instants are pinned
in UTC just after midnight in Kolkata, so a read date printed from the UTC day instead of the society's would show.
"""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlmodel import Session, col, select

from sync_server.billing.documents import invoice_for
from sync_server.clock import FixedClock
from sync_server.invoices import format_quantity
from sync_server.models import Bill, BillStatus, Meter, Reading, ReadingStatus, TariffRecord, Unit, User
from tests.sync_server.factories import NOW, auth, finished_run, jpeg_bytes, meters_by_unit, push, reading, sha256
from tests.sync_server.test_bill_runs import PERIOD, _block_b, _run
from tests.sync_server.test_estimated_bills import FLAT as ESTIMATED_FLAT
from tests.sync_server.test_estimated_bills import _flat_with_history, _run_and_issue
from tests.sync_server.test_replacement import REPLACED_ON, _push, _replace
from tests.sync_server.test_replacement import UNIT as REPLACED_UNIT

FLAT = "5BHK-B17-FF"
NEIGHBOUR = "4BHK-B5-GF"
# 20 Oct 2025 01:45 and 20 Nov 2025 00:30 in Kolkata: still the 19th in UTC.
PREVIOUS_AT = datetime(2025, 10, 19, 20, 15, tzinfo=UTC)
CURRENT_AT = datetime(2025, 11, 19, 19, 0, tzinfo=UTC)
EXPECTED_HISTORY = [
    ("2025-06", Decimal("120")),
    ("2025-07", None),
    ("2025-08", Decimal("95.5")),
    ("2025-09", None),  # a draft: it may still change, so it is not on the chart
    ("2025-10", Decimal("140")),
    ("2025-11", Decimal("77")),
]


def _energy(*quantities: str) -> list[dict[str, Any]]:
    return [
        {"code": "energy", "description": f"Energy, slab {n}", "quantity": q, "rate": "10", "amount": "0.00"}
        for n, q in enumerate(quantities, start=1)
    ] + [{"code": "fixed", "description": "Fixed charge", "quantity": "1", "rate": "1", "amount": "0.00"}]


def _earlier_bill(session: Session, unit: Unit, period: str, lines: list[dict[str, Any]], number: str | None) -> Bill:
    admin = session.exec(select(User).where(User.username == "admin")).one()
    tariff = session.exec(select(TariffRecord)).first()
    assert tariff is not None
    moment = datetime.fromisoformat(f"{period}-28T06:00:00+00:00")
    return Bill(
        bill_number=number,
        status=BillStatus.ISSUED if number is not None else BillStatus.DRAFT,
        issued_at=moment if number is not None else None,
        unit_id=unit.id or 0,
        period=period,
        tariff_id=tariff.id or 0,
        lines=lines,
        trace=[],
        total=Decimal("0.00"),
        round_off=Decimal("0.00"),
        payable=Decimal("0.00"),
        created_at=moment,
        created_by_id=admin.id or 0,
    )


def _history_written(app: FastAPI) -> None:
    """Earlier bills of the flat (and one of a neighbour's, and one too old to show), and the flat's October read
    moved to an instant whose UTC day is not Kolkata's."""
    with Session(app.state.context.engine) as session:
        units = {u.code: u for u in session.exec(select(Unit).where(col(Unit.code).in_([FLAT, NEIGHBOUR]))).all()}
        flat = units[FLAT]
        session.add_all(
            [
                _earlier_bill(session, flat, "2025-04", _energy("999"), "T/0001"),  # seven months back: not shown
                _earlier_bill(session, flat, "2025-06", _energy("120"), "T/0002"),
                _earlier_bill(session, flat, "2025-08", _energy("60", "35.5"), "T/0003"),
                _earlier_bill(session, flat, "2025-09", _energy("500"), None),
                _earlier_bill(session, flat, "2025-10", _energy("140"), "T/0004"),
                _earlier_bill(session, units[NEIGHBOUR], "2025-07", _energy("321"), "T/0005"),
            ]
        )
        meter = session.exec(select(Meter).where(Meter.unit_id == flat.id)).one()
        october = session.exec(
            select(Reading).where(Reading.meter_id == meter.id, Reading.status == ReadingStatus.APPROVED)
        ).one()
        october.captured_at = PREVIOUS_AT
        session.add(october)
        session.commit()


def _november_bill(client: TestClient) -> dict[str, Any]:
    """engineer1 reads the flat at previous + 77 just after local midnight; approved, billed and issued."""
    engineer = auth(client, "engineer1")
    meter = meters_by_unit(client, engineer)[FLAT]
    photo = jpeg_bytes()
    item = reading(
        meter,
        value=str(int(meter["previous"]["value"]) + 77),
        photo_sha256=sha256(photo),
        captured_at=CURRENT_AT.isoformat(),
    )
    push(client, engineer, [item])
    client.put(f"/api/photos/{sha256(photo)}", content=photo, headers=engineer | {"Content-Type": "image/jpeg"})
    assert client.post(f"/api/review/readings/{item['uuid']}/approve", headers=auth(client, "supervisor")).is_success
    admin = auth(client, "admin")
    run = _run(client, admin, _block_b(client, admin))
    issued = client.post(f"/api/billing/runs/{run['id']}/issue", headers=admin).json()
    return dict(next(b for b in issued if b["unit_code"] == FLAT))


def _pdf_text(client: TestClient, bill_id: int) -> str:
    link = client.post(f"/api/bills/{bill_id}/pdf-link", headers=auth(client, "accountant")).json()["url"]
    response = client.get(link)
    assert response.status_code == 200, response.text
    [page] = PdfReader(io.BytesIO(response.content)).pages
    return page.extract_text()


def _as_pairs(history: list[dict[str, Any]]) -> list[tuple[str, Decimal | None]]:
    return [(m["period"], None if m["units"] is None else Decimal(str(m["units"]))) for m in history]


def test_the_bill_detail_carries_six_months_of_billed_units(demo_app: FastAPI, client: TestClient) -> None:
    _history_written(demo_app)
    bill = _november_bill(client)
    accountant = auth(client, "accountant")

    detail = client.get(f"/api/bills/{bill['id']}", headers=accountant)
    assert detail.status_code == 200, detail.text
    assert _as_pairs(detail.json()["history"]) == EXPECTED_HISTORY

    # A list stays one query per page: its bills have no history.
    listed = client.get(f"/api/bills?period=2025-11&q={FLAT}", headers=accountant).json()["items"]
    assert [b["history"] for b in listed] == [None]
    # Same authorization as the bill: an engineer may not read it.
    assert client.get(f"/api/bills/{bill['id']}", headers=auth(client, "engineer1")).status_code == 403


def test_the_pdf_shows_the_read_dates_and_the_months_units(demo_app: FastAPI, client: TestClient) -> None:
    _history_written(demo_app)
    bill = _november_bill(client)
    text = _pdf_text(client, bill["id"])

    # The society's calendar days of October's and November's reads, beside the billing period.
    assert "Period 1 Nov 2025 to 30 Nov 2025" in text
    assert "Meter read 20 Oct 2025 to 20 Nov 2025" in text
    # Units consumed is the sum of the energy lines: 77 on one line here.
    assert re.search(r"Units consumed\n\S+ [\d,]+ [\d,]+ 77\n", text), text

    chart = text.split("Units billed, last six months\n", 1)[1]
    figures = chart.splitlines()[:12]
    assert figures == [
        "120",
        "Jun 2025",
        "no bill",
        "Jul 2025",
        "95.5",
        "Aug 2025",
        "no bill",
        "Sept 2025",  # CLDR en_IN, like every date on the bill
        "140",
        "Oct 2025",
        "77",
        "Nov 2025",
    ]
    assert "999" not in chart  # April is seven months back


def test_an_estimated_bill_prints_its_last_read_and_charts_the_estimate(
    demo_app: FastAPI, client: TestClient, clock: FixedClock
) -> None:
    """4BHK-B5-GF, unread in November 2025, is billed on an estimate of 120 units (tests/sync_server/
    test_estimated_bills.py): the PDF names the last read's day and the month as estimated."""
    with Session(demo_app.state.context.engine, expire_on_commit=False) as session:
        _meter, october = _flat_with_history(session)
        october.captured_at = PREVIOUS_AT
        session.add(october)
        session.commit()
        november = _run_and_issue(session, demo_app, clock, "2025-11")
        [estimated] = [b for b in november if b.unit_id == _unit_id(session, ESTIMATED_FLAT)]
        data = invoice_for(session, estimated, demo_app.state.context.settings)
    assert (data.estimated, data.previous_read_on, data.current_read_on) == (True, date(2025, 10, 20), None)
    assert data.history[-1] == ("2025-11", Decimal("120"))
    text = _pdf_text(client, estimated.id or 0)
    assert "Meter read 20 Oct 2025; Nov 2025 estimated" in text
    assert text.split("Units billed, last six months\n", 1)[1].splitlines()[10:12] == ["120", "Nov 2025"]


def _unit_id(session: Session, code: str) -> int:
    return session.exec(select(Unit).where(Unit.code == code)).one().id or 0


def _issued_in_block_b(client: TestClient, unit_code: str) -> dict[str, Any]:
    admin = auth(client, "admin")
    started = client.post(
        "/api/billing/runs", json={"block_id": _block_b(client, admin), "period": PERIOD}, headers=admin
    )
    assert started.status_code == 202, started.text
    run = finished_run(client, admin, started.json()["id"])
    issued = client.post(f"/api/billing/runs/{run['id']}/issue", headers=admin)
    assert issued.status_code == 200, issued.text
    return dict(next(b for b in issued.json() if b["unit_code"] == unit_code))


def test_a_replacement_bill_names_the_day_and_measures_from_the_old_meter(client: TestClient) -> None:
    """2BHK-B1-GF's meter is replaced this month (tests/sync_server/test_replacement.py): the PDF prints the
    replacement's day, and the previous reading is the old meter's the bill measured from, with its day."""
    engineer = auth(client, "engineer1")
    old = meters_by_unit(client, engineer)[REPLACED_UNIT]
    previous = old["previous"]["value"]
    recorded = _replace(client, old["meter_id"], old_final=str(int(previous) + 120), new_initial="10")
    assert recorded.status_code == 201, recorded.text
    pulled = meters_by_unit(client, engineer)[REPLACED_UNIT]
    read = reading(pulled, value="85", captured_at=CURRENT_AT.isoformat())
    assert _push(client, engineer, read, NOW)["outcome"] == "stored"
    assert client.post(f"/api/review/readings/{read['uuid']}/approve", headers=auth(client, "supervisor")).is_success
    bill = _issued_in_block_b(client, REPLACED_UNIT)

    text = _pdf_text(client, bill["id"])
    assert REPLACED_ON == "2025-11-10"
    assert "Replaced on 10 Nov 2025" in text
    assert re.search(r"Meter read \d{1,2} \w+ 2025 to 20 Nov 2025", text), text
    # Previous reading (the old meter's), current (the new meter's), units: (old final − previous) + (85 − 10).
    assert re.search(rf"\S+ {_grouped(previous)} 85 195\n", text), text


def _grouped(value: str) -> str:
    return format_quantity(Decimal(value))  # the invoice's own grouping: 12,345
