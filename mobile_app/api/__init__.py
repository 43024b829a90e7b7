"""The typed client core of Fieldmeter's HTTP API (docs/api.md), shared by the phone's sync and the console.

One core that does no I/O, two thin wrappers that only send what it builds and hand the answers back to it:

- ``mobile_app.api.answers``: a request as data (:class:`Call`, which also says how its answer is read), an answer
  as data (:class:`Answer`), and the mapping of answers to typed results or to the error tree.
- ``mobile_app.api.errors``: the error tree (``ApiClientError`` > ``TransportError``, ``AuthExpired``,
  ``ApiError``).
- ``mobile_app.api.session``: sign-in, sign-out and the token refresh decisions.
- ``mobile_app.api.endpoints``: one typed call per route the apps use.
- ``mobile_app.api.over_httpx``: calls as httpx request arguments and httpx responses as answers.

The wrappers: ``mobile_app.sync.api_client.SyncApi`` (``httpx.Client``, a threading lock, tokens in a
``TokenStore``) for the phone's background sync, and ``mobile_app.console.client.ConsoleClient`` (``httpx.AsyncClient``,
an asyncio lock) for the browser console. Both take the httpx client (and so its transport) from the caller.
"""

from __future__ import annotations

from mobile_app.api.answers import Answer, Call
from mobile_app.api.errors import ApiClientError, ApiError, AuthExpired, TransportError

__all__ = ["Answer", "ApiClientError", "ApiError", "AuthExpired", "Call", "TransportError"]
