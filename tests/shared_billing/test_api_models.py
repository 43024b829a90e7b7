"""The HTTP API's shared models (shared_billing.api_models): enumerated fields are the wire enums, unknown values
are refused, and the JSON they write is the wire format the console and older clients read."""

from __future__ import annotations

import inspect
import types
import typing
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from shared_billing import api_models
from shared_billing.api_models import BillOut, BulkPaid, NoteIn, PaymentIn, PaymentOut, ReviewItem, UserOut
from shared_billing.checks import ReadingFlag
from shared_billing.protocol import BillStatus, NoteKind, PaymentMode, ReadingStatus, Role

# Fields whose name says "one of a fixed set" but whose values are open or server-only, with the reason.
OPEN_VALUED = {
    ("Health", "status"),  # "ok"; the 503 report says "unavailable" in its details
    ("TokenPair", "token_type"),  # OAuth's "bearer"
    ("ReviewFacets", "flags"),  # Facet objects (a flag's code, words and count), not flag values
}
ENUM_NAMES = ("status", "mode", "kind", "role", "category", "read_type", "skip_reason", "flags")


def _models() -> list[type[BaseModel]]:
    return [
        cls
        for _, cls in inspect.getmembers(api_models, inspect.isclass)
        if issubclass(cls, BaseModel)
        and cls.__module__ == api_models.__name__
        # A generic parametrised at module level (Page[ReviewItem], ReviewPage's base) is set in the module by
        # pydantic under that name: a form of Page, not a model of its own.
        and not cls.__pydantic_generic_metadata__["origin"]
    ]


def _enums_in(annotation: Any) -> list[type[StrEnum]]:
    if isinstance(annotation, type) and issubclass(annotation, StrEnum):
        return [annotation]
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is not None:
        return [enum for arg in typing.get_args(annotation) for enum in _enums_in(arg)]
    return []


def _enum_members_in(annotation: Any) -> list[StrEnum]:
    """A Literal of wire-enum members (StaffRole: the roles an admin may give): a subset of one enum."""
    if typing.get_origin(annotation) is typing.Literal:
        return [arg for arg in typing.get_args(annotation) if isinstance(arg, StrEnum)]
    return []


def test_every_model_is_exported() -> None:
    exported_classes = [name for name in api_models.__all__ if isinstance(getattr(api_models, name), type)]
    assert sorted(cls.__name__ for cls in _models()) == sorted(exported_classes)
    assert api_models.__all__ == sorted(api_models.__all__)


@pytest.mark.parametrize("model", _models(), ids=lambda m: m.__name__)
def test_enumerated_fields_are_typed_with_the_wire_enums(model: type[BaseModel]) -> None:
    untyped = [
        name
        for name, field in model.model_fields.items()
        if name.endswith(ENUM_NAMES)
        and (model.__name__, name) not in OPEN_VALUED
        and not _enums_in(field.annotation)
        and not _enum_members_in(field.annotation)
    ]
    assert not untyped, f"{model.__name__}: {untyped} should be typed with a wire enum (shared_billing.protocol)"


@pytest.mark.parametrize("model", _models(), ids=lambda m: m.__name__)
def test_the_schema_lists_each_enum_s_values(model: type[BaseModel]) -> None:
    schema = model.model_json_schema()
    published = {name: definition.get("enum") for name, definition in schema.get("$defs", {}).items()}
    for name, field in model.model_fields.items():
        for enum in _enums_in(field.annotation):
            assert published[enum.__name__] == [member.value for member in enum]
        if members := _enum_members_in(field.annotation):
            assert schema["properties"][name]["enum"] == [member.value for member in members]


@pytest.mark.parametrize(
    ("model", "body"),
    [
        (PaymentIn, {"unit_id": 1, "amount": "10.00", "paid_on": "2026-01-05", "mode": "bitcoin"}),
        (BulkPaid, {"bill_ids": [1], "paid_on": "2026-01-05", "mode": "CASH"}),
        (NoteIn, {"kind": "refund", "amount": "10.00", "reason": "typo"}),
    ],
)
def test_a_request_naming_another_value_is_refused(model: type[BaseModel], body: dict[str, Any]) -> None:
    with pytest.raises(ValidationError) as raised:
        model.model_validate(body)
    assert [error["type"] for error in raised.value.errors()] == ["enum"]


