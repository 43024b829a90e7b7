"""``fieldmeter user``: accounts made from the server's own shell (the first admin of a new society)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from shared_billing.api_models import UserIn
from shared_billing.protocol import Role
from sync_server.auth import hash_password
from sync_server.commands.options import DataDir, settings_from
from sync_server.models import AuditEvent, User

__all__ = ["create_admin", "user_app"]

user_app = typer.Typer(help="Accounts made from the server's shell.", no_args_is_help=True)

_AUDIT_ACTION = "user.created"  # the action POST /api/users audits: one name for one change


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        # One line: a trailing newline from `echo` or a here-string is not part of the password.
        return sys.stdin.readline().rstrip("\r\n")
    password: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return password


def _checked(username: str, full_name: str, password: str) -> UserIn:
    """The account as ``POST /api/users`` would take it: the same username, name and password rules."""
    try:
        return UserIn(username=username, full_name=full_name, role=Role.ADMIN, password=password)
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(str(p) for p in item['loc'])}: {item['msg']}" for item in error.errors())
        typer.echo(f"refused: {problems}", err=True)
        raise typer.Exit(2) from error


def _username_taken(username: str) -> typer.Exit:
    typer.echo(f"refused: an account named {username!r} exists already", err=True)
    return typer.Exit(1)


@user_app.command("create-admin")
def create_admin(
    username: Annotated[str, typer.Argument(help="The new admin's username (3-64 of A-Z a-z 0-9 . _ -)")],
    full_name: Annotated[str | None, typer.Option("--full-name", help="Their name (default: the username)")] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from the first line of stdin")
    ] = False,
    data_dir: DataDir = None,
) -> None:
    """Create an admin account from the server's shell (the first admin of a new society); migrates first.

    The password is prompted twice (hidden) unless --password-stdin; at least 10 characters, as the API asks.
    Exit code 1 when the username is taken, 2 when the username, name or password is refused.
    """
    from sync_server.db import engine_for, migrate

    account = _checked(username, full_name or username, _read_password(password_stdin))
    settings = settings_from(data_dir)
    engine = engine_for(settings)
    try:
        migrate(engine)
        now = settings.clock()()
        with Session(engine) as session:
            if session.exec(select(User.id).where(User.username == account.username)).first() is not None:
                raise _username_taken(account.username)
            user = User(
                username=account.username,
                full_name=account.full_name,
                role=Role.ADMIN,
                password_hash=hash_password(account.password),
                # The operator chose this password for themselves (not an admin's temporary one for somebody
                # else), so it is not to be changed at the first sign-in.
                password_change_required=False,
                created_at=now,
            )
            session.add(user)
            try:
                session.flush()
                # No actor: nobody signed in made it; the detail says it came from the shell.
                session.add(
                    AuditEvent(
                        at=now,
                        actor_id=None,
                        action=_AUDIT_ACTION,
                        entity="user",
                        entity_id=str(user.id),
                        reason="first admin, created from the server's shell",
                        detail={
                            "username": user.username,
                            "full_name": user.full_name,
                            "role": str(user.role),
                            "via": "cli",
                        },
                    )
                )
                session.commit()
            except IntegrityError as error:  # a concurrent create-admin or API call took the name since the check
                raise _username_taken(account.username) from error
    finally:
        engine.dispose()
    typer.echo(f"Admin {account.username!r} created.")
