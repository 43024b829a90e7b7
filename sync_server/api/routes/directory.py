"""Who reads the society's directory (blocks, units, meters, tariffs): its routes live in ``premises``,
``tariffs`` and ``engineer_routes``."""

from __future__ import annotations

from sync_server.models import Role

__all__ = ["READERS"]

READERS = (Role.SUPERVISOR, Role.ADMIN, Role.ACCOUNTANT)
