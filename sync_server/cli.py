"""The ``fieldmeter`` command: ``serve`` (the sync server and browser app), ``migrate``, ``quote`` (price a bill),
``audit verify`` (check the audit log's chain), ``import`` (records of the replaced system), ``backup`` and
``restore``, ``user`` (accounts from the shell)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from sync_server.clock import OffsetClock
from sync_server.commands.backups import backup, restore
from sync_server.commands.imports import import_app
from sync_server.commands.options import DataDir, Host, Port, settings_from
from sync_server.commands.users import user_app

app = typer.Typer(help="Fieldmeter: meter reading and billing.", no_args_is_help=True, add_completion=False)
audit_app = typer.Typer(help="The audit log.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")
app.add_typer(import_app, name="import")
app.add_typer(user_app, name="user")
app.command("backup")(backup)
app.command("restore")(restore)

Workers = Annotated[
    int,
    typer.Option(
        "--workers",
        min=1,
        envvar="FIELDMETER_WORKERS",
        help="Server processes sharing the port (more than 1 needs PostgreSQL)",
    ),
]


@app.command()
def serve(
    data_dir: DataDir = None,
    host: Host = None,
    port: Port = None,
    demo: Annotated[bool, typer.Option("--demo", help="Seed a demo society into an empty database")] = False,
    workers: Workers = 1,
) -> None:
    """Run the sync server (API under /api).

    Migrations, the generated secret and the demo seed are done once, here, before any worker starts serving.
    Exit code 2 when --workers asks for more than one process on SQLite.
    """
    import uvicorn

    from sync_server.demo import DEMO_PASSWORD, DEMO_USERS
    from sync_server.main import create_app
    from sync_server.serving import APP_FACTORY, export_to_environment, prepare, workers_refusal

    settings = settings_from(data_dir, host, port)
    refusal = workers_refusal(settings, workers)
    if refusal is not None:
        typer.echo(refusal, err=True)
        raise typer.Exit(2)
    seeded = prepare(settings, demo=demo)
    if seeded is not None:
        typer.echo("Demo society seeded." if seeded else "Database not empty: demo seed skipped, data kept.")
        logins = ", ".join(f"{name} ({role})" for name, role in DEMO_USERS.items())
        typer.echo(f"Demo logins: {logins}; password: {DEMO_PASSWORD}")
    database = settings.sqlalchemy_url.split("@")[-1] if "@" in settings.sqlalchemy_url else settings.sqlalchemy_url
    typer.echo(f"Database: {database}")
    typer.echo(f"Fieldmeter server: http://{settings.host}:{settings.port}/  (API: /api, health: /api/health)")
    if workers == 1:
        api = create_app(settings, run_migrations=False)
        uvicorn.run(api, host=settings.host, port=settings.port, log_level="info")
        return
    typer.echo(f"Workers: {workers}")
    export_to_environment(settings)
    uvicorn.run(APP_FACTORY, factory=True, workers=workers, host=settings.host, port=settings.port, log_level="info")


@app.command("app")
def field_app(
    server: Annotated[str, typer.Option("--server", help="The sync server's URL, e.g. http://127.0.0.1:8000")],
    web: Annotated[bool, typer.Option("--web", help="Serve the app to a browser instead of a desktop window")] = False,
    port: Annotated[int, typer.Option("--port", help="Port for --web")] = 8550,
    host: Annotated[str, typer.Option("--host", help="Address for --web")] = "127.0.0.1",
    data_dir: Annotated[Path, typer.Option("--data-dir", help="The phone's local database and photos")] = Path(
        "phone-data"
    ),
    backoff_cap_s: Annotated[
        float, typer.Option("--backoff-cap", envvar="FIELDMETER_SYNC_BACKOFF_CAP_S", help="Longest sync retry wait (s)")
    ] = 300.0,
    now: Annotated[
        str | None,
        typer.Option(
            "--now",
            envvar="FIELDMETER_NOW",
            help="Where the phone's clock starts (ISO 8601 with a zone), as the server's FIELDMETER_NOW: demos, tests",
        ),
    ] = None,
) -> None:
    """Run the field engineer's app with its own local database (the phone, or its stand-in)."""
    from mobile_app.app import run_field_app

    clock = None
    if now:
        try:
            start = datetime.fromisoformat(now)
        except ValueError:
            raise typer.BadParameter(f"not an ISO 8601 time: {now!r}", param_hint="--now") from None
        if start.tzinfo is None:
            raise typer.BadParameter("needs a zone, e.g. 2026-11-20T10:00:00+05:30", param_hint="--now")
        clock = OffsetClock(start)
    run_field_app(
        server_url=server, data_dir=data_dir, web=web, host=host, port=port, backoff_cap_s=backoff_cap_s, clock=clock
    )


