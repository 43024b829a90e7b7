"""Every UI string of the field app and the console goes through here (gettext catalogs, babel).

Use ``_("text")`` at the point of display, ``N_("text")`` to mark a module-level constant that is translated where
it is shown (``_(CONSTANT)``), and ``ngettext`` for counts; docs/languages.md says how catalogs are updated.

The language belongs to a Flet session, not to the process: the console serves many browsers at once, each in its
own language. ``_()`` finds the session through ``ft.context.page`` (a ContextVar Flet sets around ``main`` and every
event handler) and reads the language stored in that session; outside a session (tests, the CLI, a background
thread) the process default applies. The catalogs are the ``.po`` files themselves, compiled in memory on first use:
no build step, and nothing generated to keep in step with them.
"""

from __future__ import annotations

import gettext
import io
from functools import cache
from pathlib import Path

import flet as ft
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

__all__ = [
    "DATE_LOCALES",
    "DEFAULT_LANGUAGE",
    "DOMAIN",
    "LANGUAGES",
    "LOCALES",
    "LOCALE_DIR",
    "N_",
    "_",
    "current_date_locale",
    "current_language",
    "current_locale",
    "language_of",
    "locale_for",
    "ngettext",
    "set_default_language",
    "set_language",
    "translations",
]

DOMAIN = "fieldmeter"
LOCALE_DIR = Path(__file__).resolve().parent / "locales"
DEFAULT_LANGUAGE = "en"
# Each language's name in its own script: someone who cannot read the current language still finds their own.
LANGUAGES: dict[str, str] = {"en": "English", "hi": "हिन्दी", "pa": "ਪੰਜਾਬੀ"}
# Numbers and dates: Indian grouping (12,34,567) in every language. English dates keep CLDR's plain English month
# abbreviations ("Sep"; en_IN says "Sept"), so English output reads as it always has.
LOCALES: dict[str, str] = {"en": "en_IN", "hi": "hi_IN", "pa": "pa_IN"}
DATE_LOCALES: dict[str, str] = {"en": "en", "hi": "hi_IN", "pa": "pa_IN"}

_SESSION_KEY = "fieldmeter.language"
_default = DEFAULT_LANGUAGE


@cache
def translations(code: str) -> gettext.NullTranslations:
    """The compiled catalog of ``code``; English (the source language) and an unknown code are the identity."""
    path = LOCALE_DIR / code / "LC_MESSAGES" / f"{DOMAIN}.po"
    if code == DEFAULT_LANGUAGE or not path.is_file():
        return gettext.NullTranslations()
    with path.open("rb") as source:
        catalog = read_po(source, locale=code, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)  # fuzzy entries are left out: a guess is not shown to people
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def _check(code: str) -> str:
    if code not in LANGUAGES:
        raise ValueError(f"no such language: {code!r} (known: {', '.join(LANGUAGES)})")
    return code


def _session_page() -> ft.Page | None:
    try:
        return ft.context.page
    except RuntimeError:  # no Flet session here: a test, the CLI, a background thread
        return None


def set_default_language(code: str) -> None:
    """The language outside any session, and of sessions that chose none."""
    global _default
    _default = _check(code)


def set_language(page: ft.Page, code: str) -> None:
    """Show this session in ``code`` from now on (the caller redraws its views)."""
    page.session.store.set(_SESSION_KEY, _check(code))


def language_of(page: ft.Page | None) -> str:
    if page is None:
        return _default
    try:
        chosen = page.session.store.get(_SESSION_KEY)
    except RuntimeError:  # a page whose session has ended
        return _default
    return chosen if isinstance(chosen, str) else _default


def current_language() -> str:
    return language_of(_session_page())


def locale_for(page: ft.Page | None) -> str:
    """The babel locale for numbers in ``page``'s language (``en_IN``, ``hi_IN``, ``pa_IN``)."""
    return LOCALES[language_of(page)]


def current_locale() -> str:
    return locale_for(_session_page())


def current_date_locale() -> str:
    """The babel locale for month and day names in the current session's language."""
    return DATE_LOCALES[current_language()]


def _(message: str) -> str:
    return translations(current_language()).gettext(message)


def N_(message: str) -> str:
    """Marks a constant for extraction; it is translated where it is shown, by ``_(constant)``."""
    return message


def ngettext(singular: str, plural: str, count: int) -> str:
    return translations(current_language()).ngettext(singular, plural, count)
