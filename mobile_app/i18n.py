"""Every UI string of the field app and the console goes through here (gettext catalogs, babel).

Use ``_("text")`` at the point of display, ``N_("text")`` to mark a module-level constant that is translated where
it is shown (``_(CONSTANT)``), and ``ngettext`` for counts; docs/languages.md says how catalogs are updated.

The language belongs to a Flet session, not to the process: the console serves many browsers at once, each in its
own language. This module stays Flet-free (the capture rules and the field service translate too, and must run
without a UI), so the session's language comes from a source the UI registers (mobile_app/ui/languages.py reads it
from the current Flet session); outside a session (tests, the CLI, a background thread) the process default
applies. The catalogs are the ``.po`` files themselves, compiled in memory on first use:
no build step, and nothing generated to keep in step with them.
"""

from __future__ import annotations

import gettext
import io
from collections.abc import Callable
from functools import cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

__all__ = [
    "CATALOG_DOMAIN",
    "DATE_LOCALES",
    "DEFAULT_LANGUAGE",
    "LANGUAGES",
    "LOCALES",
    "LOCALE_DIR",
    "N_",
    "_",
    "check_language",
    "current_date_locale",
    "current_language",
    "current_locale",
    "ngettext",
    "set_default_language",
    "translations",
    "use_session_language",
]

CATALOG_DOMAIN = "fieldmeter"
LOCALE_DIR = Path(__file__).resolve().parent / "locales"
DEFAULT_LANGUAGE = "en"
# Each language's name in its own script: someone who cannot read the current language still finds their own.
LANGUAGES: dict[str, str] = {"en": "English", "hi": "हिन्दी", "pa": "ਪੰਜਾਬੀ"}
# Numbers and dates: Indian grouping (12,34,567) in every language. English dates keep CLDR's plain English month
# abbreviations ("Sep"; en_IN says "Sept"), so English output reads as it always has.
LOCALES: dict[str, str] = {"en": "en_IN", "hi": "hi_IN", "pa": "pa_IN"}
DATE_LOCALES: dict[str, str] = {"en": "en", "hi": "hi_IN", "pa": "pa_IN"}

_default = DEFAULT_LANGUAGE


def _no_session() -> str | None:
    return None


_session_language: Callable[[], str | None] = _no_session


@cache
def translations(code: str) -> gettext.NullTranslations:
    """The compiled catalog of ``code``; English (the source language) and an unknown code are the identity."""
    path = LOCALE_DIR / code / "LC_MESSAGES" / f"{CATALOG_DOMAIN}.po"
    if code == DEFAULT_LANGUAGE or not path.is_file():
        return gettext.NullTranslations()
    with path.open("rb") as source:
        catalog = read_po(source, locale=code, domain=CATALOG_DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)  # fuzzy entries are left out: a guess is not shown to people
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def check_language(code: str) -> str:
    if code not in LANGUAGES:
        raise ValueError(f"no such language: {code!r} (known: {', '.join(LANGUAGES)})")
    return code


def use_session_language(source: Callable[[], str | None]) -> None:
    """Where ``_()`` asks for the current session's language (None: no session, or none chosen there)."""
    global _session_language
    _session_language = source


def set_default_language(code: str) -> None:
    """The language outside any session, and of sessions that chose none."""
    global _default
    _default = check_language(code)


def current_language() -> str:
    return _session_language() or _default


def current_locale() -> str:
    """The babel locale for numbers in the current language (``en_IN``, ``hi_IN``, ``pa_IN``)."""
    return LOCALES[current_language()]


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
