"""Proves ``tests.support.flet_driver`` against a tiny Flet app defined here (no Fieldmeter code involved)."""

from __future__ import annotations

import flet as ft
import flet_geolocator as fgl
import pytest

from tests.support.flet_driver import (
    GPS_ERRORS,
    FletDriver,
    InvokeCall,
    picked_file,
    picked_file_result,
    position_result,
    run_app,
)


class DemoState:
    """Services must stay referenced, so they live here (as they would on the real app's state object).

    Built inside ``main``: a service registers with the page that is current when it is constructed.
    """

    def __init__(self) -> None:
        self.geo = fgl.Geolocator()
        self.picker = ft.FilePicker()
        self.prefs = ft.SharedPreferences()


async def demo_app(page: ft.Page) -> None:
    state = DemoState()

    greeting = ft.Text("", key="greeting")

    async def greet() -> None:
        greeting.value = f"Hello, {name.value}"
        await state.prefs.set("last_name", name.value)

    name = ft.TextField(label="Name", key="name", value=str(await state.prefs.get("last_name") or ""), on_submit=greet)
    location = ft.Text("", key="location")
    picked = ft.Text("", key="picked")

    async def locate() -> None:
        location.value = "Locating…"
        location.update()
        try:
            pos = await state.geo.get_current_position()
        except RuntimeError:
            location.value = "Location permission denied"
            return
        location.value = f"{pos.latitude:.6f}, {pos.longitude:.6f} ±{pos.accuracy} m"

    async def pick() -> None:
        files = await state.picker.pick_files(with_data=True, file_type=ft.FilePickerFileType.IMAGE)
        picked.value = ", ".join(f"{f.name}: {len(f.bytes or b'')} bytes" for f in files) or "No file"

    async def to_second() -> None:
        await page.push_route("/second")

    def route_change(e: ft.RouteChangeEvent) -> None:
        del page.views[1:]
        if page.route == "/second":
            page.views.append(
                ft.View(route="/second", controls=[ft.Text("Second view", key="second-title")]),
            )

    async def view_pop(e: ft.ViewPopEvent) -> None:
        page.views.pop()
        await page.push_route(page.views[-1].route)

    page.on_route_change = route_change
    page.on_view_pop = view_pop
    page.add(
        name,
        ft.Button("Greet", key="greet", on_click=greet),
        greeting,
        ft.Button("Locate", key="locate", on_click=locate),
        location,
        ft.Button("Pick photo", key="pick", on_click=pick),
        picked,
        ft.Button("Second", key="to-second", on_click=to_second),
        ft.Button("Disabled", key="disabled", disabled=True),
    )


def test_typing_and_click_update_the_greeting_and_the_patch_sent_to_the_client() -> None:
    async def scenario(driver: FletDriver) -> None:
        assert driver.find("name").label == "Name"
        assert driver.find("greeting").value == ""
        await driver.type_text("name", "Ada")
        await driver.click("greet")
        assert driver.find("greeting").value == "Hello, Ada"
        assert "Hello, Ada" in driver.texts()
        # The diff really went out (needs the msgpack encoding in send_message).
        assert any("Hello, Ada" in str(p["patch"]) for p in driver.patches())
        assert driver.prefs == {"last_name": "Ada"}
        await driver.type_text("name", "Grace")
        await driver.submit("name")
        assert driver.find("greeting").value == "Hello, Grace"
        assert driver.prefs == {"last_name": "Grace"}
        assert driver.crashes() == []

    run_app(demo_app, scenario)


def test_shared_preferences_default_answers_serve_start_up() -> None:
    async def scenario(driver: FletDriver) -> None:
        assert driver.find("name").value == "Bob"
        get = driver.calls[0]
        assert (get.control_type, get.name, get.args) == ("SharedPreferences", "get", {"key": "last_name"})
        assert get.result == "Bob"
        assert [c for c in driver.calls if c.name == "set"] == []

    run_app(demo_app, scenario, prefs={"last_name": "Bob"})


def test_scripted_gps_position_is_shown() -> None:
    async def scenario(driver: FletDriver) -> None:
        driver.answer("get_current_position", result=position_result(52.520008, 13.404954, 4.5))
        await driver.click("locate")
        assert driver.find("location").value == "52.520008, 13.404954 ±4.5 m"
        call = driver.calls[-1]
        assert (call.control_type, call.name) == ("Geolocator", "get_current_position")
        assert call.args == {"configuration": None}
        assert driver.crashes() == []

    run_app(demo_app, scenario)


