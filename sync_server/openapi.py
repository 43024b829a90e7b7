"""The published OpenAPI, completed where FastAPI cannot know the truth from the route signatures.

- ``POST /api/sync/push`` reads its body leniently (each reading is validated on its own, so one bad item never
  fails the batch) but the contract is the strict ``PushRequest``: that is the schema published for it.
- Every operation that takes a body can answer 400 (undecodable bytes) and 413 (``sync_server/body_limit.py``).
- Every operation reads the database (a protected one at least to authenticate the caller), so every one can
  answer ``503 service.unavailable`` with ``Retry-After`` when it is down, locked or not answering
  (``sync_server/error_handlers.py``); ``/api/health`` answers it with its report as ``details``.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel

from shared_billing.protocol import PushRequest

__all__ = ["STRICT_BODIES", "install_openapi"]

# (method, path) -> the model the route validates its body against, item by item.
STRICT_BODIES: dict[tuple[str, str], type[BaseModel]] = {("post", "/api/sync/push"): PushRequest}
_ERROR_REF = {"$ref": "#/components/schemas/ErrorOut"}
# What any body can earn before the route sees it: bytes that are not text (Starlette's 400), too many bytes.
_BODY_ERRORS = {"400": "The request body cannot be read", "413": "The request body is over the limit"}
_UNAVAILABLE = {
    "description": "The database is unavailable, locked or not answering: retry after Retry-After seconds",
    "headers": {"Retry-After": {"description": "Seconds to wait before retrying", "schema": {"type": "integer"}}},
    "content": {"application/json": {"schema": _ERROR_REF}},
}


def _publish_model(schema: dict[str, Any], model: type[BaseModel]) -> dict[str, str]:
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    generated = model.model_json_schema(ref_template="#/components/schemas/{model}", mode="validation")
    for name, definition in generated.pop("$defs", {}).items():
        components.setdefault(name, definition)
    components[model.__name__] = generated
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _complete(schema: dict[str, Any]) -> None:
    for path, item in schema.get("paths", {}).items():
        for method, operation in item.items():
            strict = STRICT_BODIES.get((method, path))
            if strict is not None:
                content = operation["requestBody"]["content"]["application/json"]
                lenient = content["schema"].get("$ref", "").rpartition("/")[2]
                content["schema"] = _publish_model(schema, strict)
                # The lenient model is the route's implementation detail, not part of the contract.
                if lenient and f'"#/components/schemas/{lenient}"' not in json.dumps(schema):
                    schema["components"]["schemas"].pop(lenient, None)
            operation["responses"].setdefault("503", copy.deepcopy(_UNAVAILABLE))
            if "requestBody" in operation:
                for status, description in _BODY_ERRORS.items():
                    operation["responses"].setdefault(
                        status, {"description": description, "content": {"application/json": {"schema": _ERROR_REF}}}
                    )


def install_openapi(app: FastAPI) -> None:
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = generate()
            _complete(schema)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
