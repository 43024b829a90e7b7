"""``fieldmeter import master FILE.jsonl``: the replaced system's master data into the directory (docs/operations.md
"Importing master data")."""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from sync_server.commands.options import ActingAs, DataDir, DryRun, ReportPath, read_input_file, settings_from
from sync_server.commands.progress import terminal_progress
from sync_server.imports.report import ImportReport

__all__ = ["master"]

_MAX_BYTES = 64 * 1024 * 1024  # far above any society's master data; refuses a wrong file before reading it all


def _summary(report: ImportReport) -> str:
    counts = report.counts
    lines = [
        ("Dry run: nothing was written. " if report.dry_run else "")
        + f"Units: {counts['units_imported']} imported, {counts['units_updated']} updated, "
        f"{counts['units_unchanged']} unchanged; meters created: {counts['meters_created']}; "
        f"shared meters: {counts['shared_meters']}.",
        f"Quarantined: {len(report.quarantined)} line(s); warnings: {len(report.warnings)}.",
    ]
    for title, issues in (("Quarantined (not imported)", report.quarantined), ("Warnings", report.warnings)):
        if issues:
            lines.append(f"{title}:")
            lines += [f"  line {issue.line} {issue.unit_id or '-'}: {issue.reason}" for issue in issues]
    return "\n".join(lines)


def master(
    file: Annotated[Path, typer.Argument(help="The master-data file (JSON lines)", show_default=False)],
    dry_run: DryRun = False,
    report_path: ReportPath = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON")] = False,
    tariff: Annotated[
        str | None, typer.Option("--tariff", help="Bill new units on this stored tariff (its code, e.g. BLESSINGS)")
    ] = None,
    members_from: Annotated[
        str | None, typer.Option("--members-from", help="Motors' flats share them from this day (default today)")
    ] = None,
    data_dir: DataDir = None,
    acting_as: ActingAs = None,
) -> None:
    """Import the replaced system's master-data file: blocks, units, meters, motors and their flats.

    Exit code 0 when the file was read (quarantined lines are in the report), 2 when it cannot be used.
    """
    from sqlalchemy.exc import SQLAlchemyError

    from sync_server.commands.actor import acting_admin
    from sync_server.db import engine_for
    from sync_server.imports.master_apply import import_master
    from sync_server.problems import Problem

    try:
        first_day = date.fromisoformat(members_from) if members_from is not None else None
    except ValueError:
        raise typer.BadParameter("a day is YYYY-MM-DD", param_hint="--members-from") from None
    data = read_input_file(file, max_bytes=_MAX_BYTES, kind="a master-data file")
    settings = settings_from(data_dir)
    engine = engine_for(settings)
    try:
        actor = acting_admin(engine, acting_as)
        with terminal_progress(sys.stderr.isatty() and not as_json) as progress:
            report = import_master(
                engine,
                data,
                actor=actor,
                now=settings.clock()(),
                tz=settings.tz,
                dry_run=dry_run,
                progress=progress,
                members_from=first_day,
                tariff_code=tariff,
            )
    except Problem as problem:
        typer.echo(f"{file}: {problem.message}", err=True)
        raise typer.Exit(2) from None
    except SQLAlchemyError as error:
        # The error's class only: its text can carry SQL and connection details.
        typer.echo(f"cannot write to the database ({type(error).__name__}); is the schema migrated?", err=True)
        raise typer.Exit(2) from None
    finally:
        engine.dispose()
    if report_path is not None:
        report_path.write_text(report.quarantine_csv(), encoding="utf-8")
    if as_json:
        typer.echo(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    else:
        typer.echo(_summary(report))
