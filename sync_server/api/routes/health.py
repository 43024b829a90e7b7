"""``GET /api/health``: 200 only when the database answers, its schema is current and the data dir is writable.

Otherwise ``503 service.unavailable`` (with ``Retry-After``) whose ``details`` is the same report, naming the
failed dependency. The route is async and its checks run in threads of their own (sync_server/health_probe.py),
so it answers within ``health_timeout_s`` even when the database hangs or every worker thread is stuck.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from shared_billing.api_models import Health
from sync_server import __version__
from sync_server.context import AppContext
from sync_server.deps import PUBLIC, access
from sync_server.error_handlers import unavailable_response
from sync_server.health_probe import HealthProbe

router = APIRouter(tags=["health"])


def _probe(request: Request) -> HealthProbe:
    probe: HealthProbe | None = getattr(request.app.state, "health_probe", None)
    if probe is None:
        context: AppContext = request.app.state.context
        settings = context.settings
        # Each database wait inside a run gets part of the answer's bound, so a locked database reads "locked".
        probe = HealthProbe(context.engine, [settings.data_dir, settings.photo_dir], settings.health_timeout_s / 2)
        request.app.state.health_probe = probe
    return probe


@router.get("/health", response_model=Health, **access(PUBLIC))
async def health(request: Request) -> Health | JSONResponse:
    """The server's dependencies: database reachable and not locked, schema current, data dir writable."""
    context: AppContext = request.app.state.context
    checks = await _probe(request).checks(context.settings.health_timeout_s)
    failed = [f"{name} ({value})" for name, value in checks.items() if value != "ok"]
    if not failed:
        return Health(status="ok", version=__version__, checks=checks)
    report = {"status": "unavailable", "version": __version__, "checks": checks}
    return unavailable_response(request, report, f"Unavailable: {', '.join(failed)}")
