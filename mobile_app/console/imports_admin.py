"""The admin's imports: the replaced system's master data or the opening position (readings, balances) chosen with
the file picker and sent to the server, which imports it in the background; a progress bar follows the job, then
the counts, every quarantined row (line, unit, why) and warning, and the quarantine report to save.

Nothing is judged here: the server refuses a file it cannot read (the message shows above the form) and
quarantines a bad row inside a good file, importing the rest.
"""

from __future__ import annotations

import asyncio
from pathlib import PurePath
from typing import Any

import flet as ft

from mobile_app.api.errors import ApiClientError
from mobile_app.console.client import AdminClient
from mobile_app.console.forms import Notice
from mobile_app.i18n import N_, _, ngettext
from mobile_app.ui.common import push_update, title
from shared_billing.api_models import ImportIssueOut, ImportJobOut
from shared_billing.protocol import ImportKind, ImportStatus

__all__ = ["ImportsView", "content_type_of"]

POLL_S = 0.5
KIND_LABELS = {
    ImportKind.MASTER: N_("Master data (JSON Lines)"),
    ImportKind.OPENING_READINGS: N_("Opening readings (CSV or XLSX)"),
    ImportKind.OPENING_BALANCES: N_("Opening balances (CSV or XLSX)"),
}
_TYPES = {
    ".jsonl": "application/json-lines",
    ".ndjson": "application/json-lines",
    ".json": "application/json-lines",
    ".csv": "text/csv",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".txt": "text/plain",
}


def content_type_of(file_name: str) -> str:
    """The Content-Type a file is sent with, by its extension (the server sniffs a workbook either way)."""
    return _TYPES.get(PurePath(file_name).suffix.lower(), "application/octet-stream")


def _issue_text(issue: ImportIssueOut) -> str:
    return _("Line {line} · {unit} · {reason}").format(line=issue.line, unit=issue.unit_id or "—", reason=issue.reason)


