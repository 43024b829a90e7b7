"""``fieldmeter import openings [--readings FILE] [--balances FILE]``: the opening position (each meter's last
reading, each unit's balance) from the system Fieldmeter replaces (docs/operations.md "Opening position")."""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from sync_server.commands.options import ActingAs, DataDir, DryRun, ReportPath, read_input_file, settings_from
from sync_server.commands.progress import terminal_progress
from sync_server.imports.report import ImportReport

__all__ = ["openings"]

_MAX_BYTES = 32 * 1024 * 1024  # far above any society's opening position; refuses a wrong file before reading it
_TITLES = {"opening_readings": "Opening readings", "opening_balances": "Opening balances"}


def _summary(report: ImportReport) -> str:
    imported, updated, unchanged = report.counts.values()
    lines = [
        f"{_TITLES[report.kind]}: {imported} imported, {updated} updated, {unchanged} unchanged; "
        f"quarantined: {len(report.quarantined)} line(s)."
    ]
    lines += [f"  line {issue.line} {issue.unit_id or '-'}: {issue.reason}" for issue in report.quarantined]
    return "\n".join(lines)


def _quarantine_csv(reports: dict[Path, ImportReport]) -> str:
    """The clerk's list of rows to fix: the file each came from, its line, the meter or unit, and why."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["file", "line", "unit_id", "reason"])
    for path, report in reports.items():
        for issue in sorted(report.quarantined, key=lambda issue: issue.line):
            writer.writerow([path.name, issue.line, issue.unit_id or "", issue.reason])
    return out.getvalue()


def openings(
    readings: Annotated[
        Path | None, typer.Option("--readings", help="CSV or XLSX of opening readings: meter, date, value")
    ] = None,
    balances: Annotated[
        Path | None, typer.Option("--balances", help="CSV or XLSX of opening balances: unit, amount[, date]")
    ] = None,
    dry_run: DryRun = False,
    report_path: ReportPath = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the reports as JSON")] = False,
    data_dir: DataDir = None,
    acting_as: ActingAs = None,
) -> None:
    """Import opening readings and balances, so the first month bills from real history and arrears.

    Readings are imported before balances, each file in its own transaction. Exit code 0 when the files were read
    (quarantined lines are in the report), 2 when one cannot be used (a file read before it stays imported).
    """
    from sqlalchemy.exc import SQLAlchemyError

    from sync_server.commands.actor import acting_admin
    from sync_server.db import engine_for
    from sync_server.imports.openings import import_opening_balances, import_opening_readings
    from sync_server.problems import Problem

    files = [
        (path, importer)
        for path, importer in ((readings, import_opening_readings), (balances, import_opening_balances))
        if path is not None
    ]
    if not files:
        raise typer.BadParameter("give --readings FILE, --balances FILE or both", param_hint="--readings/--balances")
    data = [
        (path, read_input_file(path, max_bytes=_MAX_BYTES, kind="an opening-position file"), importer)
        for path, importer in files
    ]
    settings = settings_from(data_dir)
    engine = engine_for(settings)
    reports: dict[Path, ImportReport] = {}
    failure: str | None = None
    try:
        actor = acting_admin(engine, acting_as)
        for path, content, importer in data:
            with terminal_progress(sys.stderr.isatty() and not as_json) as progress:
                try:
                    reports[path] = importer(
                        engine,
                        content,
                        actor=actor,
                        now=settings.clock()(),
                        tz=settings.tz,
                        dry_run=dry_run,
                        progress=progress,
                    )
                except Problem as problem:
                    failure = f"{path}: {problem.message}"
                    break
    except SQLAlchemyError as error:
        # The error's class only: its text can carry SQL and connection details.
        typer.echo(f"cannot write to the database ({type(error).__name__}); is the schema migrated?", err=True)
        raise typer.Exit(2) from None
    finally:
        engine.dispose()
    if report_path is not None and reports:
        report_path.write_text(_quarantine_csv(reports), encoding="utf-8")
    if as_json:
        body: dict[str, object] = {"dry_run": dry_run}
        body.update({report.kind: report.to_dict() for report in reports.values()})
        typer.echo(json.dumps(body, ensure_ascii=False, indent=2))
    elif reports:
        typer.echo(("Dry run: nothing was written.\n" if dry_run else "") + "\n".join(map(_summary, reports.values())))
    if failure is not None:
        typer.echo(failure, err=True)
        raise typer.Exit(2)
