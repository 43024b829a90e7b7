"""Bundled fonts for Hindi (Devanagari) and Punjabi (Gurmukhi): both apps call ``register_fonts(page)`` at start.

Flutter draws Latin text with its own font; for a script that font lacks it fetches a Noto font from Google's
servers, which many sites (and this machine) cannot reach, and the text comes out as empty boxes. So the two Noto
fonts ship in ``assets/fonts`` (OFL, see LICENSE-Noto.txt), are registered with ``page.fonts`` and named as the
fallback of every text style of the theme: Latin keeps its usual font, and Devanagari or Gurmukhi in any language
(a Hindi name in the English console too) is drawn from the bundled files. Only the Regular weights are shipped:
``page.fonts`` takes one file per family, and Flutter thickens the Regular for bold text.
"""

from __future__ import annotations

import dataclasses

import flet as ft

__all__ = ["FONT_FILES", "SCRIPT_FALLBACK", "register_fonts", "with_script_fonts"]

# Family name -> file under the app's assets folder (both apps run with assets_dir = assets/).
FONT_FILES: dict[str, str] = {
    "Noto Sans Devanagari": "fonts/NotoSansDevanagari-Regular.ttf",
    "Noto Sans Gurmukhi": "fonts/NotoSansGurmukhi-Regular.ttf",
}
SCRIPT_FALLBACK: list[str] = list(FONT_FILES)

_STYLES = [
    field.name for field in dataclasses.fields(ft.TextTheme) if field.name.endswith(("_large", "_medium", "_small"))
]


def _with_fallback(style: ft.TextStyle | None) -> ft.TextStyle:
    if style is None:
        return ft.TextStyle(font_family_fallback=list(SCRIPT_FALLBACK))
    if style.font_family_fallback:
        return style
    return dataclasses.replace(style, font_family_fallback=list(SCRIPT_FALLBACK))


def _text_theme(text_theme: ft.TextTheme | None) -> ft.TextTheme:
    base = text_theme or ft.TextTheme()
    return dataclasses.replace(base, **{name: _with_fallback(getattr(base, name)) for name in _STYLES})


def with_script_fonts(theme: ft.Theme | None) -> ft.Theme:
    """``theme`` (or a default one) whose text styles fall back to the bundled fonts; its other settings kept."""
    base = theme or ft.Theme()
    return dataclasses.replace(
        base,
        text_theme=_text_theme(base.text_theme),
        primary_text_theme=_text_theme(base.primary_text_theme),
    )


def register_fonts(page: ft.Page) -> None:
    """Register the bundled fonts and put them in the page's light and dark themes. Call it after setting
    ``page.theme`` (or pass a later theme through ``with_script_fonts``)."""
    page.fonts = {**(page.fonts or {}), **{family: f"/{path}" for family, path in FONT_FILES.items()}}
    page.theme = with_script_fonts(page.theme)
    page.dark_theme = with_script_fonts(page.dark_theme)