class ImportsView(ft.Column):
    def __init__(self, client: AdminClient) -> None:
        self.client = client
        self.picker = ft.FilePicker()  # kept: Flet drops services nobody references
        self.file_name: str | None = None
        self.data: bytes | None = None
        self.job: ImportJobOut | None = None
        self.kind = ft.Dropdown(
            label=_("What to import"),
            key="import_kind",
            width=300,
            value=ImportKind.MASTER.value,
            options=[ft.DropdownOption(key=kind.value, text=_(label)) for kind, label in KIND_LABELS.items()],
        )
        self.tariff = ft.TextField(label=_("Tariff code (master data, optional)"), key="import_tariff", width=260)
        self.dry_run = ft.Checkbox(label=_("Dry run: report only, write nothing"), key="import_dry_run", value=False)
        self.chosen = ft.Text(_("No file chosen"), key="import_file")
        self.error = ft.Text("", key="import_error", color=ft.Colors.RED_700, visible=False)
        self.upload_button = ft.FilledButton(
            _("Upload"), icon=ft.Icons.CLOUD_UPLOAD, key="import_upload", disabled=True, on_click=self._upload
        )
        self.progress = ft.ProgressBar(value=0, width=420, key="import_progress", visible=False)
        self.status = ft.Text("", key="import_status")
        self.counts = ft.Column(spacing=2, key="import_counts")
        self.quarantined = ft.Column(spacing=2, key="import_quarantined")
        self.warnings = ft.Column(spacing=2, key="import_warnings")
        self.report_button = ft.OutlinedButton(
            _("Save quarantine report (CSV)"),
            icon=ft.Icons.DOWNLOAD,
            key="import_report",
            visible=False,
            on_click=self._save_report,
        )
        self.notice = Notice("import_notice")
        super().__init__(
            spacing=12,
            controls=[
                title(_("Import")),
                ft.Text(
                    _(
                        "Bring records over from the system Fieldmeter replaces (docs/operations.md). A bad row is "
                        "quarantined with its reason and the rest imported; the same file again changes nothing."
                    ),
                    size=12,
                ),
                self.error,
                ft.Row([self.kind, self.tariff], wrap=True),
                self.dry_run,
                ft.Row(
                    [
                        ft.OutlinedButton(
                            _("Choose file…"), icon=ft.Icons.UPLOAD_FILE, key="import_pick", on_click=self._pick
                        ),
                        self.chosen,
                    ]
                ),
                ft.Row([self.upload_button, self.notice]),
                self.progress,
                self.status,
                self.counts,
                self.quarantined,
                self.warnings,
                self.report_button,
            ],
        )

    async def load(self) -> None:
        """Nothing to fetch: the screen shows the import started from it."""

    async def _pick(self, _event: ft.Event[Any]) -> None:
        files = await self.picker.pick_files(
            dialog_title=_("File to import"),
            file_type=ft.FilePickerFileType.CUSTOM,
            allowed_extensions=["jsonl", "ndjson", "json", "csv", "xlsx", "txt"],
            with_data=True,
        )
        if not files or files[0].bytes is None:
            return
        self.file_name, self.data = files[0].name, bytes(files[0].bytes)
        self.chosen.value = ngettext(
            "{name} · {count} byte, not uploaded yet", "{name} · {count} bytes, not uploaded yet", len(self.data)
        ).format(name=self.file_name, count=len(self.data))
        self.upload_button.disabled = False
        push_update(self)

    async def _upload(self, _event: ft.Event[Any]) -> None:
        if self.data is None or self.file_name is None:
            return
        kind = ImportKind(self.kind.value or ImportKind.MASTER.value)
        self._clear()
        self.upload_button.disabled = True
        push_update(self)
        try:
            job = await self.client.start_import(
                kind,
                self.data,
                file_name=self.file_name,
                content_type=content_type_of(self.file_name),
                dry_run=bool(self.dry_run.value),
                tariff=(self.tariff.value or "").strip() or None,
            )
            self.progress.visible = True
            while job.status == ImportStatus.RUNNING:
                self._show_progress(job)
                push_update(self)
                await asyncio.sleep(POLL_S)
                job = await self.client.import_job(job.id)
            self._show_progress(job)
            self._show_outcome(job)
        except ApiClientError as error:
            self.error.value, self.error.visible = error.message, True
        finally:
            self.upload_button.disabled = False
        push_update(self)

    def _clear(self) -> None:
        self.job = None
        self.error.value, self.error.visible = "", False
        self.notice.value = ""
        self.status.value = ""
        self.progress.value = 0
        self.counts.controls = []
        self.quarantined.controls = []
        self.warnings.controls = []
        self.report_button.visible = False

    def _show_progress(self, job: ImportJobOut) -> None:
        running = job.status == ImportStatus.RUNNING
        self.progress.value = job.processed / job.total if job.total else (0.0 if running else 1.0)
        self.status.value = ngettext(
            "{done} of {total} row · {status}", "{done} of {total} rows · {status}", job.total
        ).format(done=job.processed, total=job.total, status=job.status)

    def _show_outcome(self, job: ImportJobOut) -> None:
        self.job = job
        if job.status == ImportStatus.FAILED:
            self.notice.say(_("The import failed: {error}").format(error=job.error), error=True)
            return
        report = job.report
        if report is None:
            return
        count = len(report.quarantined)
        if job.dry_run:
            done = ngettext(
                "Dry run of {name}: {count} row quarantined", "Dry run of {name}: {count} rows quarantined", count
            )
        else:
            done = ngettext(
                "Imported {name}: {count} row quarantined", "Imported {name}: {count} rows quarantined", count
            )
        self.notice.say(done.format(name=job.file_name, count=count))
        self.counts.controls = [
            ft.Text(f"{name.replace('_', ' ')}: {count}", key=f"import_count-{name}")
            for name, count in report.counts.items()
        ]
        self.quarantined.controls = [
            ft.Text(_("Quarantined ({count})").format(count=len(report.quarantined)), weight=ft.FontWeight.BOLD),
            *(
                ft.Text(_issue_text(issue), key=f"quarantined-{index}", color=ft.Colors.RED_700, size=12)
                for index, issue in enumerate(report.quarantined)
            ),
        ]
        self.warnings.controls = [
            ft.Text(_("Warnings ({count})").format(count=len(report.warnings)), weight=ft.FontWeight.BOLD),
            *(
                ft.Text(_issue_text(issue), key=f"warning-{index}", size=12)
                for index, issue in enumerate(report.warnings)
            ),
        ]
        self.report_button.visible = bool(report.quarantined)

    async def _save_report(self, _event: ft.Event[Any]) -> None:
        job = self.job
        if job is None:
            return
        try:
            data = await self.client.import_quarantine_csv(job.id)
        except ApiClientError as error:
            self.notice.say(error.message, error=True)
            return
        await self.picker.save_file(
            dialog_title=_("Quarantine report"), file_name=f"import-{job.id}-quarantine.csv", src_bytes=data
        )
