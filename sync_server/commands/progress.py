"""Progress of long shell commands (imports) for a person at a terminal."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sync_server.imports.report import Progress, no_progress

__all__ = ["terminal_progress"]


@contextmanager
def terminal_progress(show: bool, title: str = "Importing") -> Iterator[Progress]:
    """A progress bar on stderr when ``show`` (a terminal); nothing when piped (scripts read stdout)."""
    if not show:
        yield no_progress
        return
    from rich.console import Console
    from rich.progress import Progress as Bar

    with Bar(console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(title, total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield advance
