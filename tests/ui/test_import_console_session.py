"""The admin's Import screen, headless against the real server in-process: a master-data file chosen with the file
picker (answered with scripted bytes), uploaded, its progress bar run to the end, and the counts, quarantined rows
and warnings the server's report holds shown on screen."""

from __future__ import annotations

from typing import Any

import httpx

from mobile_app.console.app import console_main
from tests.support.flet_driver import FletDriver, picked_file_result, run_app
from tests.support.society_file import Quirks, build_society
from tests.ui.ui_fixtures import Server, sign_in, value_of, wait_key

TIMEOUT = 60.0


def test_admin_imports_master_data_and_sees_the_report(server: Server) -> None:
    admin = server.headers("admin")
    society = build_society(seed=3, quirks=Quirks(duplicate_meters=1, malformed_line=True))

    async def scenario(driver: FletDriver) -> None:
        await sign_in(driver, "admin")
        await wait_key(driver, "section-imports")
        await driver.click("section-imports")
        await wait_key(driver, "import_pick")
        assert driver.find("import_upload").disabled
        driver.answer("pick_files", result=picked_file_result("society.jsonl", society.data), once=True)
        await driver.click("import_pick")
        await driver.wait_for_text("society.jsonl · ")
        await driver.click("import_upload")
        await driver.wait_for(
            lambda: value_of(driver, "import_progress") == 1.0, message="the bar at its end", timeout=TIMEOUT
        )
        await driver.wait_for(
            lambda: "done" in (value_of(driver, "import_status") or ""), message="done", timeout=TIMEOUT
        )

        [job] = server.http.get("/api/imports", headers=admin).json()["items"]
        assert (job["status"], job["file_name"], job["kind"], job["dry_run"]) == (
            "done",
            "society.jsonl",
            "master",
            False,
        )
        assert value_of(driver, "import_status") == f"{job['total']} of {job['total']} rows · done"
        report: dict[str, Any] = job["report"]
        assert report["counts"]["units_imported"] > 0
        for name, count in report["counts"].items():
            assert value_of(driver, f"import_count-{name}") == f"{name.replace('_', ' ')}: {count}"
        assert len(report["quarantined"]) == len(society.quarantined)
        for index, issue in enumerate(report["quarantined"]):
            shown = value_of(driver, f"quarantined-{index}")
            assert shown.startswith(f"Line {issue['line']} · ")
            assert shown.endswith(issue["reason"])
        for index, issue in enumerate(report["warnings"]):
            assert value_of(driver, f"warning-{index}").startswith(f"Line {issue['line']} · ")
        assert driver.find("import_report").visible
        assert driver.crashes() == []

    def http_factory() -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=server.app), base_url="http://t")

    run_app(console_main(http_factory), scenario, timeout=TIMEOUT)
