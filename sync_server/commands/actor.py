"""Who a command run from the server's shell acts as: its writes are audited under an admin's name like the
console's are."""

from __future__ import annotations

import typer
from sqlalchemy import Engine
from sqlmodel import Session, select

from shared_billing.protocol import Role
from sync_server.models import User

__all__ = ["acting_admin"]


def acting_admin(engine: Engine, username: str | None) -> User:
    """The active admin named ``username``, or the only active admin; exit code 2 with a message otherwise."""
    with Session(engine) as session:
        query = select(User).where(User.role == Role.ADMIN, User.active == True)  # noqa: E712 - SQL comparison
        if username is not None:
            query = query.where(User.username == username)
        admins = list(session.exec(query).all())
    if len(admins) == 1:
        return admins[0]
    if username is not None:
        typer.echo(f"no active admin named {username!r}", err=True)
    elif not admins:
        typer.echo("no active admin: create one first (fieldmeter user create-admin)", err=True)
    else:
        names = ", ".join(sorted(admin.username for admin in admins))
        typer.echo(f"several admins ({names}): say which acts with --as USERNAME", err=True)
    raise typer.Exit(2)
