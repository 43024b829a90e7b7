"""Entry point ``run_field_app``: the field app as its own process (the phone's stand-in, or in web mode).

The server's CLI imports this module lazily (``fieldmeter app``); the browser console lives in ``mobile_app.console``
(its ASGI app in ``mobile_app.console.asgi``), so this module carries nothing the phone does not run.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import flet as ft

from mobile_app.field_app import field_main
from mobile_app.field_service import FieldService

__all__ = ["ASSETS_DIR", "run_field_app"]

ASSETS_DIR = Path(__file__).resolve().parent.parent / "assets"


def run_field_app(
    *,
    server_url: str,
    data_dir: Path,
    web: bool,
    host: str,
    port: int,
    backoff_cap_s: float = 300.0,
    clock: Callable[[], datetime] | None = None,
) -> None:
    """Run the field app as its own process with its own local database; blocks until stopped.

    ``clock``: the phone's "now" (default the real time); a demo or a test pinned to a past month gives the phone
    the server's pinned clock, so its readings fall in the month the server is in.
    """
    if clock is None:
        service = FieldService(data_dir=data_dir, server_url=server_url, backoff_cap_s=backoff_cap_s)
    else:
        service = FieldService(data_dir=data_dir, server_url=server_url, backoff_cap_s=backoff_cap_s, clock=clock)
    service.start()
    if web:
        # No browser to open on a server; the test or the person opens the URL printed below.
        os.environ.setdefault("FLET_FORCE_WEB_SERVER", "true")
        print(f"Fieldmeter field app: http://{host}:{port}/  (server {server_url}, data {data_dir})", flush=True)
    try:
        ft.run(
            field_main(service),
            view=ft.AppView.WEB_BROWSER if web else ft.AppView.FLET_APP,
            host=host,
            port=port,
            assets_dir=str(ASSETS_DIR),
            no_cdn=True,
        )
    finally:
        service.stop()
