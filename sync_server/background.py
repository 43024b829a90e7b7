"""Long work started by a request (bill runs, imports) runs on a thread of its own, so the start is answered at
once and the caller polls the work's row for progress.

Not an ASGI background task: the browser console calls the API in-process (httpx's ASGI transport), which holds
an answer until the app's call returns, background tasks included, so the console would see no progress at all.
A server stopped meanwhile takes the thread with it: the work's heartbeat stops, and the next start of the same
work supersedes it (``billing.runs.is_stale``, ``imports.jobs.is_stale``).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from typing import ParamSpec

__all__ = ["start_in_background", "unfinished"]

P = ParamSpec("P")
_started: weakref.WeakSet[threading.Thread] = weakref.WeakSet()


def start_in_background(name: str, work: Callable[P, object], *args: P.args, **kwargs: P.kwargs) -> threading.Thread:
    """Start ``work(*args, **kwargs)`` on a daemon thread named ``name`` and return the thread."""
    thread = threading.Thread(target=work, args=args, kwargs=kwargs, name=name, daemon=True)
    _started.add(thread)
    thread.start()
    return thread


def unfinished() -> list[threading.Thread]:
    """The threads started here that are still running (an app shutting down, or a test, waits for them)."""
    return [thread for thread in list(_started) if thread.is_alive()]
