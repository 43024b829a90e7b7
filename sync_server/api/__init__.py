"""The ``/api`` router: one module per resource under ``routes``."""

from fastapi import APIRouter

from sync_server.api.routes import (
    audit,
    auth,
    billing_runs,
    bills,
    clock,
    documents,
    engineer_routes,
    escalations,
    exports,
    health,
    imports,
    notifications,
    payment_plans,
    payments,
    photos,
    premises,
    quality_checks,
    replacements,
    reports,
    resident,
    review,
    schedules,
    statements,
    sync,
    tariffs,
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
    quality_checks,
    replacements,
    premises,
    tariffs,
    engineer_routes,
    bills,
    billing_runs,
    payments,
    payment_plans,
    documents,
    audit,
    imports,
    statements,
    schedules,
    exports,
    reports,
    notifications,
    escalations,
    resident,
):
    api_router.include_router(module.router)
api_router.include_router(users.router)
