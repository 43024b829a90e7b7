"""Which issued bill a statement's credit pays (docs/reconciliation.md "Matching").

Pure: a credit and a ``BillBook`` (the facts about bills the caller read) in, a ``Match`` out.

1. **By bill number.** A bill's UPI QR code carries its number as the transaction reference
   (``tr=FM/2526/000123``, docs/domain.md "Bills: draft, issue, numbers"), and banks copy it into the narration,
   sometimes with the slashes encoded (``%2F``), replaced or dropped. A credit naming exactly one issued bill pays
   that bill, whatever its status (a second payment of a paid bill stays on the account as a credit, as any
   payment above the balance does).
2. **By amount and date.** Otherwise a credit pays the open bill (issued, partly paid or overdue; a unit's latest)
   whose account owes exactly the amount, issued on or before the credit's day and at most ``MATCH_WINDOW_DAYS``
   before it — when exactly one bill fits. Two flats owing the same sum in one month are common: a tie is never
   guessed, it is left to the accountant.
3. Otherwise the credit is unmatched, with the reason, for the accountant to match by hand or dismiss.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from shared_billing.protocol import MatchRule
from sync_server.statements.parse import StatementLine

__all__ = ["MATCH_WINDOW_DAYS", "BillBook", "BillFacts", "Match", "MatchRule", "bill_numbers_in", "match_credit"]

#: How long after its issue a bill is matched by amount: the 15 days to its due date and a month's grace.
MATCH_WINDOW_DAYS = 45

# A bill number as sync_server.billing.compute.next_bill_numbers writes it: FM/<yyyy of the financial year>/<6
# digits>, the separators as any bank mangles them (kept, replaced, dropped).
_BILL_NUMBER = re.compile(r"(?<![A-Z0-9])FM[\s/_.\-]{0,3}(\d{4})[\s/_.\-]{0,3}(\d{6})(?!\d)", re.IGNORECASE)


@dataclass(frozen=True)
class BillFacts:
    bill_id: int
    unit_id: int
    number: str
    unit_code: str
    issued_on: date  # in the society's calendar
    owed: Decimal  # the account's balance now (what the bill asks, less what was paid since)


@dataclass
class BillBook:
    """What matching needs: the issued bills the statement names (by number), and each unit's latest open bill.

    ``settle`` keeps it true while an import records payments, so a later line of the same file sees them."""

    named: dict[str, BillFacts] = field(default_factory=dict)
    open_by_unit: dict[int, BillFacts] = field(default_factory=dict)

    def settle(self, unit_id: int, owed: Decimal) -> None:
        """The unit's account owes ``owed`` now; its bill is no longer open once nothing is owed."""
        bill = self.open_by_unit.pop(unit_id, None)
        if bill is not None and owed > 0:
            self.open_by_unit[unit_id] = BillFacts(
                bill.bill_id, bill.unit_id, bill.number, bill.unit_code, bill.issued_on, owed
            )


@dataclass(frozen=True)
class Match:
    bill: BillFacts | None
    rule: MatchRule | None
    reason: str  # why unmatched ("" when matched)


def bill_numbers_in(*texts: str) -> list[str]:
    """The bill numbers the texts name, written as bills print them, in order and each once."""
    found: list[str] = []
    for text in texts:
        for match in _BILL_NUMBER.finditer(re.sub("%2F", "/", text, flags=re.IGNORECASE)):
            number = f"FM/{match[1]}/{match[2]}"
            if number not in found:
                found.append(number)
    return found


def match_credit(credit: StatementLine, book: BillBook, window_days: int = MATCH_WINDOW_DAYS) -> Match:
    numbers = bill_numbers_in(credit.narration, credit.reference or "")
    named = [book.named[number] for number in numbers if number in book.named]
    if len(named) == 1:
        return Match(named[0], MatchRule.REFERENCE, "")
    if len(named) > 1:
        return Match(None, None, f"names {len(named)} bills: {', '.join(bill.number for bill in named)}")
    unknown = f"names {', '.join(numbers)}, which is no issued bill; " if numbers else ""
    earliest = credit.on - timedelta(days=window_days)
    fits = sorted(
        (
            bill
            for bill in book.open_by_unit.values()
            if bill.owed == credit.amount and earliest <= bill.issued_on <= credit.on
        ),
        key=lambda bill: bill.number,
    )
    if len(fits) == 1:
        return Match(fits[0], MatchRule.AMOUNT_DATE, "")
    if fits:
        listed = ", ".join(f"{bill.number} ({bill.unit_code})" for bill in fits[:5])
        return Match(None, None, f"{unknown}{len(fits)} open bills owe ₹{credit.amount}: {listed}")
    return Match(None, None, f"{unknown}no open bill issued in the {window_days} days before it owes ₹{credit.amount}")
