from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from tests.sync_server.factories import auth

TARIFFS = Path(__file__).resolve().parents[2] / "assets" / "tariffs"


def _upload(client: TestClient, text: str) -> object:
    return client.post(
        "/api/tariffs", content=text.encode(), headers=auth(client, "admin") | {"Content-Type": "application/toml"}
    )


def test_tariff_file_is_imported_as_data(client: TestClient) -> None:
    response = _upload(client, (TARIFFS / "tpddl-domestic-2015.toml").read_text())
    assert response.status_code == 201, response.text  # type: ignore[attr-defined]
    [stored] = response.json()  # type: ignore[attr-defined]
    assert stored["valid_from"] == "2015-04-01"
    listed = client.get("/api/tariffs", params={"q": stored["code"]}, headers=auth(client, "admin")).json()
    assert stored["code"] in {t["code"] for t in listed["items"]}
    again = _upload(client, (TARIFFS / "tpddl-domestic-2015.toml").read_text())
    assert again.status_code == 409  # type: ignore[attr-defined]


def test_bad_tariff_file_is_refused_with_the_line_and_nothing_stored(client: TestClient) -> None:
    text = (TARIFFS / "tpddl-domestic-2015.toml").read_text()
    broken = text.replace("4.00", "-4.00", 1)
    assert broken != text
    before = client.get("/api/tariffs", headers=auth(client, "admin")).json()["total"]
    response = _upload(client, broken)
    assert response.status_code == 422  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert body["code"].startswith("tariff.")
    wrong_line = next(n for n, line in enumerate(broken.splitlines(), start=1) if "-4.00" in line)
    assert str(wrong_line) in body["message"]
    assert client.get("/api/tariffs", headers=auth(client, "admin")).json()["total"] == before
    assert body["details"]["line"] == str(wrong_line)


def test_engineer_cannot_import_tariffs(client: TestClient) -> None:
    response = client.post("/api/tariffs", content=b"x", headers=auth(client, "engineer1"))
    assert response.status_code == 403
