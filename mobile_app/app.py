"""Entry points: ``run_field_app`` (the phone, or its stand-in in web mode) and ``console_asgi_app`` (browser mode).

The server imports only this module, lazily (docs/architecture.md "Parts and their boundaries").
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import flet as ft
import httpx

from mobile_app.console_app import console_main
from mobile_app.field_app import field_main
from mobile_app.field_service import FieldService

__all__ = ["ASSETS_DIR", "console_asgi_app", "run_field_app"]

ASSETS_DIR = Path(__file__).resolve().parent.parent / "assets"


def run_field_app(
    *, server_url: str, data_dir: Path, web: bool, host: str, port: int, backoff_cap_s: float = 300.0
) -> None:
    """Run the field app as its own process with its own local database; blocks until stopped."""
    service = FieldService(data_dir=data_dir, server_url=server_url, backoff_cap_s=backoff_cap_s)
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


def console_asgi_app(api: Any) -> Any:
    """The browser console as an ASGI app to mount at ``/``; it calls ``api`` in-process (never blocking)."""
    import flet.fastapi as flet_fastapi

    def http_factory(client_ip: str = "127.0.0.1") -> httpx.AsyncClient:
        # In-process calls: compressing an answer only to decompress it in the same process is wasted CPU.
        # The browser's address is the request's client (request.client.host), so sign-in throttling counts
        # each browser; it travels in the transport, not in a header a remote caller could forge.
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=api, client=(client_ip, 0)),
            base_url="http://fieldmeter.local",
            headers={"Accept-Encoding": "identity"},
        )

    main = console_main(http_factory, for_client=http_factory)
    return flet_fastapi.app(main, assets_dir=str(ASSETS_DIR), no_cdn=True)
