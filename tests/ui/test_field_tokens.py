"""Where the field app keeps its tokens: the device keystore (flet-secure-storage) on a phone, the phone store in
browser mode. Headless sessions: the fake client answers the keystore's calls from a dict, as the device would."""

from __future__ import annotations

import json
from typing import Any

import flet as ft
import pytest

from mobile_app.field_app import field_main
from mobile_app.field_service import FieldService
from mobile_app.sync import StoreTokenStore
from mobile_app.ui.token_storage import SecureTokenStore, uses_secure_storage
from tests.support.flet_driver import FletDriver, InvokeCall, run_app

TIMEOUT = 20.0


@pytest.mark.parametrize(
    ("platform", "web", "secure"),
    [
        (ft.PagePlatform.ANDROID, False, True),
        (ft.PagePlatform.IOS, False, True),
        (ft.PagePlatform.ANDROID, True, False),  # a phone's browser: no keystore of the app's own
        (ft.PagePlatform.LINUX, True, False),
        (ft.PagePlatform.LINUX, False, False),
        (None, False, False),
    ],
)
def test_the_keystore_is_used_on_a_phone_only(platform: ft.PagePlatform | None, web: bool, secure: bool) -> None:
    assert uses_secure_storage(platform, web) is secure


def keystore(driver: FletDriver, held: dict[str, str]) -> None:
    """Answer SecureStorage's calls from ``held``, as the device's keystore would."""

    def get(call: InvokeCall) -> Any:
        return held.get(call.args["key"])

    def put(call: InvokeCall) -> None:
        held[call.args["key"]] = call.args["value"]

    def remove(call: InvokeCall) -> None:
        held.pop(call.args["key"], None)

    driver.answer("get", get, control="SecureStorage")
    driver.answer("set", put, control="SecureStorage")
    driver.answer("remove", remove, control="SecureStorage")


def test_on_a_phone_the_tokens_move_to_the_keystore_and_leave_it_on_sign_out(engineer_service: FieldService) -> None:
    signed_in = engineer_service.tokens.get()
    assert signed_in is not None
    held: dict[str, str] = {}

    async def scenario(driver: FletDriver) -> None:
        keystore(driver, held)
        await driver.wait_for(lambda: isinstance(engineer_service.tokens, SecureTokenStore), message="keystore")
        await driver.wait_for(lambda: SecureTokenStore.KEY in held, message="written")
        assert json.loads(held[SecureTokenStore.KEY])["refresh_token"] == signed_in.refresh_token
        assert StoreTokenStore(engineer_service.store).get() is None  # no longer in the unencrypted file
        assert engineer_service.sync_once().error is None  # the sync thread's calls use them
        assert engineer_service.tokens.get() is not None

        await driver.click("sign_out")  # nothing waiting: no question
        await driver.wait_for(lambda: SecureTokenStore.KEY not in held, message="removed")
        assert driver.crashes() == []

    run_app(field_main(engineer_service), scenario, timeout=TIMEOUT)


def test_in_browser_mode_the_phone_store_keeps_the_tokens(engineer_service: FieldService) -> None:
    async def scenario(driver: FletDriver) -> None:
        await driver.wait_for_text("meters read this period")
        await driver.settle()
        assert isinstance(engineer_service.tokens, StoreTokenStore)
        assert StoreTokenStore(engineer_service.store).get() is not None
        assert [c for c in driver.calls if c.control_type == "SecureStorage"] == []
        assert engineer_service.sync_once().error is None
        assert driver.crashes() == []

    run_app(
        field_main(engineer_service),
        scenario,
        timeout=TIMEOUT,
        page_props={"web": True, "platform": "android"},
    )
