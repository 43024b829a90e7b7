"""A tariff with a recurring charge taxed on its own, imported through the API (with an editor's byte-order mark),
bills a unit through a bill run: the rent, its GST and the payable rounding reach the stored bill and the ledger."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.sync_server.factories import auth, jpeg_bytes, meters_by_unit, push, reading, sha256
from tests.sync_server.test_bill_runs import _block_b, _run

KERALA = Path(__file__).resolve().parents[2] / "assets" / "tariffs" / "kerala-style-domestic.toml"
FLAT = "5BHK-B17-FF"


def _import(client: TestClient, data: bytes) -> Any:
    headers = auth(client, "admin") | {"Content-Type": "application/toml"}
    return client.post("/api/tariffs", content=data, headers=headers)


def _billed_on(client: TestClient, rounding: str) -> dict[str, Any]:
    text = KERALA.read_text(encoding="utf-8").replace('payable_rounding = "rupee"', f'payable_rounding = "{rounding}"')
    imported = _import(client, b"\xef\xbb\xbf" + text.encode())
    assert imported.status_code == 201, imported.text
    [version] = imported.json()
    admin = auth(client, "admin")
    unit_id = next(u["id"] for u in client.get("/api/units", params={"q": FLAT}, headers=admin).json()["items"])
    body = {"unit_ids": [unit_id], "reason": "new tariff order"}
    moved = client.post(f"/api/tariffs/{version['id']}/units", json=body, headers=admin)
    assert moved.status_code == 200, moved.text
    engineer = auth(client, "engineer1")
    meter = meters_by_unit(client, engineer)[FLAT]
    photo = jpeg_bytes()
    item = reading(meter, value=str(int(meter["previous"]["value"]) + 120), photo_sha256=sha256(photo))
    push(client, engineer, [item])
    client.put(f"/api/photos/{sha256(photo)}", content=photo, headers=engineer | {"Content-Type": "image/jpeg"})
    assert client.post(f"/api/review/readings/{item['uuid']}/approve", headers=auth(client, "supervisor")).is_success
    run = _run(client, admin, _block_b(client, admin))
    issued = client.post(f"/api/billing/runs/{run['id']}/issue", headers=admin).json()
    return dict(next(b for b in issued if b["unit_code"] == FLAT))


@pytest.mark.parametrize("rounding", ["rupee", "none"])
def test_a_meter_rent_and_its_gst_reach_the_bill_and_the_ledger(client: TestClient, rounding: str) -> None:
    bill = _billed_on(client, rounding)
    lines = {line["code"]: line for line in bill["lines"]}
    assert (lines["charge:meter_rent"]["amount"], lines["levy:meter_rent_gst"]["amount"]) == ("6.00", "1.08")
    energy = sum(
        (Decimal(line["amount"]) for line in bill["lines"] if line["code"] in ("energy", "shared_meter")), Decimal(0)
    )
    assert Decimal(lines["levy:duty"]["amount"]) == (energy / 10).quantize(Decimal("0.01"))
    total = Decimal(bill["total"])
    if rounding == "none":
        assert "round_off" not in lines
        assert Decimal(bill["payable"]) == total  # billed to the paisa
    else:
        assert Decimal(bill["payable"]) == total.quantize(Decimal(1), rounding="ROUND_HALF_UP")
        assert Decimal(lines["round_off"]["amount"]) == Decimal(bill["payable"]) - total
    ledger = client.get(f"/api/accounts/{bill['unit_id']}/ledger", headers=auth(client, "accountant")).json()
    charged = [entry for entry in ledger["entries"] if entry.get("bill_id") == bill["id"]]
    assert [Decimal(entry["amount"]) for entry in charged] == [Decimal(bill["charges"])]


def test_a_tariff_file_that_is_not_utf8_is_refused_with_its_line(client: TestClient) -> None:
    data = KERALA.read_bytes().replace(b'name = "Kerala-style', 'name = "Kerala\xe9style'.encode("latin-1"), 1)
    refused = _import(client, data)
    assert refused.status_code == 422, refused.text
    body = refused.json()
    assert (body["details"]["problem"], body["details"]["line"]) == ("not_utf8", "10")
