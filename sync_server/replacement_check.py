"""Pure judgement of a pushed reading's meter replacement (protocol 2), before it is stored as a pending one.

docs/domain.md "Meter replacement": the reading is pushed against the OLD meter; its value is the NEW meter's
register; the replacement names the old meter's final value and the new meter's number and initial value. What is
checked here is what can be known at the push: each value fits its register (the shared register-value parser),
nothing runs backwards unless a rollover is plausible (the shared consumption rule), and the new number is free.
Whether the meter really was replaced is the supervisor's to confirm.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from shared_billing.checks import ReadingFlag
from shared_billing.consumption import MeterRegister, is_plausible_rollover
from shared_billing.errors import BillingError
from shared_billing.protocol import MeterStatus, Replacement
from shared_billing.readings import parse_register_value

__all__ = ["CheckedReplacement", "NamedMeter", "Refusal", "check_replacement", "taken_number_refusal"]


@dataclass(frozen=True)
class NamedMeter:
    """The stored meter a replacement's new number names, if there is one."""

    meter_id: int
    dials: int
    decimals: int
    status: MeterStatus


@dataclass(frozen=True)
class Refusal:
    code: str
    message: str


@dataclass(frozen=True)
class CheckedReplacement:
    """The replacement's values as registers read them, and the reading's value on the new meter."""

    old_final: Decimal
    new_initial: Decimal
    value: Decimal
    # below_previous for a drop taken as a plausible rollover (on either meter): a person looks at it.
    flags: tuple[ReadingFlag, ...]


def _rejected(code: str, message: str) -> Refusal:
    return Refusal(code, message)


def taken_number_refusal(number: str, status: MeterStatus) -> Refusal:
    """Why a replacement cannot install meter ``number`` that is already stored with ``status``: the push and the
    replacement event refuse a taken number alike (an active meter is in use; a retired one does not come back)."""
    if status is MeterStatus.ACTIVE:
        return _rejected("replacement.meter_taken", f"Meter number {number} is already an active meter")
    return _rejected(
        "meter.number_taken", f"Meter {number} is a retired meter: a replacement installs a meter new to the society"
    )


def _parse(text: str, register: MeterRegister, what: str) -> Decimal | Refusal:
    try:
        return parse_register_value(text, dials=register.dials, decimals=register.decimals)
    except BillingError as error:
        # The reading's own value keeps its usual code; a replacement field names itself in the message.
        return _rejected(error.code, f"{what}: {error.message}")


def _runs_backwards(register: MeterRegister, earlier: Decimal, later: Decimal) -> bool | None:
    """None when ``later`` does not fall below ``earlier``; else whether the drop is NOT a plausible rollover."""
    if later >= earlier:
        return None
    return not is_plausible_rollover(register, earlier, later)


def check_replacement(
    replacement: Replacement,
    value_text: str,
    *,
    old_meter_id: int,
    old: MeterRegister,
    old_previous: Decimal | None,
    named: NamedMeter | None,
) -> CheckedReplacement | Refusal:
    """Judge a replacement pushed with a reading of ``value_text`` against meter ``old_meter_id``.

    ``old_previous`` is the old meter's approved value before the reading (None without one); ``named`` is the
    stored meter the new number names, if any: a taken number is refused. The new meter's register is the old
    meter's dials and decimals, which the supervisor confirms with the replacement.
    """
    number = replacement.new_meter_number
    if named is not None and named.meter_id == old_meter_id:
        return _rejected("replacement.same_meter", f"Meter {number} is the meter being replaced, not a new one")
    if named is not None:
        return taken_number_refusal(number, named.status)
    new = old
    old_final = _parse(replacement.old_final_value, old, "Old meter's final value")
    if isinstance(old_final, Refusal):
        return old_final
    new_initial = _parse(replacement.new_initial_value, new, "New meter's initial value")
    if isinstance(new_initial, Refusal):
        return new_initial
    value = _parse(value_text, new, f"Value on the new meter {number}")
    if isinstance(value, Refusal):
        return value
    flags: list[ReadingFlag] = []
    if old_previous is not None and (backwards := _runs_backwards(old, old_previous, old_final)) is not None:
        if backwards:
            return _rejected(
                "replacement.final_below_previous",
                f"Old meter's final value {old_final} is below its previous approved value {old_previous} "
                "and is not a plausible rollover",
            )
        flags.append(ReadingFlag.BELOW_PREVIOUS)
    if (backwards := _runs_backwards(new, new_initial, value)) is not None:
        if backwards:
            return _rejected(
                "replacement.value_below_initial",
                f"Value {value} is below the new meter's initial value {new_initial} and is not a plausible rollover",
            )
        if flags:
            # replacement_consumption allows one rollover a period, on either meter.
            return _rejected(
                "replacement.final_below_previous",
                "Both the old and the new meter would have rolled over in one period: check the values",
            )
        flags.append(ReadingFlag.BELOW_PREVIOUS)
    return CheckedReplacement(old_final=old_final, new_initial=new_initial, value=value, flags=tuple(flags))
