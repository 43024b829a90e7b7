"""The ``fieldmeter`` command: ``serve`` (the sync server and browser app), ``migrate``, ``quote`` (price a bill),
``audit verify`` (check the audit log's chain), ``import`` (records of the replaced system), ``backup`` and
``restore``, ``user`` (accounts from the shell)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from sync_server.clock import OffsetClock
from sync_server.commands.backups import backup, restore
from sync_server.commands.imports import import_app
from sync_server.commands.options import DataDir, Host, Port, settings_from
from sync_server.commands.users import user_app

if TYPE_CHECKING:
    from shared_billing.consumption import Consumption
    from shared_billing.errors import BillingError
    from shared_billing.periods import BillingPeriod
    from shared_billing.schedules import TariffSchedule
    from shared_billing.shared_meters import SharedMeterUse
    from shared_billing.tariffs import ShareRounding

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
    from sync_server.serving import APP_FACTORY, export_to_environment, prepare, settle_heap, workers_refusal

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
        settle_heap()
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


# Dials a register may have: 10^12 is the bound on units (docs/tariff-format.md, "Bounds").
_MAX_DIALS = 12


def _bad(option: str, message: str) -> typer.BadParameter:
    # Exit 2 with the option at fault named, as click does for its own usage errors.
    return typer.BadParameter(message, param_hint=option)


def _figure(
    option: str, text: str, *, units: bool = False, signed: bool = False, positive: bool = False, label: str = ""
) -> Decimal:
    """A figure typed for ``option`` (``label`` names it among several): a finite decimal within the bounds of
    ``checked_amount``, exit 2 if not."""
    from decimal import InvalidOperation

    try:
        value = Decimal(text)
    except InvalidOperation:
        raise _bad(option, f"{label}not a decimal number: {text!r}") from None
    if not value.is_finite():
        raise _bad(option, f"{label}must be a finite number, not {text}")
    if positive and value <= 0:
        raise _bad(option, f"{label}must be a positive number, not {text}")
    if value < 0 and not signed:
        raise _bad(option, f"{label}must not be negative, not {text}")
    _bounded(option, abs(value), units=units, label=label)
    return value


def _bounded(option: str, value: Decimal, *, units: bool, label: str = "") -> None:
    from shared_billing.errors import TariffError
    from shared_billing.tariff_data import checked_amount

    try:
        # The bounds live with the tariff's own figures, so the file and the options share them.
        checked_amount(option, value, units=units)
    except TariffError as error:
        raise _bad(option, f"{label}{error.message.removeprefix(f'{option} ')}") from None


def _period(period: tuple[str, str]) -> BillingPeriod:
    # Only the dates' form here: a period the tariff cannot bill is the engine's refusal (exit 1).
    from datetime import date

    from shared_billing.periods import BillingPeriod

    try:
        start_on, end_on = (date.fromisoformat(day) for day in period)
    except ValueError:
        raise _bad("--period", f"dates are YYYY-MM-DD, not {' '.join(period)}") from None
    return BillingPeriod(start_on, end_on)


def _register_dials(typed: dict[str, tuple[str, ...]], dials: int | None) -> int:
    """``--dials`` when given, else the most digits typed before any decimal point, by option (leading zeros
    count: a dial shows them, so ``09950`` is a 5-dial register)."""
    if dials is not None:
        return dials
    width = 1
    for option, values in typed.items():
        for value in values:
            digits = len(value.partition(".")[0])
            if digits > _MAX_DIALS:
                raise _bad(option, f"a register has at most {_MAX_DIALS} dials, not {digits} ({value})")
            width = max(width, digits)
    return width


def _register_values(option: str, values: tuple[str, ...], dials: int) -> list[Decimal]:
    from shared_billing.errors import RegisterValueError
    from shared_billing.readings import parse_register_value

    try:
        # The decimals are whatever was typed: the command has no meter master data to check them against.
        return [parse_register_value(value, dials=dials, decimals=len(value.partition(".")[2])) for value in values]
    except RegisterValueError as error:
        raise _bad(option, error.message) from None


def _meter_units(
    reads: tuple[str, str], new_meter: tuple[str, str] | None, dials: int | None, multiplier: Decimal
) -> Consumption:
    """The units between the reads (and a replacement meter's); engine refusals propagate as ``BillingError``."""
    from shared_billing.consumption import MeterRegister, meter_consumption, replacement_consumption

    width = _register_dials({"--reads": reads, "--new-meter": new_meter or ()}, dials)
    previous, current = _register_values("--reads", reads, width)
    register = MeterRegister(dials=width, multiplier=multiplier)
    if new_meter is None:
        used = meter_consumption(register, previous, current)
    else:
        initial, latest = _register_values("--new-meter", new_meter, width)
        used = replacement_consumption(register, previous, current, register, initial, latest)
    # Reads × multiplier: each is bounded, their product must be too.
    _bounded("--multiplier", used.units, units=True, label="the units (reads × multiplier) ")
    return used


def _shared_use(shared_meter: tuple[str, str, str], own: Decimal, rounding: ShareRounding) -> SharedMeterUse:
    from shared_billing.shared_meters import SharedMeterUse

    name, meter_text, group_text = shared_meter
    meter_units = _figure("--shared-meter", meter_text, units=True, label="UNITS ")
    group_units = _figure("--shared-meter", group_text, units=True, label="GROUP_UNITS ")
    if group_units < own:
        raise _bad("--shared-meter", f"GROUP_UNITS {group_text} must include this flat's {own} units")
    # The other flats on the meter count as one member: enough to quote this flat's share.
    members = {"this unit": own, "other units": group_units - own}
    return SharedMeterUse.for_member(name, meter_units, members, "this unit", rounding)


def _read_tariff(path: Path) -> TariffSchedule:
    """The tariff file's schedule; an unreadable or non-UTF-8 file is a usage error (exit 2), a file that reads
    but is refused raises ``TariffFileError`` (exit 1, with its line)."""
    from shared_billing.errors import TariffFileError
    from shared_billing.tariff_file import parse_tariff_toml

    try:
        data = path.read_bytes()
    except OSError as error:
        raise _bad("--tariff", f"cannot read {path}: {error.strerror or error}") from None
    try:
        return parse_tariff_toml(data, source=str(path))
    except TariffFileError as error:
        if error.details.get("problem") == "not_utf8":
            raise _bad("--tariff", error.message) from None
        raise


def _refusal(error: BillingError) -> typer.Exit:
    import json

    typer.echo(json.dumps({"code": error.code, "message": error.message, "details": error.details}), err=True)
    return typer.Exit(1)


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
    dials: Annotated[
        int | None,
        typer.Option(
            "--dials", min=1, max=_MAX_DIALS, help="Register dials (default: the digits typed, leading zeros too)"
        ),
    ] = None,
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
    """Price one bill from a tariff file and print its lines, total and trace as JSON (no database).

    Exit code 2 for a usage error (a missing or bad option, an unreadable or non-UTF-8 tariff file), 1 when the
    tariff file or the engine refuses (JSON problem on stderr).
    """
    import json

    from shared_billing.billing import compute_bill
    from shared_billing.errors import BillingError

    if (reads is None) == (units is None) or (new_meter is not None and reads is None):
        raise typer.BadParameter("give either --reads PREVIOUS CURRENT (with --new-meter if replaced) or --units N")
    billed = _period(period)
    factor = _figure("--multiplier", multiplier, positive=True)
    load = None if load_kw is None else _figure("--load-kw", load_kw, positive=True)
    brought_forward = _figure("--arrears", arrears, signed=True)
    own = Decimal(0) if units is None else _figure("--units", units, units=True)
    try:
        schedule = _read_tariff(tariff)
        consumption: list[str] = []
        if reads is not None:
            used = _meter_units(reads, new_meter, dials, factor)
            own, consumption = used.units, list(used.explanation)
        shared = [] if shared_meter is None else [_shared_use(shared_meter, own, schedule.share_rounding)]
        result = compute_bill(
            schedule,
            unit_type=unit_type,
            own_units=own,
            shared=shared,
            period=billed,
            sanctioned_load_kw=load,
            arrears=brought_forward,
        )
    except BillingError as error:
        raise _refusal(error) from error
    except (ArithmeticError, ValueError) as error:
        # A safety net: the bounds above should leave no figure the engine cannot price, but never a traceback.
        typer.echo(f"fieldmeter quote: cannot price these figures ({type(error).__name__}: {error})", err=True)
        raise typer.Exit(2) from error
    document = {
        "tariff": schedule.code,
        "period": {
            "from": billed.start_on.isoformat(),
            "to": billed.end_on.isoformat(),
            "day_count": schedule.day_count.value,
        },
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