def test_gps_answered_while_the_call_is_pending() -> None:
    async def scenario(driver: FletDriver) -> None:
        await driver.click("locate")
        assert driver.find("location").value == "Locating…"
        [pending] = driver.pending_calls("get_current_position")
        driver.answer("get_current_position", result=position_result(1.5, -2.25, 12.0), control="Geolocator")
        await driver.settle()
        assert pending.answered
        assert driver.find("location").value == "1.500000, -2.250000 ±12.0 m"

    run_app(demo_app, scenario)


def test_permission_denied_shows_the_message() -> None:
    async def scenario(driver: FletDriver) -> None:
        driver.fail("get_current_position", error=GPS_ERRORS["permission_denied"])
        await driver.click("locate")
        assert "Location permission denied" in driver.texts()
        assert driver.crashes() == []

    run_app(demo_app, scenario)


def test_picked_file_bytes_arrive() -> None:
    photo = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 4 + b"\xff\xd9"

    async def scenario(driver: FletDriver) -> None:
        driver.answer("pick_files", result=picked_file_result("meter.jpg", photo))
        await driver.click("pick")
        assert driver.find("picked").value == f"meter.jpg: {len(photo)} bytes"
        call = driver.calls[-1]
        assert call.control_type == "FilePicker"
        assert call.args["with_data"] is True
        assert call.args["file_type"] == "image"

    run_app(demo_app, scenario)


def test_several_picked_files_and_a_cancelled_dialog() -> None:
    async def scenario(driver: FletDriver) -> None:
        driver.answer("pick_files", result=[picked_file("a.jpg", b"12"), picked_file("b.jpg", b"345", file_id=1)])
        await driver.click("pick")
        assert driver.find("picked").value == "a.jpg: 2 bytes, b.jpg: 3 bytes"
        driver.answer("pick_files", result=[])
        await driver.click("pick")
        assert driver.find("picked").value == "No file"

    run_app(demo_app, scenario)


def test_push_route_shows_the_second_view_and_back_returns() -> None:
    async def scenario(driver: FletDriver) -> None:
        assert driver.route == "/"
        await driver.click("to-second")
        assert driver.route == "/second"
        assert driver.texts() == ["Second view"]  # only the top view is visible
        assert [c.name for c in driver.calls if c.control_type == "Page"] == ["push_route"]
        await driver.back()
        assert driver.route == "/"
        assert "Second view" not in driver.texts()
        assert driver.find("greet") is not None
        assert driver.crashes() == []

    run_app(demo_app, scenario)


def test_disabled_and_missing_controls_are_refused() -> None:
    async def scenario(driver: FletDriver) -> None:
        with pytest.raises(AssertionError, match="disabled"):
            await driver.click("disabled")
        with pytest.raises(LookupError, match="no-such-key"):
            driver.find("no-such-key")
        with pytest.raises(AssertionError, match="never shown"):
            await driver.wait_for_text("never shown", timeout=0.2)

    run_app(demo_app, scenario)


def test_handler_exception_is_reported_as_a_crash() -> None:
    def broken_app(page: ft.Page) -> None:
        def boom(e: ft.Event[ft.Button]) -> None:
            raise ValueError("meter exploded")

        page.add(ft.Button("Boom", key="boom", on_click=boom))

    async def scenario(driver: FletDriver) -> list[str]:
        await driver.click("boom")
        return driver.crashes()

    crashes = run_app(broken_app, scenario, raise_on_crash=False)
    assert len(crashes) == 1
    assert "meter exploded" in crashes[0]

    with pytest.raises(AssertionError, match="meter exploded"):
        run_app(broken_app, scenario)  # default: a crash fails the test on exit


@pytest.mark.anyio
async def test_async_context_manager_under_anyio(anyio_backend: str) -> None:
    if anyio_backend != "asyncio":
        pytest.skip("Flet sessions need asyncio")
    async with FletDriver(demo_app) as driver:

        def by_target(call: InvokeCall) -> dict[str, object]:
            return position_result(10.0, 20.0, 3 if call.control_type == "Geolocator" else 99)

        driver.answer("get_current_position", result=by_target)
        await driver.click("locate")
        await driver.wait_for_text("±3 m")
        call: InvokeCall = await driver.wait_for_call("get_current_position")
        assert call.answered
        assert call.error is None
        assert driver.crashes() == []


def test_updates_from_a_background_thread_arrive() -> None:
    def threaded_app(page: ft.Page) -> None:
        status = ft.Text("idle", key="status")

        def work() -> None:
            status.value = "done in thread"
            page.update()  # background threads must update themselves

        page.add(ft.Button("Work", key="work", on_click=lambda: page.run_thread(work)), status)

    async def scenario(driver: FletDriver) -> None:
        await driver.click("work")
        await driver.wait_for_text("done in thread")
        assert driver.find("status").value == "done in thread"

    run_app(threaded_app, scenario)
