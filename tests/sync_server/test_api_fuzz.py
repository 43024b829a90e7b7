"""The whole API fuzzed from its own OpenAPI (schemathesis), as every role and anonymously, on both databases.

Every operation gets generated requests (schema-valid ones, then schema-violating ones) against the in-process
app on a demo-seeded database, so generated ids sometimes hit real rows. It fails on any 5xx, any status the
operation does not declare, and any response that does not match its declared schema (the error shape included);
the status counts per operation are printed (``pytest -s``) so a run shows what was actually exercised.

The seed is fixed: a failure reproduces. Examples are capped per operation and mode (eight schema-valid and three
schema-violating ones for a role the operation admits) to keep the two databases near three minutes together on
two cores as the API grows (at twelve and five its 105 operations took four and a half); the other tests cover
each route's own cases.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.core.result import Err, Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.sync_server.factories import auth

SEED = 20261120
# Examples per operation and mode: more for the roles the operation admits (they get past the access check and
# reach the route's own code), a few for the others (they must all answer 401/403 in the one error shape).
EXAMPLES = {
    True: {GenerationMode.POSITIVE: 8, GenerationMode.NEGATIVE: 3},
    False: {GenerationMode.POSITIVE: 2, GenerationMode.NEGATIVE: 1},
}
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# Tariff files (POST /api/tariffs) are TOML text: sent like any plain text.
schemathesis.serializer.alias("application/toml", "text/plain")

# The admin goes last of the signed-in identities: its fuzz of /api/users deactivates accounts (theirs too).
IDENTITIES = {"engineer": "engineer1", "supervisor": "supervisor", "accountant": "accountant", "admin": "admin"}
# Operations that end sessions (the caller's, or other users') run last for each identity.
ENDS_SESSIONS = ("/api/auth/logout", "/api/users/")


def _operation(result: Ok[Any] | Err[Any]) -> Any:
    """The operation, or the schema's own error (a broken schema fails here with its message)."""
    if isinstance(result, Err):
        raise result.err()
    return result.ok()


def _ends_sessions(operation: Any) -> bool:
    return str(operation.path).startswith(ENDS_SESSIONS)


def _fuzz_operation(
    operation: Any,
    mode: GenerationMode,
    examples: int,
    headers: dict[str, str],
    statuses: Counter[int],
    failures: list[str],
    who: str,
) -> None:
    @seed(SEED)
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,  # no example database: the run is the same on every machine
        phases=[Phase.explicit, Phase.generate],  # no shrinking: failures are collected, not raised
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: Any) -> None:
        response = case.call(headers=headers)
        statuses[response.status_code] += 1
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except (Exception, FailureGroup) as failure:  # every check failure is reported with its request
            failures.append(f"{operation.label} as {who} ({mode.value}): {failure}"[:1500])

    try:
        run()
    except Unsatisfiable:
        # Nothing to violate: an operation without parameters or body has no schema-invalid request.
        if mode is not GenerationMode.NEGATIVE:
            raise


def test_api_fuzz(demo_app: FastAPI) -> None:
    with TestClient(demo_app) as client:
        identities: dict[str, dict[str, str]] = {role: auth(client, name) for role, name in IDENTITIES.items()}
    identities["anonymous"] = {}
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", demo_app)
    operations = sorted(map(_operation, schema.get_all_operations()), key=_ends_sessions)
    assert len(operations) >= 40
    counts: dict[str, Counter[int]] = defaultdict(Counter)
    failures: list[str] = []
    for who, headers in identities.items():
        for operation in operations:
            roles = operation.definition.raw.get("x-roles", [])
            admitted = "public" in roles or who in roles
            for mode, examples in EXAMPLES[admitted].items():
                _fuzz_operation(operation, mode, examples, headers, counts[operation.label], failures, who)
    print("\nstatus counts per operation (all identities and modes):")
    for label in sorted(counts):
        print(f"  {label:55} {dict(sorted(counts[label].items()))}")
    assert not [label for label in (op.label for op in operations) if not counts[label]], "operations never called"
    assert failures == []