def test_a_request_s_value_is_read_as_the_member() -> None:
    payment = PaymentIn.model_validate({"unit_id": 1, "amount": "10.00", "paid_on": "2026-01-05", "mode": "upi"})
    note = NoteIn.model_validate({"kind": "debit", "amount": "5", "reason": "meter re-read"})
    assert payment.mode is PaymentMode.UPI
    assert note.kind is NoteKind.DEBIT


def _bill(**changes: Any) -> dict[str, Any]:
    bill: dict[str, Any] = {
        "id": 7,
        "bill_number": "B1/2026-01/0001",
        "status": "partly_paid",  # a column not yet holding the enum still validates into it
        "unit_id": 3,
        "unit_code": "A-101",
        "block_id": 1,
        "period": "2026-01",
        "issued_at": datetime(2026, 2, 1, 4, 30, tzinfo=UTC),
        "due_on": date(2026, 2, 15),
        "charges": Decimal("1234.00"),
        "reading_uuid": None,
        "estimated_units": Decimal("120"),
        "lines": [
            {"code": "energy", "description": "120 units", "quantity": "120", "rate": "7.50", "amount": "900.00"}
        ],
        "trace": ["energy: 120 × 7.50"],
        "total": Decimal("1233.60"),
        "round_off": Decimal("0.40"),
        "payable": Decimal("1234.00"),
        "created_at": datetime(2026, 2, 1, 4, 0, tzinfo=UTC),
    }
    return {**bill, **changes}


def test_an_answer_writes_the_same_json_as_before() -> None:
    bill = BillOut.model_validate(_bill())
    assert bill.status is BillStatus.PARTLY_PAID
    wire = bill.model_dump(mode="json")
    assert wire["status"] == "partly_paid"
    assert (wire["total"], wire["round_off"], wire["payable"]) == ("1233.60", "0.40", "1234.00")  # money as strings
    assert wire["lines"][0]["rate"] == "7.50"
    assert wire["due_on"] == "2026-02-15"
    assert list(wire) == [*_bill(), "history"]  # field order kept; the six months' history is added at the end
    assert wire["history"] is None  # only GET /api/bills/{id} fills it
    payment = PaymentOut(
        id=1,
        unit_id=3,
        bill_id=7,
        amount=Decimal("500.00"),
        paid_on=date(2026, 2, 10),
        mode=PaymentMode.CHEQUE,
        balance=Decimal("-20.00"),
    )
    assert payment.model_dump(mode="json")["mode"] == "cheque"


def test_an_answer_with_a_value_outside_the_enum_is_refused() -> None:
    with pytest.raises(ValidationError):
        BillOut.model_validate(_bill(status="cancelled"))


def test_a_review_item_s_flags_are_reading_flags() -> None:
    item = {
        "uuid": "0b9f4c8e-1c1a-4d7e-9a59-2f0c6f2a9d11",
        "meter_id": 1,
        "meter_number": "M-1",
        "meter_kind": "unit",
        "unit_code": "A-101",
        "block_code": "A",
        "read_type": "actual",
        "skip_reason": None,
        "value": "1234.5",
        "previous_value": None,
        "consumption": None,
        "captured_at": "2026-01-31T10:00:00+05:30",
        "received_at": "2026-01-31T04:31:00Z",
        "period": "2026-01",
        "engineer_id": 2,
        "gps_lat": None,
        "gps_lon": None,
        "gps_accuracy_m": None,
        "distance_m": None,
        "meter_lat": None,
        "meter_lon": None,
        "note": None,
        "replaces": None,
        "flags": ["gps_missing", "below_previous"],
        "photo_sha256": None,
        "photo_url": None,
        "photo_pending": False,
        "status": "submitted",
        "decision_reason": None,
    }
    parsed = ReviewItem.model_validate(item)
    assert parsed.flags == [ReadingFlag.GPS_MISSING, ReadingFlag.BELOW_PREVIOUS]
    assert parsed.status is ReadingStatus.SUBMITTED
    assert parsed.model_dump(mode="json")["flags"] == ["gps_missing", "below_previous"]
    with pytest.raises(ValidationError):
        ReviewItem.model_validate({**item, "flags": ["looks_odd"]})


def test_one_user_model_for_the_list_and_the_account_switches() -> None:
    user = UserOut.model_validate(
        {"id": 4, "username": "acc1", "full_name": "A. Ccount", "role": "accountant", "active": True}
    )
    assert user.role is Role.ACCOUNTANT
    assert list(user.model_dump(mode="json")) == [
        "id",
        "username",
        "full_name",
        "role",
        "active",
        "password_change_required",
        "unit_id",
        "unit_code",
    ]
