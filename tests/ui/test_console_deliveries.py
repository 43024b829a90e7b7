"""The delivery log in a headless console session (docs/notifications.md): messages with their status, channel,
attempts and last error, filtered by status; a dead letter sent again."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from sqlmodel import Session, select

from mobile_app.console.app import console_main
from shared_billing.protocol import NotificationChannel, NotificationEvent, NotificationStatus
from sync_server.models import Notification, Unit
from tests.support.flet_driver import FletDriver, run_app
from tests.ui.ui_fixtures import Server, select_option, sign_in, value_of, wait_key

TIMEOUT = 60.0


def run(server: Server, scenario: Any) -> None:
    def http_factory() -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=server.app), base_url="http://t")

    run_app(console_main(http_factory), scenario, timeout=TIMEOUT)


def _rows(driver: FletDriver) -> list[str]:
    return [
        str(control.value)
        for control in driver.walk()
        if control.key is not None and str(control.key).startswith("delivery-") and hasattr(control, "value")
    ]


def _seed(server: Server) -> int:
    """One message sent and one dead-lettered after five attempts, as the job leaves them."""
    now = server.clock()
    with Session(server.app.state.context.engine) as session:
        unit = session.exec(select(Unit).order_by(Unit.code)).first()
        assert unit is not None
        assert unit.id is not None
        rows = [
            Notification(
                dedupe_key=f"payment_received:{n}:{channel.value}",
                event=NotificationEvent.PAYMENT_RECEIVED,
                channel=channel,
                unit_id=unit.id,
                recipient=address,
                language="en",
                subject="Payment received",
                text="We received your payment.",
                status=status,
                attempts=attempts,
                next_attempt_at=now,
                last_error=error,
                created_at=now - timedelta(minutes=n),
            )
            for n, (channel, address, status, attempts, error) in enumerate(
                [
                    (NotificationChannel.EMAIL, "asha@blessings.example", NotificationStatus.SENT, 1, None),
                    (NotificationChannel.SMS, "9876543210", NotificationStatus.DEAD, 5, "provider answered 500: busy"),
                ]
            )
        ]
        session.add_all(rows)
        session.commit()
        dead = rows[1].id
    assert dead is not None
    return dead


def test_admin_filters_the_delivery_log_and_retries_a_dead_letter(server: Server) -> None:
    dead = _seed(server)

    async def scenario(driver: FletDriver) -> None:
        await sign_in(driver, "admin")
        await wait_key(driver, "section-deliveries")
        await driver.click("section-deliveries")
        await driver.wait_for(lambda: len(_rows(driver)) == 2, message="both messages")
        await select_option(driver, "deliveries_status", "dead")
        await driver.wait_for(lambda: len(_rows(driver)) == 1, message="the dead letter alone")
        (line,) = _rows(driver)
        assert " · sms · 9876543210 · Dead letter · 5 attempts" in line
        assert "provider answered 500: busy" in driver.texts()
        await driver.click(f"retry-{dead}")
        await driver.wait_for(lambda: not _rows(driver), message="no dead letter left")
        assert value_of(driver, "deliveries_notice") == f"Message {dead} will be sent again"
        await select_option(driver, "deliveries_status", "pending")
        await driver.wait_for(lambda: len(_rows(driver)) == 1, message="the message waiting again")
        assert " · Waiting · 0 attempts" in _rows(driver)[0]
        assert driver.crashes() == []

    run(server, scenario)
