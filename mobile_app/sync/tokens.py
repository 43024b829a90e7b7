"""Where the sync client keeps its tokens: injected, so the Flet app can use secure storage on the device."""

from __future__ import annotations

import threading
from typing import Protocol

from pydantic import BaseModel, ConfigDict

from mobile_app.store import Store, delete_state, get_state, set_state

__all__ = ["MemoryTokenStore", "StoreTokenStore", "TokenPair", "TokenStore"]


class TokenPair(BaseModel):
    """The server's answer to login and refresh (see docs/api.md, Auth)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    access_token: str
    refresh_token: str
    token_type: str = "bearer"  # noqa: S105 - the scheme's name, not a secret
    expires_in: int
    role: str
    user_id: int


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
