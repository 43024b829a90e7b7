"""The state the Sync screen shows for a reading (mobile_app.reading_states): every phone state × every decision."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from mobile_app.reading_states import ReadingState, reading_state
from mobile_app.store import LocalState, ReadingRecord, list_readings, record_reading
from shared_billing.protocol import ReadingStatus
from tests.mobile_app.phone_factories import T0, make_reading, make_store

# Without a supervisor's decision (none yet, or "submitted"), the phone's own state decides.
UNDECIDED = {
    (LocalState.SAVED, False): ReadingState.SAVED,
    (LocalState.SAVED, True): ReadingState.SAVED,
    (LocalState.UPLOADED, False): ReadingState.UPLOADED,
    (LocalState.UPLOADED, True): ReadingState.PHOTO_PENDING,
    (LocalState.REJECTED, False): ReadingState.REJECTED,
    (LocalState.REJECTED, True): ReadingState.REJECTED,
    (LocalState.CONFLICT, False): ReadingState.CONFLICT,
    (LocalState.CONFLICT, True): ReadingState.CONFLICT,
}
DECIDED: dict[ReadingStatus | None, ReadingState] = {
    ReadingStatus.APPROVED: ReadingState.APPROVED,
    ReadingStatus.REJECTED: ReadingState.REJECTED,
    ReadingStatus.REREAD: ReadingState.REREAD_REQUESTED,
}
CASES = [
    (local, photo_pending, decision, DECIDED.get(decision, UNDECIDED[local, photo_pending]))
    for local in LocalState
    for photo_pending in (False, True)
    for decision in (None, *ReadingStatus)
]


@pytest.fixture
def saved(tmp_path: Path) -> ReadingRecord:
    store = make_store(tmp_path)
    record_reading(store=store, reading=make_reading())
    [record] = list_readings(store=store)
    return record


def test_the_cases_cover_every_phone_state_and_decision() -> None:
    assert len(CASES) == len(LocalState) * 2 * (len(ReadingStatus) + 1)


@pytest.mark.parametrize(("local", "photo_pending", "decision", "expected"), CASES)
def test_a_decision_outranks_the_phones_state(
    saved: ReadingRecord,
    local: LocalState,
    photo_pending: bool,
    decision: ReadingStatus | None,
    expected: ReadingState,
) -> None:
    record = replace(
        saved, state=local, photo_pending=photo_pending, review_status=decision, in_outbox=local is LocalState.SAVED
    )

    assert reading_state(record) is expected


@pytest.mark.parametrize("decision", [None, *ReadingStatus])
def test_a_parked_reading_is_on_hold_whatever_was_decided(saved: ReadingRecord, decision: ReadingStatus | None) -> None:
    parked = replace(saved, parked_at=T0, review_status=decision)

    assert reading_state(parked) is ReadingState.ON_HOLD
    # Parked means waiting in the outbox: once it left, the hold is over.
    assert reading_state(replace(parked, in_outbox=False)) is not ReadingState.ON_HOLD


@pytest.mark.parametrize(
    ("state", "label", "refused", "can_record_again"),
    [
        (ReadingState.SAVED, "saved", False, False),
        (ReadingState.ON_HOLD, "on hold", False, False),
        (ReadingState.PHOTO_PENDING, "photo pending", False, False),
        (ReadingState.UPLOADED, "uploaded", False, False),
        (ReadingState.APPROVED, "approved", False, False),
        (ReadingState.REJECTED, "rejected", True, True),
        (ReadingState.REREAD_REQUESTED, "re-read requested", False, True),
        (ReadingState.CONFLICT, "conflict", True, False),
    ],
)
def test_each_state_says_its_words_and_what_the_engineer_may_do(
    state: ReadingState, label: str, refused: bool, can_record_again: bool
) -> None:
    assert (state.label, state.refused, state.can_record_again) == (label, refused, can_record_again)


def test_every_state_has_its_own_label() -> None:
    assert len({state.label for state in ReadingState}) == len(ReadingState)
