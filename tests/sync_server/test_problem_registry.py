"""Every error code the server names is registered once, with one HTTP status; raise sites name the code only.

The scan reads the server's source (not a hand-kept list), so a new raise site with an unregistered or
mistyped code fails here before it fails in production as a KeyError inside an error handler.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from shared_billing.errors import ALL_ERRORS
from sync_server.problems import CODES, DOMAIN_STATUS, Problem, status_of

SERVER = Path(__file__).resolve().parents[2] / "sync_server"
# The namespaces codes live in; audit actions share some ("bill.issued") and are left out by where they appear.
NAMESPACES = {p.split(".")[0] for p in CODES}
CODE_SHAPE = re.compile(r"^[a-z]+\.[a-z_]+$")
# Calls whose first argument, and keywords whose value, is an error code.
CODE_CALLS = {"Problem", "problem_response", "_rejected"}
CODE_KEYWORDS = {"code", "error_code"}
NOT_CODES = {"action"}  # audit actions: a separate vocabulary
COLUMNS = {"id", "uuid"}  # "user.id": a foreign key's table.column, not a code


def _name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _strings(node: ast.AST | None) -> list[str]:
    """Literal strings a value can be: a constant, or either branch of a conditional expression."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        return _strings(node.body) + _strings(node.orelse)
    if isinstance(node, ast.Tuple):
        return [s for element in node.elts for s in _strings(element)]
    return []


def _codes_in(tree: ast.AST) -> tuple[set[str], set[str], list[int]]:
    """(codes named where a code is expected, code-shaped literals anywhere else, lines of a status-first Problem)."""
    named: set[str] = set()
    skip: set[int] = set()  # ids of literals that are audit actions
    status_first: list[int] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            if _name(node.func) in CODE_CALLS and node.args:
                named.update(_strings(node.args[0]))
                first = node.args[0]
                if isinstance(first, ast.Constant) and isinstance(first.value, int):
                    status_first.append(node.lineno)
            for keyword in node.keywords:
                if keyword.arg in CODE_KEYWORDS:
                    named.update(_strings(keyword.value))
                if keyword.arg in NOT_CODES:
                    skip.update(id(n) for n in ast.walk(keyword.value))
        elif isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if isinstance(key, ast.Constant) and key.value in CODE_KEYWORDS:
                    named.update(_strings(value))
                if isinstance(key, ast.Constant) and key.value == "action":  # an audit row built for a bulk insert
                    skip.update(id(n) for n in ast.walk(value))
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                targets = target.elts if isinstance(target, ast.Tuple) else [target]
                values = node.value.elts if isinstance(node.value, ast.Tuple) else [node.value] * len(targets)
                for one, value in zip(targets, values, strict=False):
                    if _name(one) in CODE_KEYWORDS:
                        named.update(_strings(value))
                    if (_name(one) or "").lower().endswith("action"):  # action = "…" / _AUDIT_ACTION = "…"
                        skip.update(id(n) for n in ast.walk(value))
        elif isinstance(node, ast.Subscript) and _name(node.value) == "CODES":
            named.update(_strings(node.slice))
    shaped = {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in skip
        and CODE_SHAPE.match(node.value)
        and node.value.split(".")[0] in NAMESPACES
        and node.value.rpartition(".")[2] not in COLUMNS
    }
    return named, shaped, status_first


def _scan() -> tuple[dict[str, set[str]], dict[str, set[str]], dict[str, list[int]]]:
    named: dict[str, set[str]] = {}
    shaped: dict[str, set[str]] = {}
    status_first: dict[str, list[int]] = {}
    for path in sorted(SERVER.rglob("*.py")):
        if path.name == "problems.py":
            continue
        where = str(path.relative_to(SERVER.parent))
        found, literal, lines = _codes_in(ast.parse(path.read_text(encoding="utf-8")))
        named[where], shaped[where], status_first[where] = found, literal, lines
    return named, shaped, status_first


def test_every_code_the_server_names_is_registered() -> None:
    named, shaped, _ = _scan()
    used = {code for codes in named.values() for code in codes}
    # The scan must see the raise sites, or this test would pass on nothing.
    assert {"auth.invalid_token", "bill.already_billed", "reading.conflict", "billing.run_failed"} <= used
    unregistered = {
        where: sorted(code for code in named[where] | shaped[where] if code not in CODES)
        for where in named
        if any(code not in CODES for code in named[where] | shaped[where])
    }
    assert unregistered == {}


def test_raise_sites_name_the_code_not_the_status() -> None:
    _, _, status_first = _scan()
    assert {where: lines for where, lines in status_first.items() if lines} == {}


def test_every_registered_code_has_an_error_status_and_a_message() -> None:
    bad = {code: spec for code, spec in CODES.items() if not 400 <= spec.status <= 599 or not spec.message.strip()}
    assert bad == {}


def test_every_domain_error_has_one_status_and_is_registered_with_it() -> None:
    assert set(DOMAIN_STATUS) == set(ALL_ERRORS)
    for error in ALL_ERRORS:
        assert status_of(error.code) == DOMAIN_STATUS[error], error.code


def test_a_problem_takes_its_status_and_default_message_from_the_registry() -> None:
    for code, spec in CODES.items():
        problem = Problem(code)
        assert (problem.status, problem.message, problem.details) == (spec.status, spec.message, {})
    custom = Problem("bill.not_found", "No bill 7", {"bill_id": 7}, headers={"X-Why": "test"})
    assert custom.body() == {"code": "bill.not_found", "message": "No bill 7", "details": {"bill_id": 7}}
    assert (custom.status, custom.headers) == (404, {"X-Why": "test"})


def test_an_unregistered_code_is_refused() -> None:
    with pytest.raises(KeyError):
        Problem("bill.no_such_code")
