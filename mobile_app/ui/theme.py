"""The field app's look for one hand in the sun: large targets, large text, colours that keep their contrast.

Every number here is a floor the engineer's day needs (issue 12 "Ergonomics"): touch targets of at least 48 px,
body text of at least 16 px, text colours at a contrast of at least 4.5:1 against the background they are drawn on
(WCAG AA; tests/ui/test_field_theme.py measures each pair). Views take their colours from here, never Flet's
AMBER shades (≈2.8:1 on near-white, unreadable outdoors).
"""

from __future__ import annotations

from typing import TypeVar

import flet as ft

from mobile_app.ui.fonts import SCRIPT_FALLBACK

__all__ = [
    "BODY_PX",
    "ERROR",
    "INFO",
    "MIN_TARGET_PX",
    "MUTED",
    "OK",
    "SURFACE",
    "TEXT",
    "TEXT_ON",
    "WARNING",
    "WARNING_SURFACE",
    "app_theme",
    "error_text",
    "touch",
]

MIN_TARGET_PX = 48
BODY_PX = 16
TITLE_PX = 20

SURFACE = "#FFFFFF"
WARNING_SURFACE = "#FFF3E0"  # the estimate's and the re-read's cards: a warm tint, text still dark enough on it
TEXT = "#1C1B1F"
MUTED = "#4A4A4A"
WARNING = "#8A4600"  # dark orange-brown: 6.5:1 on white where AMBER_800 was 2.8:1
ERROR = "#B3261E"
OK = "#1B5E20"
INFO = "#0D47A1"

# Each text colour and every background it is drawn on: the contrast test walks this table.
TEXT_ON: dict[str, tuple[str, ...]] = {
    TEXT: (SURFACE, WARNING_SURFACE),
    MUTED: (SURFACE, WARNING_SURFACE),
    WARNING: (SURFACE, WARNING_SURFACE),
    ERROR: (SURFACE, WARNING_SURFACE),
    OK: (SURFACE,),
    INFO: (SURFACE,),
}

C = TypeVar("C", bound=ft.LayoutControl)


def touch(control: C) -> C:
    """At least a 48 px target: Material's default buttons are 40 px high, too small for a thumb in a glove."""
    if control.height is None or control.height < MIN_TARGET_PX:
        control.height = MIN_TARGET_PX
    return control


def error_text(key: str, value: str = "") -> ft.Text:
    """A line of error text that wraps whatever its length (never ``max_lines``, never an ellipsis)."""
    return ft.Text(
        value, key=key, color=ERROR, size=BODY_PX, no_wrap=False, selectable=True, overflow=ft.TextOverflow.VISIBLE
    )


def app_theme() -> ft.Theme:
    body = ft.TextStyle(size=BODY_PX, color=TEXT)
    return ft.Theme(
        color_scheme_seed=ft.Colors.INDIGO,
        text_theme=ft.TextTheme(
            body_large=ft.TextStyle(size=18, color=TEXT),
            body_medium=body,
            body_small=body,  # helper and counter texts: Material's 12 px is too small outdoors
            label_large=ft.TextStyle(size=BODY_PX, weight=ft.FontWeight.W_600),
            label_medium=body,
            label_small=body,
            title_medium=ft.TextStyle(size=18, weight=ft.FontWeight.W_600, color=TEXT),
            title_small=body,
        ),
        # A list tile's styles are its own, not the text theme's: they name the script fonts themselves, or a
        # tile's Hindi or Punjabi is drawn as empty boxes (register_fonts reaches only the text theme).
        list_tile_theme=ft.ListTileTheme(
            min_vertical_padding=8,
            title_text_style=ft.TextStyle(
                size=18, weight=ft.FontWeight.W_600, color=TEXT, font_family_fallback=list(SCRIPT_FALLBACK)
            ),
            subtitle_text_style=ft.TextStyle(size=BODY_PX, color=MUTED, font_family_fallback=list(SCRIPT_FALLBACK)),
        ),
    )
