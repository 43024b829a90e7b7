"""What an import did, shared by the command line (``--json``, ``--report``), the API and the console."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["ImportReport", "Progress", "RowIssue", "no_progress"]

#: Called as rows are applied: (rows done, rows in all). Long imports show it as a progress bar.
Progress = Callable[[int, int], None]


def no_progress(_done: int, _total: int) -> None:
    """The progress callback of an import nobody watches."""


@dataclass(frozen=True)
class RowIssue:
    """A line of the source file that was quarantined (not imported) or imported with a warning."""

    line: int  # 1-based line of the file (a CSV's header is line 1)
    unit_id: str | None  # the row's unit (or meter) as the source names it, when it could be read
    reason: str

    def to_dict(self) -> dict[str, object]:
        return {"line": self.line, "unit_id": self.unit_id, "reason": self.reason}


@dataclass
class ImportReport:
    """``counts`` keys are the import's own (e.g. master data: units_imported, units_updated, units_unchanged,
    meters_created, shared_meters); ``to_dict`` puts them beside ``quarantined`` and ``warnings``."""

    kind: str
    dry_run: bool
    counts: dict[str, int] = field(default_factory=dict)
    quarantined: list[RowIssue] = field(default_factory=list)
    warnings: list[RowIssue] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        return {
            **self.counts,
            "quarantined": [issue.to_dict() for issue in self.quarantined],
            "warnings": [issue.to_dict() for issue in self.warnings],
        }

    def quarantine_csv(self) -> str:
        """The clerk's list of rows to fix in the source: one row per quarantined line, and why."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["line", "unit_id", "reason"])
        for issue in sorted(self.quarantined, key=lambda issue: issue.line):
            writer.writerow([issue.line, issue.unit_id or "", issue.reason])
        return out.getvalue()
