"""Request and public models of the HTTP API beyond the sync protocol (``protocol.py``): the server validates and
publishes them (OpenAPI), the console and the phone parse them. One definition each, so a field cannot mean one thing
on the server and another in a client."""

from __future__ import annotations

__all__: list[str] = []
