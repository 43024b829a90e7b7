"""The console in Hindi and Punjabi, headless: the language menu redraws the screen in the chosen language, numbers
and dates follow babel's locale for it, the browser remembers the choice, and one tab's language is not another's.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from babel.dates import format_datetime

from mobile_app.console.app import LANGUAGE_KEY, console_main
from mobile_app.i18n import _, current_language
from mobile_app.ui.fonts import FONT_FILES, SCRIPT_FALLBACK
from tests.support.flet_driver import FletDriver, run_app
from tests.ui.ui_fixtures import FLAT, Server, sign_in, value_of, wait_key

TIMEOUT = 20.0
INDIA = ZoneInfo("Asia/Kolkata")


def run(server: Server, scenario: Any, prefs: dict[str, Any] | None = None) -> None:
    def http_factory() -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=server.app), base_url="http://t")

    run_app(console_main(http_factory), scenario, timeout=TIMEOUT, prefs=prefs)


def test_supervisor_switches_to_hindi_and_back(server: Server) -> None:
    item = server.push_reading(FLAT, above_previous=1234)
    uuid = item["uuid"]
    captured = datetime.fromisoformat(item["captured_at"])

    async def scenario(driver: FletDriver) -> None:
        # The bundled fonts are registered and every text style of the theme falls back to them.
        assert driver.page.fonts is not None
        assert {family: path.lstrip("/") for family, path in driver.page.fonts.items()} == FONT_FILES
        theme = driver.page.theme
        assert theme is not None
        assert theme.text_theme is not None
        assert theme.text_theme.body_medium is not None
        assert theme.text_theme.body_medium.font_family_fallback == SCRIPT_FALLBACK

        assert "Fieldmeter console" in driver.texts()
        await driver.click("language-hi")
        await driver.wait_for_text("Fieldmeter कंसोल")
        assert driver.find("sign_in").content == "साइन इन"  # the shared sign-in form too
        assert driver.prefs[LANGUAGE_KEY] == "hi"  # remembered by the browser

        await sign_in(driver, "supervisor")
        await driver.wait_for_text("जाँच की कतार")  # "Review queue"
        await wait_key(driver, f"facts-{uuid}")
        assert value_of(driver, "review_summary") == "1 रीडिंग जाँच के लिए बाकी"
        previous = int(item["value"]) - 1234
        # Indian grouping, in Latin digits as hi_IN writes them.
        assert value_of(driver, f"facts-{uuid}") == (
            f"रीडिंग {int(item['value']):,} · पिछली {previous:,} · खपत 1,234 यूनिट"
        )
        # The date as babel writes it for hi_IN: Hindi month, Latin digits (CLDR's default for Hindi).
        hindi_when = format_datetime(captured, "dd MMM yyyy, HH:mm", tzinfo=INDIA, locale="hi_IN")
        assert "नव॰" in hindi_when
        assert value_of(driver, f"read-{uuid}").startswith(f"पढ़ा गया {hindi_when}")
        assert driver.find("sign_out").content == "साइन आउट"

        await driver.click("language-en")
        await driver.wait_for_text("Review queue")
        await wait_key(driver, f"facts-{uuid}")
        assert value_of(driver, "review_summary") == "1 reading waiting"
        english_when = format_datetime(captured, "dd MMM yyyy, HH:mm", tzinfo=INDIA, locale="en")
        assert value_of(driver, f"read-{uuid}").startswith(f"Read {english_when}")
        assert driver.prefs[LANGUAGE_KEY] == "en"
        assert driver.crashes() == []

    run(server, scenario)
    # Outside any session the process default still applies: the tab's choice was the tab's own.
    assert current_language() == "en"
    assert _("Review queue") == "Review queue"


def test_a_browser_that_chose_punjabi_opens_in_punjabi(server: Server) -> None:
    async def scenario(driver: FletDriver) -> None:
        await driver.wait_for_text("Fieldmeter ਕੰਸੋਲ")
        assert driver.find("language-pa").disabled is True  # the current one
        assert driver.find("language-en").disabled is False
        assert driver.find("username").label == "ਯੂਜ਼ਰਨੇਮ"
        await sign_in(driver, "supervisor", "wrong")
        await driver.wait_for_text("ਯੂਜ਼ਰਨੇਮ ਜਾਂ ਪਾਸਵਰਡ ਗਲਤ ਹੈ")
        assert driver.crashes() == []

    run(server, scenario, prefs={LANGUAGE_KEY: "pa"})
