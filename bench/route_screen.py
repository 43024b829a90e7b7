"""The field app's route screen, a 2,000-meter route against a 17-meter one: bytes sent to the client and time.

    PYTHONPATH=. python bench/route_screen.py [--meters 17 2000] [--runs 5]

The real ``field_main`` in the headless Flet session (tests/support/flet_driver.py, patches encoded as in
production) on a phone store holding a generated full pull (bench/pull_store.make_meters). Three moments the issue
names (issue 12 "Benchmarks"), each as the median of ``--runs``: the return from the capture screen (Cancel), a
cleared search (from the keystroke to the redraw after the typing pause, the pause included), and an idle sync pass
(the service's version moves, nothing on the route changed: the app's periodic tick). Printed, not asserted; the
target is the 2,000-meter route within 2× of the 17-meter one. Before issue 12 every one of them rebuilt and resent
all rows (~410 KB, ~1 s at 2,000 meters). On the 2-CPU machine, with the tests' stand-in route (3 runs, after the
route derivation kept its base, issue 12): return from capture 19.7 / 23.1 ms (1.17×), 0.1 KB at both sizes (the
kept route is hidden, not detached); a cleared search 329 / 332 ms (1.01×; the 300 ms typing pause included), 7.0
against 12.7 KB (the first 30 rows against 17); the pass 14.3 / 17.6 ms (1.23×), 0 KB at both.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgpack
from pull_store import T0, make_meters

from mobile_app.field_app import field_main
from mobile_app.field_service import PROFILE_KEY, FieldService
from mobile_app.store import apply_pull, set_state
from mobile_app.ui.route import SEARCH_PAUSE_S, RouteView
from shared_billing.protocol import PullResponse
from tests.support.flet_driver import FletDriver, run_app

NOW = T0.replace(day=20)


def _bytes(driver: FletDriver, since: int) -> int:
    return sum(len(msgpack.packb(body, default=str)) for _action, body in driver.messages[since:])


def _route_view(driver: FletDriver) -> RouteView:
    node: Any = driver.find("route_summary")
    while not isinstance(node, RouteView):
        node = node.parent
    return node


def _service(folder: Path, meters: int) -> FieldService:
    service = FieldService(data_dir=folder, server_url="http://127.0.0.1:9", clock=lambda: NOW)
    profile = {"username": "engineer1", "role": "engineer", "user_id": 1}
    set_state(store=service.store, key=PROFILE_KEY, value=json.dumps(profile))
    pull = PullResponse(cursor=1, full=True, meters=make_meters(meters), removed_meter_ids=[], decisions=[])
    apply_pull(store=service.store, pull=pull)
    return service


def measure(meters: int, runs: int) -> dict[str, list[tuple[float, int]]]:
    results: dict[str, list[tuple[float, int]]] = {"return from capture": [], "cleared search": [], "idle sync": []}
    with tempfile.TemporaryDirectory() as tmp:
        service = _service(Path(tmp), meters)

        async def scenario(driver: FletDriver) -> None:
            view = _route_view(driver)
            app = view.open_meter.__self__  # type: ignore[attr-defined]
            meter = view.rows[0].meter
            for _ in range(runs):
                app.show_capture(meter)
                await driver.settle()
                mark, began = len(driver.messages), time.perf_counter()
                await driver.click("cancel")
                results["return from capture"].append((time.perf_counter() - began, _bytes(driver, mark)))

                await driver.type_text("search", meter.meter_number)
                await driver.wait_for(lambda: view._pending_search is None, timeout=5)
                await driver.settle()
                mark, began = len(driver.messages), time.perf_counter()
                await driver.type_text("search", "")
                await driver.wait_for(lambda: view._pending_search is None, timeout=5)
                await driver.settle()
                results["cleared search"].append((time.perf_counter() - began, _bytes(driver, mark)))

                service._changed()  # a pass that changed something elsewhere (an idle pass no longer moves the version)
                mark, began = len(driver.messages), time.perf_counter()
                if view.tick():
                    view.update()
                await driver.settle()
                results["idle sync"].append((time.perf_counter() - began, _bytes(driver, mark)))

        run_app(field_main(service), scenario, timeout=600)
        service.store.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--meters", type=int, nargs="+", default=[17, 2000])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print(
        f"route screen, headless session; search pause {SEARCH_PAUSE_S * 1000:.0f} ms included; {datetime.now(UTC):%F}"
    )
    table = {count: measure(count, args.runs) for count in args.meters}
    for moment in ("return from capture", "cleared search", "idle sync"):
        for count, results in table.items():
            samples = results[moment]
            seconds = statistics.median(s for s, _ in samples)
            sent = statistics.median(b for _, b in samples)
            print(f"{moment:>20} · {count:>5} meters: {seconds * 1000:7.1f} ms median, {sent / 1024:8.1f} KB sent")
        if len(table) > 1:
            small, large = (statistics.median(s for s, _ in table[count][moment]) for count in (min(table), max(table)))
            print(f"{moment:>20} · ratio {max(table)}/{min(table)} meters: {large / small:.2f}× (target ≤ 2×)")


if __name__ == "__main__":
    main()
