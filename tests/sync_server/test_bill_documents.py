"""Invoices over the API: a signed link opens the bill's PDF; its text holds the number, the ₹ total and UPI link."""

from __future__ import annotations

import io
from datetime import timedelta

from fastapi.testclient import TestClient
from pypdf import PdfReader

from sync_server.clock import FixedClock
from tests.sync_server.factories import auth
from tests.sync_server.test_bill_runs import _block_b, _issued_block_b


def _pdf_text(data: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]


def test_bill_pdf_link_opens_the_invoice(client: TestClient) -> None:
    walk = next(b for b in _issued_block_b(client) if b["unit_code"] == "5BHK-B17-FF")
    accountant = auth(client, "accountant")
    link = client.post(f"/api/bills/{walk['id']}/pdf-link", headers=accountant)
    assert link.status_code == 200
    response = client.get(link.json()["url"])  # no bearer header: the link is the authorization
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    [text] = _pdf_text(response.content)
    assert walk["bill_number"] in text
    assert "₹3,711.00" in text
    assert "upi://pay?" in text
    assert "Three Thousand Seven Hundred" in text


def test_block_pdf_has_a_page_per_issued_bill(client: TestClient) -> None:
    bills = _issued_block_b(client)
    admin = auth(client, "admin")
    period = bills[0]["period"]
    link = client.post(
        "/api/billing/block-pdf-link", json={"block_id": _block_b(client, admin), "period": period}, headers=admin
    )
    pages = _pdf_text(client.get(link.json()["url"]).content)
    assert len(pages) == len(bills) == 4
    assert [next(b["bill_number"] for b in bills if b["bill_number"] in page) for page in pages] == sorted(
        (b["bill_number"] for b in bills), key=lambda n: next(b["unit_code"] for b in bills if b["bill_number"] == n)
    )


def test_expired_or_forged_download_link_is_refused(client: TestClient, clock: FixedClock) -> None:
    walk = _issued_block_b(client)[0]
    link = client.post(f"/api/bills/{walk['id']}/pdf-link", headers=auth(client, "admin")).json()["url"]
    assert client.get(link + "x").status_code == 404
    clock.advance(timedelta(minutes=11))
    expired = client.get(link)
    assert (expired.status_code, expired.json()["code"]) == (404, "download.invalid")


def test_draft_has_no_pdf(client: TestClient) -> None:
    from tests.sync_server.test_bill_runs import _approve_walkthrough, _run

    _approve_walkthrough(client)
    admin = auth(client, "admin")
    _run(client, admin, _block_b(client, admin))
    draft = client.get("/api/bills?status=draft", headers=admin).json()["items"][0]
    link = client.post(f"/api/bills/{draft['id']}/pdf-link", headers=admin).json()["url"]
    response = client.get(link)
    assert (response.status_code, response.json()["code"]) == (409, "bill.not_issued")
