"""Where the sync client keeps its tokens: injected, so the Flet app can use secure storage on the device."""

from __future__ import annotations

import threading
from typing import Protocol

from mobile_app.store import Store, delete_state, get_state, set_state
from shared_billing.api_models import TokenPair

# TokenPair is the API's own model (what the server issues), kept as the server sent it.
__all__ = ["MemoryTokenStore", "StoreTokenStore", "TokenPair", "TokenStore"]


class TokenStore(Protocol):
    """Holds the current token pair; ``set(None)`` forgets it (sign-out, revoked device)."""

    def get(self) -> TokenPair | None: ...

    def set(self, tokens: TokenPair | None) -> None: ...


class MemoryTokenStore:
    """Tokens for this process only (tests, the browser-mode app)."""

    def __init__(self, tokens: TokenPair | None = None) -> None:
        self._tokens = tokens
        self._lock = threading.Lock()

    def get(self) -> TokenPair | None:
        with self._lock:
            return self._tokens

    def set(self, tokens: TokenPair | None) -> None:
        with self._lock:
            self._tokens = tokens


class StoreTokenStore:
    """Tokens kept in the phone's local store, so a restart does not sign the engineer out.

    The store file is app-private but not encrypted; prefer the platform's secure storage where there is one.
    """

    KEY = "auth.tokens"

    def __init__(self, store: Store) -> None:
        self._store = store

    def get(self) -> TokenPair | None:
        raw = get_state(store=self._store, key=self.KEY)
        return TokenPair.model_validate_json(raw) if raw is not None else None

    def set(self, tokens: TokenPair | None) -> None:
        if tokens is None:
            delete_state(store=self._store, key=self.KEY)
        else:
            set_state(store=self._store, key=self.KEY, value=tokens.model_dump_json())
