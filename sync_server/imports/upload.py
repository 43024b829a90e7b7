"""An import file as it arrives over HTTP: refused at once when it cannot be what its kind of import reads
(empty, of another type, not text, not a workbook), so the admin hears it in the answer, not in a failed job.

Pure: the declared type, the name and the bytes in; the file's name to keep, or a ``Problem``. Whether each row
makes sense is the importer's business (a bad row is quarantined in the report, the rest imported).
"""

from __future__ import annotations

import re

from sync_server.models import ImportKind
from sync_server.problems import Problem

__all__ = ["ACCEPTED_TYPES", "XLSX", "check_upload", "clean_file_name"]

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_JSON_LINES = ("application/json-lines", "application/jsonl", "application/x-ndjson", "application/x-jsonlines")
_ANY = "application/octet-stream"  # a browser that does not know the file's type sends this
#: The Content-Types each kind takes (the master file is JSON Lines; the opening position a CSV or a workbook).
ACCEPTED_TYPES: dict[ImportKind, frozenset[str]] = {
    ImportKind.MASTER: frozenset({*_JSON_LINES, "text/plain", _ANY}),
    ImportKind.OPENING_READINGS: frozenset({"text/csv", "text/plain", XLSX, _ANY}),
    ImportKind.OPENING_BALANCES: frozenset({"text/csv", "text/plain", XLSX, _ANY}),
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
    declared = content_type.split(";")[0].strip().lower() or _ANY
    accepted = ACCEPTED_TYPES[kind]
    if declared not in accepted:
        allowed = ", ".join(sorted(accepted))
        raise Problem(
            "import.unsupported_type",
            f"A {kind.value} import takes {allowed}; this file is {declared}",
            {"content_type": declared, "accepted": sorted(accepted)},
        )
    if not data.strip():
        raise Problem("import.empty_file", "The file is empty: choose the file again")
    workbook = data.startswith(_ZIP_MAGIC)
    if declared == XLSX and not workbook:
        raise Problem("import.unreadable", "The file is not an XLSX workbook (save it from the spreadsheet again)")
    if workbook:
        if kind == ImportKind.MASTER:
            raise Problem("import.unreadable", "The master-data file is JSON Lines text, not a workbook")
        return
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise Problem(
            "import.unreadable", f"The file is not UTF-8 text (line {line}): save it as UTF-8", {"line": line}
        ) from None
