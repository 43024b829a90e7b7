"""The ``/api`` router: one module per resource under ``routes``."""

from fastapi import APIRouter

from sync_server.api.routes import (
    audit,
    auth,
    billing_runs,
    bills,
    clock,
    directory,
    documents,
    health,
    payments,
    photos,
    premises,
    review,
    sync,
    users,
)

__all__ = ["api_router"]

api_router = APIRouter()
for module in (
    health,
    clock,
    auth,
    sync,
    photos,
    review,
    directory,
    premises,
    bills,
    billing_runs,
    payments,
    documents,
    audit,
):
    api_router.include_router(module.router)
api_router.include_router(users.router)
