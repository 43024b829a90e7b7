"""Small shared pieces of the views: formatting for people (local time, rupees) and messages."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import flet as ft
from babel.numbers import format_currency

__all__ = ["STATE_COLORS", "local_time", "rupees", "show_message", "title"]

STATE_COLORS = {
    "saved": ft.Colors.AMBER_800,
    "photo pending": ft.Colors.AMBER_800,
    "uploaded": ft.Colors.BLUE_700,
    "approved": ft.Colors.GREEN_700,
    "rejected": ft.Colors.RED_700,
    "conflict": ft.Colors.RED_700,
    "re-read requested": ft.Colors.DEEP_ORANGE_700,
}


def local_time(moment: datetime | None) -> str:
    """Stored times are UTC; people read them in the device's local time."""
    if moment is None:
        return "—"
    return moment.astimezone().strftime("%d %b %Y, %H:%M")


def rupees(amount: Decimal | str) -> str:
    """Indian grouping and the rupee sign: ₹1,23,456.50."""
    return format_currency(Decimal(amount), "INR", locale="en_IN")


def title(text: str) -> ft.Text:
    return ft.Text(text, size=20, weight=ft.FontWeight.BOLD)


def show_message(page: ft.Page, text: str, *, error: bool = False) -> None:
    page.show_dialog(
        ft.SnackBar(ft.Text(text), bgcolor=ft.Colors.RED_700 if error else None, duration=4000, key="message")
    )
