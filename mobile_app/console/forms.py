"""Forms of the console: the server's error shown beside the field it names, the rest above the form, and a Save
that sends one request and is disabled while it is on its way.

The server judges every value (docs/api.md "Errors"): a 422 lists the fields at fault (``details.errors[].loc``,
e.g. ``["body", "number"]``), and a refusal of a stored rule names its field in ``details`` (``field``, or the
field's own name as a key, e.g. ``{"number": "40012170"}`` with ``meter.number_taken``). Nothing on screen changes
but the messages when a save fails, and a save is one request, so there is nothing half-saved to undo.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

import flet as ft

from mobile_app.api.errors import ApiClientError
from mobile_app.i18n import N_, _
from mobile_app.ui.common import push_update

__all__ = ["EVERY", "Field", "Form", "Notice", "chosen", "field_errors", "filter_dropdown"]

T = TypeVar("T")
Field = ft.TextField | ft.Dropdown


def field_errors(error: ApiClientError, names: frozenset[str] | set[str]) -> tuple[dict[str, str], str]:
    """The messages to show beside the named fields, and the one to show above the form ("" when every message
    found its field)."""
    beside: dict[str, str] = {}
    unplaced: list[str] = []
    details = error.details
    for item in details.get("errors") or ():
        if not isinstance(item, dict):
            continue
        loc = [str(part) for part in item.get("loc") or ()]
        name = next((part for part in reversed(loc) if part in names), None)
        message = str(item.get("msg") or error.message)
        if name is not None:
            beside.setdefault(name, message)
        else:
            unplaced.append(f"{'.'.join(loc[1:]) or 'request'}: {message}")
    named = details.get("field")
    if isinstance(named, str) and named in names:
        beside.setdefault(named, error.message)
    elif not details.get("errors"):
        keyed = [key for key in details if key in names]
        if keyed:
            beside.setdefault(keyed[0], error.message)
    if not beside and not unplaced:
        unplaced.append(error.message)
    return beside, "; ".join(unplaced)


def _set_error(field: Field, message: str | None) -> None:
    if isinstance(field, ft.Dropdown):
        field.error_text = message
    else:
        field.error = message


EVERY = "all"  # a list filter's first option: nothing filtered out


def filter_dropdown(
    key: str, label: str, every: str, choices: Mapping[Any, str], on_select: Callable[..., Any]
) -> ft.Dropdown:
    """A list's filter: ``every`` (``EVERY``, nothing filtered) first, then ``choices`` (a key or a ``StrEnum``
    member → its untranslated words)."""
    return ft.Dropdown(
        label=label,
        tooltip=label,
        key=key,
        width=200,
        value=EVERY,
        options=[ft.DropdownOption(key=EVERY, text=every)]
        + [ft.DropdownOption(key=str(choice), text=_(words)) for choice, words in choices.items()],
        on_select=on_select,
    )


def chosen(dropdown: ft.Dropdown) -> str | None:
    """The filter's choice, None when it filters nothing."""
    return None if dropdown.value in (None, "", EVERY) else dropdown.value


class Notice(ft.Text):
    """What the last action did, in words, beside the button that did it. A line that stays, not a snack bar:
    saves follow each other quickly, and Flet 1.0.5 crashes the session when snack bars dismiss over each other
    ("Frozen controls cannot be updated")."""

    def __init__(self, key: str = "notice") -> None:
        super().__init__("", key=key)

    def say(self, text: str, *, error: bool = False) -> None:
        self.value = text
        self.color = ft.Colors.RED_700 if error else ft.Colors.GREEN_800
        push_update(self)


class Form(ft.Column):
    """``fields`` by the request's field names, laid out in ``rows`` (default: one row of all), a general error
    line above them and a Save button (key ``{name}_save``) below."""

    def __init__(
        self,
        name: str,
        fields: Mapping[str, Field],
        *,
        rows: list[list[str]] | None = None,
        save_label: str = N_("Save"),
        extra: list[ft.Control] | None = None,
        fallback: str | None = None,
    ) -> None:
        self.name = name
        self.fields = dict(fields)
        # The field that shows an error naming no field (a form of one big field: the tariff file's text).
        self.fallback = fallback
        self.general = ft.Text("", key=f"{name}_error", color=ft.Colors.RED_700, visible=False)
        self.save_button = ft.FilledButton(_(save_label), key=f"{name}_save")
        self.notice = Notice(f"{name}_notice")  # what the last save did
        layout = rows if rows is not None else [list(self.fields)]
        super().__init__(
            spacing=10,
            controls=[
                self.general,
                *(ft.Row([self.fields[n] for n in row], wrap=True) for row in layout),
                *(extra or []),
                ft.Row([self.save_button, self.notice]),
            ],
        )

    def text(self, name: str) -> str | None:
        """The field's value as typed, stripped; None when empty (the request leaves it out or unset)."""
        value = (self.fields[name].value or "").strip()
        return value or None

    def clear_errors(self) -> None:
        self.general.value = ""
        self.general.visible = False
        for field in self.fields.values():
            _set_error(field, None)

    def show_error(self, error: ApiClientError) -> None:
        beside, general = field_errors(error, set(self.fields))
        if general and self.fallback is not None and self.fallback not in beside:
            beside[self.fallback], general = general, ""
        for name, message in beside.items():
            _set_error(self.fields[name], message)
        self.general.value = general
        self.general.visible = bool(general)

    async def submit(self, send: Callable[[], Awaitable[T]]) -> T | None:
        """Send the form's one request; its answer, or None after showing why it was refused."""
        self.clear_errors()
        self.notice.value = ""
        self.save_button.disabled = True
        push_update(self)
        try:
            return await send()
        except ApiClientError as error:
            self.show_error(error)
            return None
        finally:
            self.save_button.disabled = False
            push_update(self)

    def on_save(self, handler: Callable[[ft.Event[Any]], Awaitable[None]]) -> None:
        self.save_button.on_click = handler
