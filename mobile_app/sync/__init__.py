"""The phone's sync client: HTTP calls (``SyncApi``), backoff, and the pass that ties them to the store.

Never imports Flet, FastAPI or sync_server; the app injects the HTTP client, the token store and the clock.
Its errors are the API client's (``mobile_app.api.errors``), re-exported here.
"""

from mobile_app.sync.api_client import ApiClientError, ApiError, AuthExpired, Me, SyncApi, TransportError
from mobile_app.sync.backoff import Backoff
from mobile_app.sync.engine import ProgressCallback, SyncEngine, SyncReport, photo_content_type
from mobile_app.sync.tokens import MemoryTokenStore, StoreTokenStore, TokenPair, TokenStore

__all__ = [
    "ApiClientError",
    "ApiError",
    "AuthExpired",
    "Backoff",
    "Me",
    "MemoryTokenStore",
    "ProgressCallback",
    "StoreTokenStore",
    "SyncApi",
    "SyncEngine",
    "SyncReport",
    "TokenPair",
    "TokenStore",
    "TransportError",
    "photo_content_type",
]
