"""Small shared pieces of the views: formatting for people (local time, rupees) and messages."""

from __future__ import annotations

from datetime import date, datetime, tzinfo
from decimal import Decimal

import flet as ft
from babel.dates import format_date, format_datetime
from babel.numbers import format_currency, format_decimal, get_decimal_symbol

from mobile_app.i18n import current_date_locale, current_locale

__all__ = [
    "day",
    "indian_number",
    "local_time",
    "mounted_page",
    "plural",
    "push_update",
    "rupees",
    "show_message",
    "society_time",
    "title",
]


def local_time(moment: datetime | None, zone: tzinfo | None = None) -> str:
    """Stored times are UTC; people read them in ``zone``: the society's in the console (it comes from the server),
    the device's own on the phone (``None``)."""
    if moment is None:
        return "—"
    local = moment.astimezone(zone)  # zone None: the device's own, as astimezone() finds it
    return format_datetime(local, "dd MMM yyyy, HH:mm", tzinfo=local.tzinfo, locale=current_date_locale())


def society_time(text: datetime | str | None, zone: tzinfo) -> str:
    """An API timestamp (parsed, or ISO 8601) shown in the society's zone; a naive one is refused, never guessed."""
    if text is None:
        return "—"
    moment = text if isinstance(text, datetime) else datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"a time without a zone: {text!r}")
    return local_time(moment, zone)


def day(text: date | str | None) -> str:
    """An API calendar date (already the society's: due dates, payment dates) for people."""
    if isinstance(text, str):
        text = date.fromisoformat(text) if text else None
    return format_date(text, "dd MMM yyyy", locale=current_date_locale()) if text else "—"


def rupees(amount: Decimal | str) -> str:
    """Indian grouping and the rupee sign: ₹1,23,456.50 (in the session's language: babel's hi_IN and pa_IN
    write it the same way today)."""
    return format_currency(Decimal(amount), "INR", locale=current_locale())


def indian_number(number: int | Decimal | str) -> str:
    """Indian grouping without a currency: 12,34,567 (counts, units, kW). Every decimal given is kept as it is
    (a register value's places mean something), never rounded."""
    text = format(Decimal(number), "f")
    whole, point, fraction = text.partition(".")
    if point:
        point = get_decimal_symbol(current_locale())
    return format_decimal(Decimal(whole), locale=current_locale()) + point + fraction


def plural(count: int, noun: str) -> str:
    """English only ("3 meters"): a translated count needs the whole sentence in ``ngettext``, because other
    languages inflect more than the noun."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def title(text: str) -> ft.Text:
    return ft.Text(text, size=20, weight=ft.FontWeight.BOLD)


def show_message(page: ft.Page, text: str, *, error: bool = False) -> None:
    # No key: Flet "freezes" a new control that takes an earlier one's key, and a frozen snack bar cannot be
    # dismissed, which leaves every later dialog of the session unshown.
    page.show_dialog(ft.SnackBar(ft.Text(text), bgcolor=ft.Colors.RED_700 if error else None, duration=4000))


def mounted_page(control: ft.Control) -> ft.Page | None:
    """The control's page, or None once it has been taken off the screen."""
    try:
        return control.page
    except RuntimeError:
        return None


def push_update(control: ft.Control) -> None:
    """Send the control's changes now.

    Flet sends a handler's changes by itself only when the handler never called ``update()``; a handler that
    showed progress ("Locating…") before awaiting must send its final state itself.
    """
    if mounted_page(control) is not None:
        control.update()
