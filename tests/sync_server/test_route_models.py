"""Every route's body and answer models are the shared ones (shared_billing.api_models and .report_models, or the
sync protocol), so the console parses exactly what the server validates and publishes: no route module defines a
wire model of its own. Generated from the route modules, so a new route with a local model fails here."""

from __future__ import annotations

import importlib
import pkgutil
import typing
from collections.abc import Iterator
from types import ModuleType

from fastapi import APIRouter
from fastapi.routing import APIRoute
from pydantic import BaseModel

import sync_server.api.routes as routes_package
from shared_billing import api_models, protocol, report_models
from sync_server.openapi import STRICT_BODIES

SHARED = (api_models.__name__, report_models.__name__, protocol.__name__)


def _route_modules() -> list[ModuleType]:
    return [
        importlib.import_module(f"{routes_package.__name__}.{m.name}")
        for m in pkgutil.iter_modules(routes_package.__path__)
    ]


def _models_in(annotation: object) -> Iterator[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        # A parametrised generic (Page[BillOut]) is made where it is used: judge its origin and its arguments.
        generic = annotation.__pydantic_generic_metadata__
        if generic["origin"] is not None:
            yield generic["origin"]
            for arg in generic["args"]:
                yield from _models_in(arg)
            return
        yield annotation
    for arg in typing.get_args(annotation):
        yield from _models_in(arg)


def _routes() -> Iterator[APIRoute]:
    for module in _route_modules():
        router = getattr(module, "router", None)
        assert isinstance(router, APIRouter), f"{module.__name__} has no router"
        for route in router.routes:
            assert isinstance(route, APIRoute)
            yield route


def test_routes_answer_and_read_the_shared_models() -> None:
    # The push reads its envelope leniently (each reading validated on its own); OpenAPI publishes the strict model.
    lenient = {(method.upper(), path.removeprefix("/api")) for method, path in STRICT_BODIES}
    local: list[str] = []
    checked = 0
    for route in _routes():
        methods = sorted(route.methods or ())
        bodies = [param.field_info.annotation for param in route.dependant.body_params]
        if any((method, route.path) in lenient for method in methods):
            bodies = []
        for model in {m for a in [route.response_model, *bodies] for m in _models_in(a)}:
            checked += 1
            if model.__module__ not in SHARED:
                local.append(f"{methods} {route.path}: {model.__name__} from {model.__module__}")
    assert checked > 30  # the walk found the routes' models
    assert not local, f"models not in {' or '.join(SHARED)}:\n" + "\n".join(local)


def test_route_modules_define_no_wire_models() -> None:
    defined = [
        f"{module.__name__}.{name}"
        for module in _route_modules()
        for name, value in vars(module).items()
        if isinstance(value, type)
        and issubclass(value, BaseModel)
        and value.__module__ == module.__name__
        # pydantic names a parametrised generic (Page[BillOut]) in the module that uses it: not a definition.
        and value.__pydantic_generic_metadata__["origin"] is None
    ]
    assert defined == [f"{routes_package.__name__}.sync.PushEnvelope"]  # the push's lenient reader, not published
