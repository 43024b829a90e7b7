"""The admin's tariffs: upload a tariff file (chosen with the file picker or pasted), its versions with their dates,
and a version assigned to units (by their codes) or to every unit of a type (optionally of one category).

The server parses the file (docs/tariff-format.md) and refuses a bad one whole, naming the line at fault: that
message is shown beside the text, which stays as it was so the line can be found and fixed.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import flet as ft

from mobile_app.api.errors import ApiError
from mobile_app.console.client import AdminClient
from mobile_app.console.forms import Form
from mobile_app.console.paged_list import PagedList
from mobile_app.console.premises_admin import choices
from mobile_app.i18n import _, ngettext
from mobile_app.ui.common import day, push_update, title
from shared_billing.api_models import TariffAssigned, TariffAssignmentIn, TariffOut
from shared_billing.protocol import UnitCategory

__all__ = ["TariffsView"]


class TariffsView(ft.Column):
    def __init__(self, client: AdminClient) -> None:
        self.client = client
        self.picker = ft.FilePicker()  # kept: Flet drops services nobody references
        self.file_text = ft.TextField(
            label=_("Tariff file (TOML)"),
            key="tariff_text",
            multiline=True,
            min_lines=8,
            max_lines=16,
            width=720,
            text_style=ft.TextStyle(font_family="monospace", size=12),
            hint_text=_("Paste the file here, or choose it"),
        )
        self.form = Form(
            "tariff",
            {"text": self.file_text},
            save_label=_("Upload"),
            fallback="text",
            extra=[
                ft.OutlinedButton(_("Choose file…"), icon=ft.Icons.UPLOAD_FILE, key="tariff_pick", on_click=self._pick)
            ],
        )
        self.form.on_save(self._upload)
        self.list = PagedList(
            "tariffs", client.tariff_page, self._row, hint=_("Search tariffs"), empty=_("No tariffs yet")
        )
        self.assigning: TariffOut | None = None
        self.assign_heading = ft.Text("", weight=ft.FontWeight.BOLD, key="assign_heading")
        self.assign_form = Form(
            "assign",
            {
                "unit_codes": ft.TextField(label=_("Unit codes (comma-separated)"), key="assign_units", width=360),
                "unit_type": ft.TextField(label=_("or every unit of type"), key="assign_type", width=200),
                "category": ft.Dropdown(
                    label=_("of category"),
                    key="assign_category",
                    width=180,
                    options=choices([(c.value, c.value) for c in UnitCategory], none=_("any")),
                ),
                "reason": ft.TextField(label=_("Reason"), key="assign_reason", width=320),
            },
            rows=[["unit_codes"], ["unit_type", "category"], ["reason"]],
            save_label=_("Assign tariff"),
        )
        self.assign_form.on_save(self._assign)
        self.assign_panel = ft.Column([self.assign_heading, self.assign_form], visible=False)
        super().__init__(
            spacing=12,
            controls=[
                title(_("Tariffs")),
                ft.Text(_("Upload a tariff file (docs/tariff-format.md): every version in it is stored."), size=12),
                self.form,
                ft.Text(_("Versions"), weight=ft.FontWeight.BOLD),
                self.list,
                self.assign_panel,
            ],
        )

    async def load(self) -> None:
        await self.list.load()

    async def _pick(self, _event: ft.Event[Any]) -> None:
        files = await self.picker.pick_files(
            dialog_title=_("Tariff file"),
            file_type=ft.FilePickerFileType.CUSTOM,
            allowed_extensions=["toml", "txt"],
            with_data=True,
        )
        if not files or files[0].bytes is None:
            return
        text = bytes(files[0].bytes).decode("utf-8", errors="replace")
        self.file_text.value = text
        self.form.clear_errors()
        lines = len(text.splitlines())
        self.form.notice.say(
            ngettext(
                "Loaded {name}: {count} line, not uploaded yet", "Loaded {name}: {count} lines, not uploaded yet", lines
            ).format(name=files[0].name, count=lines)
        )
        push_update(self)

    async def _upload(self, _event: ft.Event[Any]) -> None:
        text = self.file_text.value or ""
        stored = await self.form.submit(lambda: self.client.import_tariff(text))
        if stored is None:
            return
        self.file_text.value = ""
        self.form.notice.say(
            ngettext("Stored {count} tariff version", "Stored {count} tariff versions", len(stored)).format(
                count=len(stored)
            )
        )
        await self.list.load()

    def _row(self, tariff: TariffOut) -> ft.Control:
        return ft.Row(
            [
                ft.Text(
                    _("{code} · {name} · from {day}").format(
                        code=tariff.code, name=tariff.name, day=day(tariff.valid_from)
                    ),
                    key=f"tariff-{tariff.id}",
                ),
                ft.TextButton(_("Assign…"), key=f"assign-{tariff.id}", on_click=partial(self._show_assign, tariff)),
            ]
        )

    async def _show_assign(self, tariff: TariffOut, _event: ft.Event[Any] | None = None) -> None:
        self.assigning = tariff
        self.assign_heading.value = _("Assign {code} (from {day})").format(code=tariff.code, day=day(tariff.valid_from))
        self.assign_form.clear_errors()
        self.assign_panel.visible = True
        push_update(self)

    async def _assign(self, _event: ft.Event[Any]) -> None:
        tariff = self.assigning
        if tariff is None:
            return
        form = self.assign_form
        codes = [code.strip() for code in (form.text("unit_codes") or "").split(",") if code.strip()]

        async def send() -> TariffAssigned:
            unit_ids: list[int] = []
            for code in codes:
                found = await self.client.unit_page(code, 50, 0)
                unit = next((u for u in found.items if u.code == code), None)
                if unit is None:
                    raise ApiError(422, "unit.not_found", f"No unit {code!r}", {"field": "unit_codes"})
                unit_ids.append(unit.id)
            typed: dict[str, Any] = {
                "unit_ids": unit_ids or None,
                "unit_type": form.text("unit_type"),
                "category": form.text("category"),
                "reason": form.text("reason") or "",
            }
            return await self.client.assign_tariff(tariff.id, TariffAssignmentIn.model_construct(**typed))

        assigned = await form.submit(send)
        if assigned is not None:
            count = len(assigned.unit_ids)
            form.notice.say(
                ngettext("{count} unit now on {code}", "{count} units now on {code}", count).format(
                    count=count, code=tariff.code
                )
            )
