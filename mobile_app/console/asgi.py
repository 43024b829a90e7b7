"""The browser console as an ASGI app; the server imports only this module, lazily (sync_server/web.py)."""

from __future__ import annotations

from typing import Any

import httpx

from mobile_app.app import ASSETS_DIR
from mobile_app.console.app import console_main

__all__ = ["console_asgi_app"]


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
