"""Where a reading on this phone stands, for the engineer: one ``ReadingState`` derived from the stored record.

Flet-free and pure, so the Sync screen only renders it: the label, whether the reason is a refusal, whether the
engineer may record the meter again. The record says two things: how far the phone got with it (``LocalState``)
and the supervisor's decision once the server sent one (``ReadingStatus``); a decision outranks the phone's state.
"""

from __future__ import annotations

from enum import Enum

from mobile_app.i18n import N_, _
from mobile_app.store import LocalState, ReadingRecord
from shared_billing.checks import ReadingFlag
from shared_billing.protocol import ReadingStatus

__all__ = [
    "FLAG_WORDS",
    "HELD_BACK_REASON",
    "RETRY_REASON",
    "ReadingState",
    "flag_words",
    "reading_reason",
    "reading_state",
]

# Plain words only: the engineer can act on none of the technical detail (kept in the outbox for diagnostics).
HELD_BACK_REASON = N_("The server could not process this reading; it will be retried later")
RETRY_REASON = N_("Not uploaded yet; it will be retried automatically")


class ReadingState(Enum):
    """What the engineer sees about one reading; ``label`` is the words, the members are the identity."""

    SAVED = "saved"  # on the phone, waiting to upload
    ON_HOLD = "on_hold"  # held back after repeated server failures, retried rarely
    PHOTO_PENDING = "photo_pending"  # uploaded, its photo not yet
    UPLOADED = "uploaded"  # on the server, no decision yet
    APPROVED = "approved"
    REJECTED = "rejected"  # by the supervisor, or refused by the server
    REREAD_REQUESTED = "reread_requested"
    CONFLICT = "conflict"  # the server holds a different reading under this uuid

    @property
    def label(self) -> str:
        return _LABELS[self]

    @property
    def refused(self) -> bool:
        """The reason under the reading is a refusal (shown as an error), not news."""
        return self in (ReadingState.REJECTED, ReadingState.CONFLICT)

    @property
    def can_record_again(self) -> bool:
        """The meter may be read again, the new reading replacing this one."""
        return self in (ReadingState.REJECTED, ReadingState.REREAD_REQUESTED)


# Marked for the catalogs; the screens translate them where shown (``_(state.label)``).
_LABELS = {
    ReadingState.SAVED: N_("saved"),
    ReadingState.ON_HOLD: N_("on hold"),
    ReadingState.PHOTO_PENDING: N_("photo pending"),
    ReadingState.UPLOADED: N_("uploaded"),
    ReadingState.APPROVED: N_("approved"),
    ReadingState.REJECTED: N_("rejected"),
    ReadingState.REREAD_REQUESTED: N_("re-read requested"),
    ReadingState.CONFLICT: N_("conflict"),
}

# A supervisor's decision, as the last pull delivered it; "submitted" is no decision.
_DECIDED = {
    ReadingStatus.APPROVED: ReadingState.APPROVED,
    ReadingStatus.REJECTED: ReadingState.REJECTED,
    ReadingStatus.REREAD: ReadingState.REREAD_REQUESTED,
}


def reading_state(record: ReadingRecord) -> ReadingState:
    """The one state the Sync screen shows for ``record``."""
    if record.parked:
        return ReadingState.ON_HOLD
    decided = _DECIDED.get(ReadingStatus(record.review_status)) if record.review_status is not None else None
    if decided is not None:
        return decided
    match record.state:
        case LocalState.SAVED:
            return ReadingState.SAVED
        case LocalState.UPLOADED:
            return ReadingState.PHOTO_PENDING if record.photo_pending else ReadingState.UPLOADED
        case LocalState.REJECTED:
            return ReadingState.REJECTED
        case LocalState.CONFLICT:
            return ReadingState.CONFLICT


def reading_reason(record: ReadingRecord) -> str | None:
    """The line under a reading: the supervisor's or the server's reason, or why it is still on the phone."""
    if record.review_reason or record.server_message:
        return record.review_reason or record.server_message
    if record.parked:
        return HELD_BACK_REASON
    if record.in_outbox and record.attempts > 0:
        return RETRY_REASON
    return None


# The server's flags on a reading (``ReadingFlag``), in the words the engineer and the supervisor see: one home for
# both (marked here, translated where shown).
FLAG_WORDS = {
    ReadingFlag.BELOW_PREVIOUS: N_("below previous"),
    ReadingFlag.GPS_MISSING: N_("no GPS fix"),
    ReadingFlag.GPS_INACCURATE: N_("poor GPS accuracy"),
    ReadingFlag.GPS_FAR: N_("far from meter"),
    ReadingFlag.CLOCK_DRIFT: N_("phone clock off"),
    ReadingFlag.SECOND_READ_IN_PERIOD: N_("second read this month"),
    ReadingFlag.PHOTO_PENDING: N_("photo pending"),
    # docs/domain.md "Expected window and estimate": the engineer typed it twice and a photo shows it.
    ReadingFlag.OUTSIDE_WINDOW: N_("outside the meter's usual range (re-keyed, photo)"),
    # Protocol 3's evidence (docs/review.md "Evidence"): warnings the engineer overrode with a reason.
    ReadingFlag.PHOTO_BLURRED: N_("photo blurred (kept with a reason)"),
    ReadingFlag.PHOTO_REUSED: N_("photo like another (kept with a reason)"),
    ReadingFlag.LABEL_OTHER_METER: N_("label names another meter"),
}


def flag_words(code: str) -> str:
    """A flag code as the server sent it, in the session's language; a code this app does not know yet (a newer
    server) is still shown, as a flag for the supervisor rather than silence."""
    try:
        return _(FLAG_WORDS[ReadingFlag(code)])
    except ValueError:
        return _("flagged for the supervisor ({code})").format(code=code)