@app.command()
def migrate(data_dir: DataDir = None) -> None:
    """Create or upgrade the database schema."""
    from sync_server.db import engine_for
    from sync_server.db import migrate as run_migrations

    settings = settings_from(data_dir, None, None)
    run_migrations(engine_for(settings))
    typer.echo("Schema is current.")


@app.command()
def quote(
    tariff: Annotated[Path, typer.Option("--tariff", help="Tariff file (TOML, see docs/tariff-format.md)")],
    period: Annotated[
        tuple[str, str], typer.Option("--period", metavar="FROM TO", help="Period dates, YYYY-MM-DD YYYY-MM-DD")
    ],
    reads: Annotated[
        tuple[str, str] | None,
        typer.Option("--reads", metavar="PREVIOUS CURRENT", help="Register values (rollover when plausible)"),
    ] = None,
    units: Annotated[str | None, typer.Option("--units", help="Consumption in units, instead of --reads")] = None,
    new_meter: Annotated[
        tuple[str, str] | None,
        typer.Option(
            "--new-meter", metavar="INITIAL CURRENT", help="Replacement meter; --reads are the old PREVIOUS FINAL"
        ),
    ] = None,
    dials: Annotated[int | None, typer.Option("--dials", help="Register dials (default: digits of the reads)")] = None,
    multiplier: Annotated[str, typer.Option("--multiplier", help="Multiplying factor")] = "1",
    unit_type: Annotated[str, typer.Option("--unit-type", help="Unit type for the fixed charge (* = any)")] = "*",
    load_kw: Annotated[str | None, typer.Option("--load-kw", help="Sanctioned load, for per-kW fixed charges")] = None,
    shared_meter: Annotated[
        tuple[str, str, str] | None,
        typer.Option(
            "--shared-meter", metavar="NAME UNITS GROUP_UNITS", help="A shared meter and its flats' total units"
        ),
    ] = None,
    arrears: Annotated[str, typer.Option("--arrears", help="Balance brought forward (negative: credit)")] = "0",
) -> None:
    """Price one bill from a tariff file and print its lines, total and trace as JSON (no database)."""
    import json
    from datetime import date
    from decimal import Decimal, InvalidOperation

    from shared_billing.billing import compute_bill
    from shared_billing.consumption import MeterRegister, meter_consumption, replacement_consumption
    from shared_billing.errors import BillingError
    from shared_billing.periods import BillingPeriod
    from shared_billing.shared_meters import SharedMeterUse
    from shared_billing.tariff_file import parse_tariff_toml

    if (reads is None) == (units is None) or (new_meter is not None and reads is None):
        raise typer.BadParameter("give either --reads PREVIOUS CURRENT (with --new-meter if replaced) or --units N")
    try:
        start_on, end_on = (date.fromisoformat(day) for day in period)
        numbers = [Decimal(text) for text in (*(reads or ()), *(new_meter or ()), units or "0", multiplier, arrears)]
        load = None if load_kw is None else Decimal(load_kw)
        shared_figures = [Decimal(text) for text in shared_meter[1:]] if shared_meter else []
    except (ValueError, InvalidOperation) as error:
        raise typer.BadParameter(f"dates are YYYY-MM-DD and figures decimal numbers ({error})") from error
    try:
        schedule = parse_tariff_toml(tariff.read_text(encoding="utf-8"), source=str(tariff))
        consumption: list[str] = []
        own = Decimal(units) if units is not None else Decimal(0)
        if reads is not None:
            values = numbers[: 4 if new_meter else 2]
            width = dials or max(len(str(int(value))) for value in values)
            register = MeterRegister(dials=width, multiplier=Decimal(multiplier))
            used = (
                replacement_consumption(register, values[0], values[1], register, values[2], values[3])
                if new_meter
                else meter_consumption(register, values[0], values[1])
            )
            own, consumption = used.units, list(used.explanation)
        shared = []
        if shared_meter is not None:
            # The other flats on the meter count as one member: enough to quote this flat's share.
            members = {"this unit": own, "other units": shared_figures[1] - own}
            name = shared_meter[0]
            shared.append(
                SharedMeterUse.for_member(name, shared_figures[0], members, "this unit", schedule.share_rounding)
            )
        result = compute_bill(
            schedule,
            unit_type=unit_type,
            own_units=own,
            shared=shared,
            period=BillingPeriod(start_on, end_on),
            sanctioned_load_kw=load,
            arrears=Decimal(arrears),
        )
    except BillingError as error:
        typer.echo(json.dumps({"code": error.code, "message": error.message, "details": error.details}), err=True)
        raise typer.Exit(1) from error
    except OSError as error:
        raise typer.BadParameter(f"cannot read the tariff file: {error}") from error
    document = {
        "tariff": schedule.code,
        "period": {"from": start_on.isoformat(), "to": end_on.isoformat(), "day_count": schedule.day_count.value},
        "unit_type": unit_type,
        "units": str(own),
        "consumption": consumption,
        **result.to_dict(),
    }
    typer.echo(json.dumps(document, ensure_ascii=False, indent=2))


