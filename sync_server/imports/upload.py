"""An import file as it arrives over HTTP: refused at once when it cannot be what its kind of import reads
(empty, of another type, not text, not a workbook), so the admin hears it in the answer, not in a failed job.

Pure: the declared type, the name and the bytes in; the file's name to keep, or a ``Problem``. Whether each row
makes sense is the importer's business (a bad row is quarantined in the report, the rest imported).
"""

from __future__ import annotations

import re

from sync_server.models import ImportKind
from sync_server.problems import Problem

__all__ = ["ACCEPTED_TYPES", "TABLE_TYPES", "XLSX", "check_table_upload", "check_upload", "clean_file_name"]

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_JSON_LINES = ("application/json-lines", "application/jsonl", "application/x-ndjson", "application/x-jsonlines")
_ANY = "application/octet-stream"  # a browser that does not know the file's type sends this
#: What a CSV or workbook arrives as (a bank statement too: ``check_table_upload``).
TABLE_TYPES = frozenset({"text/csv", "text/plain", XLSX, _ANY})
#: The Content-Types each kind takes (the master file is JSON Lines; the opening position a CSV or a workbook).
ACCEPTED_TYPES: dict[ImportKind, frozenset[str]] = {
    ImportKind.MASTER: frozenset({*_JSON_LINES, "text/plain", _ANY}),
    ImportKind.OPENING_READINGS: TABLE_TYPES,
    ImportKind.OPENING_BALANCES: TABLE_TYPES,
}
_ZIP_MAGIC = b"PK\x03\x04"  # an XLSX workbook is a zip archive
_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\]")
MAX_NAME = 200


def clean_file_name(name: str | None) -> str:
    """The name to show for the file: its last path part, control characters and slashes dropped, bounded."""
    base = re.split(r"[/\\]", (name or "").strip())[-1]
    cleaned = _UNSAFE.sub("", base).strip()
    return cleaned[:MAX_NAME] or "upload"


def check_upload(kind: ImportKind, content_type: str, data: bytes) -> None:
    """Refuse a file ``kind`` cannot read: 422 ``import.empty_file``, 415 ``import.unsupported_type``, 422
    ``import.unreadable`` (text that is not UTF-8, a workbook that is not one)."""
    workbook = _check(ACCEPTED_TYPES[kind], f"A {kind.value} import", content_type, data)
    if workbook:
        if kind == ImportKind.MASTER:
            raise Problem("import.unreadable", "The master-data file is JSON Lines text, not a workbook")
        return
    _check_text(data)


def check_table_upload(what: str, content_type: str, data: bytes) -> None:
    """``check_upload`` for a CSV or XLSX file other than an import kind's (``what`` names it in messages)."""
    if not _check(TABLE_TYPES, what, content_type, data):
        _check_text(data)


def _check(accepted: frozenset[str], what: str, content_type: str, data: bytes) -> bool:
    """The declared type and the bytes' first look; True for a workbook."""
    declared = content_type.split(";")[0].strip().lower() or _ANY
    if declared not in accepted:
        allowed = ", ".join(sorted(accepted))
        raise Problem(
            "import.unsupported_type",
            f"{what} takes {allowed}; this file is {declared}",
            {"content_type": declared, "accepted": sorted(accepted)},
        )
    if not data.strip():
        raise Problem("import.empty_file", "The file is empty: choose the file again")
    workbook = data.startswith(_ZIP_MAGIC)
    if declared == XLSX and not workbook:
        raise Problem("import.unreadable", "The file is not an XLSX workbook (save it from the spreadsheet again)")
    return workbook


def _check_text(data: bytes) -> None:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise Problem(
            "import.unreadable", f"The file is not UTF-8 text (line {line}): save it as UTF-8", {"line": line}
        ) from None
