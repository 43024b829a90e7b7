"""The phone's sync client: HTTP calls (``SyncApi``), backoff, and the pass that ties them to the store.

Never imports Flet, FastAPI or sync_server; the app injects the HTTP client, the token store and the clock.
See ``mobile_app.sync.api_client`` for the error hierarchy.
"""

from mobile_app.sync.api_client import ApiError, AuthExpired, Me, SyncApi, SyncError, TransportError
from mobile_app.sync.backoff import Backoff
from mobile_app.sync.engine import ProgressCallback, SyncEngine, SyncReport, photo_content_type
from mobile_app.sync.tokens import MemoryTokenStore, StoreTokenStore, TokenPair, TokenStore

__all__ = [
    "ApiError",
    "AuthExpired",
    "Backoff",
    "Me",
    "MemoryTokenStore",
    "ProgressCallback",
    "StoreTokenStore",
    "SyncApi",
    "SyncEngine",
    "SyncError",
    "SyncReport",
    "TokenPair",
    "TokenStore",
    "TransportError",
    "photo_content_type",
]
