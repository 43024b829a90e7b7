"""Message texts per event and language, from ``templates/<language>.toml`` (plain text with ``{placeholders}``).

The server has no i18n of its own (the console's gettext catalogues are the Flet app's), so the few messages live
in one small file per language, which a society may edit without touching code. Every language has every event:
``tests/sync_server/test_notifications.py`` checks that the files agree.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache, lru_cache
from pathlib import Path
from types import MappingProxyType

from shared_billing.protocol import NotificationEvent, NotificationLanguage
from sync_server.invoices.formatting import format_bill_date, format_bill_month, format_inr

__all__ = ["TEMPLATES_DIR", "MessageFacts", "render", "templates"]

TEMPLATES_DIR = Path(__file__).parent / "templates"


@dataclass(frozen=True, slots=True)
class MessageFacts:
    """What a message may say. Dates are the society's calendar days (a bill's due date is one already)."""

    society: str
    amount: Decimal  # the bill's payable, what the account owes, or the payment, as the event says
    unit: str = ""  # the unit's code, filled in with its contact
    bill_number: str | None = None
    period: str | None = None
    due_on: date | None = None
    paid_on: date | None = None


@cache
def templates(language: NotificationLanguage) -> dict[str, dict[str, str]]:
    """The language's ``{event: {"subject", "text"}}``."""
    with (TEMPLATES_DIR / f"{language.value}.toml").open("rb") as file:
        return tomllib.load(file)


@lru_cache(maxsize=256)
def _placeholders(facts: MessageFacts) -> Mapping[str, str]:
    # Formatted once for a message's every channel and language: a bill run enqueues thousands (bench/bill_run.py).
    return MappingProxyType(
        {
            "society": facts.society,
            "unit": facts.unit,
            "amount": format_inr(facts.amount),
            "bill_number": facts.bill_number or "",
            "month": format_bill_month(facts.period) if facts.period else "",
            "due_on": format_bill_date(facts.due_on) if facts.due_on else "",
            "paid_on": format_bill_date(facts.paid_on) if facts.paid_on else "",
        }
    )


def render(event: NotificationEvent, language: NotificationLanguage, facts: MessageFacts) -> tuple[str, str]:
    """The message's subject and text."""
    values = _placeholders(facts)
    template = templates(language)[event.value]
    return template["subject"].format_map(values), template["text"].format_map(values)
