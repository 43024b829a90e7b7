"""Why the last sync pass stopped, in the engineer's words: the status strip and the Sync screen say the same.

Flet-free (the service builds its status from it in the sync thread's process); never the exception's text.
"""

from __future__ import annotations

from mobile_app.i18n import _
from mobile_app.sync.api_client import ApiClientError, ApiError, AuthExpired, TransportError

__all__ = ["sync_problem"]


def sync_problem(error: ApiClientError) -> str:
    """Why the last pass stopped, in words (never the exception's text)."""
    if isinstance(error, AuthExpired):
        return _("sign in again to upload")
    if isinstance(error, TransportError):
        if error.status is not None and error.status >= 500:
            return _("the server is not available right now; retrying automatically")
        return _("cannot reach the server; retrying automatically")
    if isinstance(error, ApiError):
        return _("the server refused the upload ({code}); retrying automatically").format(code=error.code)
    return _("retrying automatically")
