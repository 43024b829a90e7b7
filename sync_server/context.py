"""What the app holds for its lifetime: settings, engine, clock, token service, photo store."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from sync_server.auth import TokenService
from sync_server.clock import Clock
from sync_server.config import Settings
from sync_server.photo_store import PhotoStore

__all__ = ["AppContext"]


@dataclass
class AppContext:
    settings: Settings
    engine: Engine
    clock: Clock
    tokens: TokenService
    photos: PhotoStore
    assets_dir: Path  # fonts and the logo for invoices