@audit_app.command("verify")
def audit_verify(
    data_dir: DataDir = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON")] = False,
    read_only: Annotated[
        bool, typer.Option("--read-only", help="Do not seal pending events first (only read the database)")
    ] = False,
) -> None:
    """Verify the audit log's chain with the server's secret (same settings and environment as serve).

    Exit code 0 when intact, 1 when broken, 2 when the log cannot be checked.
    """
    import json

    from sqlalchemy.exc import SQLAlchemyError

    from sync_server.audit import AuditSealer, chain_key
    from sync_server.config import SECRET_FILE, load_secret_key
    from sync_server.db import engine_for
    from sync_server.leases import new_holder_id

    settings = settings_from(data_dir, None, None)
    if not settings.secret_key and not (settings.data_dir / SECRET_FILE).is_file():
        # load_secret_key would make a new secret, and every event would then look forged.
        typer.echo(
            f"no server secret: set FIELDMETER_SECRET_KEY or point --data-dir at the server's data folder "
            f"(it keeps {SECRET_FILE})",
            err=True,
        )
        raise typer.Exit(2)
    engine = engine_for(settings)
    sealer = AuditSealer(engine, chain_key(load_secret_key(settings)), new_holder_id(), clock=settings.clock())
    try:
        report = sealer.verify(seal_first=not read_only)
        if not read_only:
            sealer.release()
    except SQLAlchemyError as error:
        # The error's class only: its text can carry SQL and connection details.
        typer.echo(f"cannot read the audit log ({type(error).__name__}); is the schema migrated?", err=True)
        raise typer.Exit(2) from error
    finally:
        engine.dispose()
    if as_json:
        typer.echo(json.dumps(report.to_dict(), indent=2))
    else:
        typer.echo(f"Audit log {report.message}.", err=not report.intact)
    if not report.intact:
        raise typer.Exit(1)


def main() -> None:
    app()
