"""Every UI string of the field app and the console goes through here (gettext catalogs, babel).

SCAFFOLD (issue 12): identity for now; the catalogs (English, Hindi, Punjabi), the per-session language and the
locale's number and date formats are being written. Use ``_("text")`` at the point of display, ``N_("text")`` to
mark a module-level constant that is translated where it is shown (``_(CONSTANT)``), and ``ngettext`` for counts.
"""

from __future__ import annotations

__all__ = ["N_", "_", "ngettext"]


def _(message: str) -> str:
    return message


def N_(message: str) -> str:
    return message


def ngettext(singular: str, plural: str, count: int) -> str:
    return singular if count == 1 else plural
