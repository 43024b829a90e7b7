"""The language of a Flet session: chosen per browser tab or phone, kept in the session's store.

``_()`` (mobile_app/i18n.py) is Flet-free; importing this module tells it to ask the current session first, through
``ft.context.page`` (a ContextVar Flet sets around ``main`` and every event handler).
"""

from __future__ import annotations

import flet as ft

from mobile_app import i18n

__all__ = ["language_of", "locale_for", "set_language"]

_SESSION_KEY = "fieldmeter.language"


def set_language(page: ft.Page, code: str) -> None:
    """Show this session in ``code`` from now on (the caller redraws its views)."""
    page.session.store.set(_SESSION_KEY, i18n.check_language(code))


def _chosen(page: ft.Page) -> str | None:
    try:
        chosen = page.session.store.get(_SESSION_KEY)
    except RuntimeError:  # a page whose session has ended
        return None
    return chosen if isinstance(chosen, str) else None


def language_of(page: ft.Page | None) -> str:
    return (_chosen(page) if page is not None else None) or i18n.current_language()


def locale_for(page: ft.Page | None) -> str:
    """The babel locale for numbers in ``page``'s language (``en_IN``, ``hi_IN``, ``pa_IN``)."""
    return i18n.LOCALES[language_of(page)]


def _current_session_language() -> str | None:
    try:
        page = ft.context.page
    except RuntimeError:  # no Flet session here: a test, the CLI, a background thread
        return None
    return _chosen(page) if page is not None else None


i18n.use_session_language(_current_session_language)
