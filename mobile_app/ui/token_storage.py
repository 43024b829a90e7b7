"""Where the field app keeps its tokens: the platform's keystore on a phone, the phone store in browser mode.

On Android and iOS the tokens go to flet-secure-storage (Keystore / Keychain), not the SQLite file: the store is
app-private but unencrypted. The keystore is an async Flet service of the page, while the sync thread asks for
tokens synchronously, so ``SecureTokenStore`` answers from a copy in memory, loaded once when the app starts, and
writes through to the keystore on the page's loop. In browser mode (tests, demos: the "phone" is the server
process) there is no device keystore, and the phone store stays the token store.
"""

from __future__ import annotations

from typing import Protocol

import flet as ft
from flet_secure_storage import SecureStorage

from mobile_app.store import Store
from mobile_app.sync import MemoryTokenStore, StoreTokenStore, TokenPair, TokenStore

__all__ = ["SecureTokenStore", "page_token_store", "uses_secure_storage"]

_PHONES = frozenset({ft.PagePlatform.ANDROID, ft.PagePlatform.IOS})


def uses_secure_storage(platform: ft.PagePlatform | None, web: bool) -> bool:
    """The app runs on a phone (not a phone's browser: a browser tab has no keystore of its own)."""
    return not web and platform in _PHONES


class _Keystore(Protocol):
    """What ``SecureTokenStore`` needs of ``flet_secure_storage.SecureStorage`` (a fake in tests)."""

    async def get(self, key: str) -> str | None: ...

    async def set(self, key: str, value: str) -> None: ...

    async def remove(self, key: str) -> None: ...


class SecureTokenStore:
    """Tokens in the device keystore; ``get`` answers from memory at once, ``set`` writes through."""

    KEY = "fieldmeter.tokens"

    def __init__(self, keystore: _Keystore, page: ft.Page) -> None:
        self._keystore = keystore
        self._page = page
        self._memory = MemoryTokenStore()

    async def load(self, store: Store) -> None:
        """Read the tokens from the keystore; tokens an earlier app version kept in the phone store move here (and
        leave the store), so a phone updated while signed in stays signed in."""
        raw = await self._keystore.get(self.KEY)
        old = StoreTokenStore(store)
        if raw is None and (kept := old.get()) is not None:
            await self._keystore.set(self.KEY, kept.model_dump_json())
            raw = kept.model_dump_json()
        old.set(None)
        self._memory.set(TokenPair.model_validate_json(raw) if raw is not None else None)

    def get(self) -> TokenPair | None:
        return self._memory.get()

    def set(self, tokens: TokenPair | None) -> None:
        self._memory.set(tokens)
        # Any thread may set (the sync thread refreshes tokens): the write runs on the page's loop.
        self._page.run_task(self._write, tokens)

    async def _write(self, tokens: TokenPair | None) -> None:
        if tokens is None:
            await self._keystore.remove(self.KEY)
        else:
            await self._keystore.set(self.KEY, tokens.model_dump_json())


async def page_token_store(page: ft.Page, store: Store) -> TokenStore | None:
    """The keystore-backed token store for this page on a phone (loaded), or None: keep the phone store."""
    if not uses_secure_storage(page.platform, page.web):
        return None
    tokens = SecureTokenStore(SecureStorage(), page)
    await tokens.load(store)
    return tokens
