"""The one place the client core meets httpx: a :class:`Call` as request arguments, a response as an
:class:`Answer`. Shared by the synchronous and the asynchronous wrapper; no client, no sending here."""

from __future__ import annotations

from typing import Any

import httpx

from mobile_app.api.answers import Answer, Call

__all__ = ["NO_ANSWER", "answer_of", "request_args"]

# What httpx raises when a request got no (complete) answer: connect/read errors, timeouts, undecodable bodies.
NO_ANSWER = httpx.RequestError


def request_args(call: Call[Any], base_url: str, access_token: str | None) -> dict[str, Any]:
    """Keyword arguments of ``httpx.Client.request`` / ``httpx.AsyncClient.request`` for ``call``.

    ``base_url`` prefixes ``/api``; empty, the httpx client's own base URL is used.
    """
    return {
        "method": call.method,
        "url": f"{base_url}/api{call.path}",
        "params": call.params,
        "content": call.body,
        "headers": call.headers(access_token),
    }


def answer_of(response: httpx.Response) -> Answer:
    return Answer(
        status=response.status_code,
        content=response.content,
        retry_after=response.headers.get("Retry-After"),
        reason=response.reason_phrase,
    )
