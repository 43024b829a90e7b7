"""Entry point for `flet build apk`: the field engineer's app on the phone.

On the phone Python runs embedded; durable data lives in ``FLET_APP_STORAGE_DATA`` (the packaged app's private
folder). The sync server's address comes from ``FIELDMETER_SERVER`` (set at build time or by the device's MDM).
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from pathlib import Path

import flet as ft

from mobile_app.field_app import field_main
from mobile_app.field_service import FieldService


def build(
    data_dir: Path | None = None, server_url: str | None = None
) -> tuple[FieldService, Callable[[ft.Page], Awaitable[None]]]:
    service = FieldService(
        data_dir=data_dir or Path(os.environ.get("FLET_APP_STORAGE_DATA", "phone-data")),
        server_url=server_url or os.environ.get("FIELDMETER_SERVER", "http://127.0.0.1:8000"),
    )
    return service, field_main(service)


if __name__ == "__main__":
    phone, app_main = build()
    phone.start()
    ft.run(app_main, assets_dir="assets")
