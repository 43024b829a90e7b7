"""The admin's tariffs: upload a tariff file (chosen with the file picker or pasted), its versions with their dates.

The server parses the file (docs/tariff-format.md) and refuses a bad one whole, naming the line at fault: that
message is shown beside the text, which stays as it was so the line can be found and fixed.
"""

from __future__ import annotations

from typing import Any

import flet as ft

from mobile_app.console.client import AdminClient
from mobile_app.console.forms import Form
from mobile_app.console.paged_list import PagedList
from mobile_app.ui.common import day, plural, push_update, title
from shared_billing.api_models import TariffOut

__all__ = ["TariffsView"]


def tariff_row(tariff: TariffOut) -> ft.Control:
    return ft.Text(f"{tariff.code} · {tariff.name} · from {day(tariff.valid_from)}", key=f"tariff-{tariff.id}")


class TariffsView(ft.Column):
    def __init__(self, client: AdminClient) -> None:
        self.client = client
        self.picker = ft.FilePicker()  # kept: Flet drops services nobody references
        self.file_text = ft.TextField(
            label="Tariff file (TOML)",
            key="tariff_text",
            multiline=True,
            min_lines=8,
            max_lines=16,
            width=720,
            text_style=ft.TextStyle(font_family="monospace", size=12),
            hint_text="Paste the file here, or choose it",
        )
        self.form = Form(
            "tariff",
            {"text": self.file_text},
            save_label="Upload",
            fallback="text",
            extra=[
                ft.OutlinedButton("Choose file…", icon=ft.Icons.UPLOAD_FILE, key="tariff_pick", on_click=self._pick)
            ],
        )
        self.form.on_save(self._upload)
        self.list = PagedList("tariffs", client.tariff_page, tariff_row, hint="Search tariffs", empty="No tariffs yet")
        super().__init__(
            spacing=12,
            controls=[
                title("Tariffs"),
                ft.Text("Upload a tariff file (docs/tariff-format.md): every version in it is stored.", size=12),
                self.form,
                ft.Text("Versions", weight=ft.FontWeight.BOLD),
                self.list,
            ],
        )

    async def load(self) -> None:
        await self.list.load()

    async def _pick(self, _event: ft.Event[Any]) -> None:
        files = await self.picker.pick_files(
            dialog_title="Tariff file",
            file_type=ft.FilePickerFileType.CUSTOM,
            allowed_extensions=["toml", "txt"],
            with_data=True,
        )
        if not files or files[0].bytes is None:
            return
        text = bytes(files[0].bytes).decode("utf-8", errors="replace")
        self.file_text.value = text
        self.form.clear_errors()
        self.form.notice.say(f"Loaded {files[0].name}: {plural(len(text.splitlines()), 'line')}, not uploaded yet")
        push_update(self)

    async def _upload(self, _event: ft.Event[Any]) -> None:
        text = self.file_text.value or ""
        stored = await self.form.submit(lambda: self.client.import_tariff(text))
        if stored is None:
            return
        self.file_text.value = ""
        self.form.notice.say(f"Stored {plural(len(stored), 'tariff version')}")
        await self.list.load()
