"""Headless driver for a real Flet 1.0.5 ``Session``/``Page`` (test layer 2 of docs/architecture.md, "Tests in layers").

No Flutter client, no browser, no socket: the app's own ``main(page)`` runs against a real
:class:`flet.messaging.session.Session` whose connection is a recorder. The driver plays the Dart client's part:
it registers the client, sends control events (change / click / submit / route change / view pop) and answers service
calls (``INVOKE_METHOD``) with scripted results, all inside one asyncio loop. Patches are computed and encoded exactly
as in production, so auto-update, declarative components and service registration run for real.

Usage (plain pytest, no plugin)::

    from tests.support.flet_driver import position_result, run_app

    def test_locate():
        async def scenario(driver):
            driver.answer("get_current_position", result=position_result(52.52, 13.405, 4.5))
            await driver.type_text("name", "Ada")
            await driver.click("locate")
            await driver.wait_for_text("52.52")
            assert driver.crashes() == []

        run_app(main, scenario)  # asyncio.run + 10 s overall bound; raises on SESSION_CRASHED

``async with FletDriver(main) as driver:`` works the same inside any asyncio test (e.g. anyio's pytest plugin:
``@pytest.mark.anyio`` with the default ``anyio_backend`` of ``"asyncio"``).

Wire facts this module relies on (flet 1.0.5 internals - re-check on every upgrade):

- ``Connection.send_message`` must msgpack-encode every message with ``configure_encode_object_for_msgpack(
  BaseControl)``: the encoder stores the ``__prev_*`` snapshots that the next diff compares against. Without it
  the diffs come out empty (checked: controls added by ``page.add`` in ``main`` never even reach the index).
  The recorder keeps only the decoded wire form, never the message objects: holding control references would
  defeat the refcount check that drops unreferenced services after each event.
- The client is registered (``REGISTER_CLIENT`` with ``RegisterClientResponseBody(session_id,
  session.get_page_patch(), "")``) before ``main`` runs; ``main`` runs through ``flet.app``'s private
  ``__get_on_session_created(main)`` - the bootstrap ``ft.run`` uses - as a task, like the socket server does.
- Service calls arrive as ``MessageAction.INVOKE_METHOD`` with ``InvokeMethodRequestBody(control_id, call_id, name,
  args)`` and are answered with ``session.handle_invoke_method_results(control_id, call_id, result, error)``; a
  non-empty ``error`` becomes ``RuntimeError(error)`` in the awaiting app code. Results pass through a msgpack
  round trip first, as over the real wire (``bytes`` stay ``bytes``, ``datetime`` comes back timezone-aware).

Method names and result shapes observed in flet 1.0.5 / flet-geolocator 1.0.5 (``control_type`` is the control's
``_c``), cross-checked against the client compiled into ``flet_web/web/main.dart.js`` (the dict keys below are the
ones it builds; event payloads: TextField ``submit`` data is the text, ``view_pop`` data is ``{"route": ...}``):

================  ============================  ==================================================================
control_type      name (args)                   result the Python side decodes
================  ============================  ==================================================================
Geolocator        get_current_position          dict of ``GeolocatorPosition`` fields, see :func:`position_result`
                  ({"configuration": ...})      (``GeolocatorPosition(**result)``; unknown keys raise TypeError)
Geolocator        get_last_known_position       same dict or ``None`` (raises before the call when ``page.web``)
Geolocator        get_permission_status         ``"denied" | "deniedForever" | "whileInUse" | "always" |
                  request_permission            "unableToDetermine"`` (``GeolocatorPermissionStatus(value)``)
Geolocator        is_location_service_enabled   ``bool``
FilePicker        pick_files ({"dialog_title",  list of file dicts ``{"id", "name", "size", "path", "bytes"}``, see
                  "file_type": "any",           :func:`picked_file_result` (``FilePickerFile(**f)``; ``bytes`` may
                  "with_data", ...})            also be a list of ints); the call has ``timeout=3600``
FilePicker        upload ({"files": [...]})     ``None``
SharedPreferences get ({"key"})                 the stored value or ``None``
SharedPreferences set ({"key", "value"})        ``True``; also contains_key, remove, get_keys ({"key_prefix"}), clear
Page              push_route ({"route"})        ``None``; the client then updates ``page.route`` and fires
                                                ``route_change`` with ``{"route": ...}``
(any)             focus, scroll_to              ``None`` once the field has the focus / the list has scrolled
================  ============================  ==================================================================

A failing client call comes back as ``error`` = the exception's text; Geolocator's client maps them to
"Location permission denied: <detail>.", "Location services are disabled. Enable them in the device or system
settings.", "Location request timed out.", "Failed to obtain position: <detail>" (see :data:`GPS_ERRORS`).

Default answers (``auto_answers=True``, overridden by any matching :meth:`FletDriver.answer`/:meth:`FletDriver.fail`):
SharedPreferences is an in-memory store (:attr:`FletDriver.prefs`), ``push_route`` navigates, Geolocator permission
calls report ``"whileInUse"``, ``is_location_service_enabled`` is ``True``, ``focus`` and ``scroll_to`` are done.
Positions and picked files are never invented: script them, or the call stays pending (see
:meth:`FletDriver.pending_calls`).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import datetime
import importlib
import inspect
import logging
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

import msgpack
from flet import Text
from flet.controls.base_control import BaseControl
from flet.controls.dialog_control import DialogControl
from flet.controls.page import Page
from flet.messaging.connection import Connection
from flet.messaging.protocol import (
    Message,
    MessageAction,
    RegisterClientResponseBody,
    configure_encode_object_for_msgpack,
    decode_ext_from_msgpack,
)
from flet.messaging.session import Session
from flet.pubsub.pubsub_hub import PubSubHub

__all__ = [
    "DEFAULT_TIMEOUT",
    "GPS_ERRORS",
    "OVERALL_TIMEOUT",
    "FletDriver",
    "InvokeCall",
    "RecordingConnection",
    "picked_file",
    "picked_file_result",
    "position_result",
    "run_app",
]

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 5.0
"""Seconds any single wait (settle, wait_for, wait_for_call, start-up) may take."""

OVERALL_TIMEOUT = 10.0
"""Seconds a whole :func:`run_app` scenario may take."""

DEFAULT_PAGE_PROPS: dict[str, Any] = {
    "route": "/",
    "platform": "android",
    "web": False,
    "debug": False,
    "pwa": False,
}
"""Page properties the fake client reports on registration: an Android phone, not the browser."""

T = TypeVar("T")
AppMain = Callable[[Page], Any]
_ENCODE = configure_encode_object_for_msgpack(BaseControl)
_MISSING = object()


def _wire_roundtrip(value: Any) -> Any:
    """Encode ``value`` as Flet does and decode it as the other side does (bytes, datetimes, enums, dataclasses)."""
    packed = msgpack.packb(value, default=_ENCODE)
    return msgpack.unpackb(packed, ext_hook=decode_ext_from_msgpack, strict_map_key=False)


# ---------------------------------------------------------------------------------------------------------------------
# Result helpers
# ---------------------------------------------------------------------------------------------------------------------


def position_result(
    latitude: float,
    longitude: float,
    accuracy: float = 5.0,
    *,
    altitude: float = 0.0,
    speed: float = 0.0,
    heading: float = 0.0,
    timestamp: datetime.datetime | None = None,
    mocked: bool = False,
) -> dict[str, Any]:
    """Result for ``Geolocator.get_current_position`` / ``get_last_known_position``.

    Exactly the keys of ``flet_geolocator.GeolocatorPosition`` (it is built with ``GeolocatorPosition(**result)``,
    so an extra key would crash the app). ``timestamp`` defaults to now (UTC).
    """
    return {
        "latitude": latitude,
        "longitude": longitude,
        "speed": speed,
        "altitude": altitude,
        "timestamp": timestamp or datetime.datetime.now(datetime.UTC),
        "accuracy": accuracy,
        "altitude_accuracy": 0.0,
        "heading": heading,
        "heading_accuracy": 0.0,
        "speed_accuracy": 0.0,
        "floor": None,
        "mocked": mocked,
    }


GPS_ERRORS: dict[str, str] = {
    "permission_denied": "Location permission denied: User denied Geolocation.",
    "services_disabled": "Location services are disabled. Enable them in the device or system settings.",
    "timeout": "Location request timed out.",
}
"""Error texts the Flet client sends for a failed Geolocator call (use with :meth:`FletDriver.fail`).

The wording before the colon is Flet's; the detail after "permission denied:" comes from the platform/browser.
"""


def picked_file(name: str, data: bytes, *, file_id: int = 0, path: str | None = None) -> dict[str, Any]:
    """One entry of a ``FilePicker.pick_files`` result (``FilePickerFile(**entry)``); ``path`` is ``None`` on web."""
    return {"id": file_id, "name": name, "size": len(data), "path": path, "bytes": bytes(data)}


def picked_file_result(name: str, data: bytes, *, path: str | None = None) -> list[dict[str, Any]]:
    """Whole result of ``FilePicker.pick_files(with_data=True)`` for one picked file.

    ``pick_files`` returns a list; for several files answer ``[picked_file(...), picked_file(..., file_id=1)]``.
    A cancelled dialog is ``[]`` here (flet 1.0.5 iterates the result, so ``None`` would crash the app).
    """
    return [picked_file(name, data, path=path)]


# ---------------------------------------------------------------------------------------------------------------------
# Connection
# ---------------------------------------------------------------------------------------------------------------------


@dataclasses.dataclass
class InvokeCall:
    """One ``INVOKE_METHOD`` request the app sent to the (fake) client, in wire form."""

    control_id: int
    call_id: str
    name: str
    args: Any
    control_type: str | None
    """The target control's ``_c`` ("Geolocator", "FilePicker", "SharedPreferences", "Page", ...)."""
    answered: bool = False
    result: Any = None
    error: str | None = None


@dataclasses.dataclass
class _Rule:
    name: str
    control: str | None
    result: Any
    error: str | None
    once: bool

    def matches(self, call: InvokeCall) -> bool:
        return self.name == call.name and (self.control is None or self.control == call.control_type)


class RecordingConnection(Connection):
    """A :class:`Connection` that encodes each outgoing message as the socket server does and records it.

    ``messages`` holds ``(MessageAction, body)`` with ``body`` decoded from msgpack (plain dicts/lists), which is
    what the Dart client would receive.
    """

    def __init__(self, on_message: Callable[[MessageAction, Any], None] | None = None) -> None:
        super().__init__()
        self.messages: list[tuple[MessageAction, Any]] = []
        self._on_message = on_message

    def send_message(self, message: Message) -> None:
        # Encoding is not optional: it records the diff snapshots (see module docstring).
        packed = msgpack.packb([message.action, message.body], default=_ENCODE)
        action_code, body = msgpack.unpackb(packed, ext_hook=decode_ext_from_msgpack, strict_map_key=False)
        action = MessageAction(action_code)
        self.messages.append((action, body))
        if self._on_message is not None:
            self._on_message(action, body)

    def get_upload_url(self, file_name: str, expires: int) -> str:
        return f"http://127.0.0.1/upload/{file_name}?expires={expires}"


# ---------------------------------------------------------------------------------------------------------------------
# Driver
# ---------------------------------------------------------------------------------------------------------------------


def _session_bootstrap(main: AppMain) -> Callable[[Session], Awaitable[None]]:
    """``flet.app.__get_on_session_created(main)``: the exact start-up path of ``ft.run`` (private in 1.0.5)."""
    flet_app = importlib.import_module("flet.app")
    factory = getattr(flet_app, "__get_on_session_created", None)
    if factory is None:  # pragma: no cover - only after a Flet upgrade
        raise RuntimeError("flet.app.__get_on_session_created is gone: re-check tests/support/flet_driver.py")
    bootstrap: Callable[[Session], Awaitable[None]] = factory(main)
    return bootstrap


def _key_matches(control: BaseControl, key: Any) -> bool:
    k = control.key
    return k is not None and (k == key or getattr(k, "value", _MISSING) == key)


class FletDriver:
    """Run ``main(page)`` in a headless Flet session and act as its client.

    Args:
        main: the app's entry point, sync or async, exactly as passed to ``ft.run``.
        before_main: optional ``ft.run(before_main=...)`` hook.
        page_props: client-reported page properties merged over :data:`DEFAULT_PAGE_PROPS`
            (e.g. ``{"web": True, "platform": "linux", "route": "/readings"}``).
        prefs: initial SharedPreferences contents (the in-memory store answering ``get``/``set``).
        timeout: bound for each single wait, in seconds.
        auto_answers: answer SharedPreferences, ``push_route`` and Geolocator permission calls by default.
        raise_on_crash: on a clean exit, raise ``AssertionError`` if the session reported ``SESSION_CRASHED`` or a
            scripted answer could not be delivered.
    """

    def __init__(
        self,
        main: AppMain,
        *,
        before_main: AppMain | None = None,
        page_props: dict[str, Any] | None = None,
        prefs: dict[str, Any] | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        auto_answers: bool = True,
        raise_on_crash: bool = True,
    ) -> None:
        self._main = main
        self._before_main = before_main
        self._page_props = {**DEFAULT_PAGE_PROPS, **(page_props or {})}
        self.prefs: dict[str, Any] = dict(prefs or {})
        """In-memory SharedPreferences store used by the default answers."""
        self.timeout = timeout
        self.auto_answers = auto_answers
        self.raise_on_crash = raise_on_crash
        self.calls: list[InvokeCall] = []
        """Every INVOKE_METHOD the app sent, answered or not, in order."""
        self.errors: list[str] = []
        """Driver-side problems (an answer the session refused, a failed simulated navigation)."""
        self._rules: list[_Rule] = []
        self._tasks: set[asyncio.Task[Any]] = set()
        self._done_tasks = 0
        self._conn: RecordingConnection | None = None
        self._session: Session | None = None
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    # -- lifecycle ----------------------------------------------------------------------------------------------------

    async def __aenter__(self) -> FletDriver:
        await self.start()
        return self

    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        problems = self._problems() if exc_type is None and self.raise_on_crash else []
        await self.close()
        if problems:
            raise AssertionError("Flet session reported problems:\n" + "\n---\n".join(problems))

    async def start(self) -> None:
        """Register the fake client, run ``main`` like ``ft.run`` does and wait until the UI settles."""
        self._loop = asyncio.get_running_loop()
        self._executor = concurrent.futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="flet-driver")
        conn = RecordingConnection(self._on_message)
        conn.loop = self._loop
        conn.executor = self._executor
        conn.pubsubhub = PubSubHub(loop=self._loop, executor=self._executor)
        conn.page_name = ""
        conn.page_url = "http://127.0.0.1/"
        self._conn = conn

        session = Session(conn)
        self._session = session
        session.apply_page_patch(self._page_props)

        register_error = ""
        if self._before_main is not None:
            try:
                if inspect.iscoroutinefunction(self._before_main):
                    await self._before_main(session.page)
                else:
                    self._before_main(session.page)
            except Exception as e:
                register_error = f"{e}"
                logger.exception("before_main failed")
        page_patch = session.get_page_patch()
        conn.send_message(
            Message(
                MessageAction.REGISTER_CLIENT,
                RegisterClientResponseBody(session.id, page_patch=page_patch, error=register_error),
            )
        )
        if register_error:
            session.error(register_error)
        else:
            self._spawn(_session_bootstrap(self._main)(session), "main")
        await self.settle()

    async def close(self) -> None:
        """Close the session (pending calls resolve with "Session closed") and cancel leftover tasks."""
        if self._session is not None:
            self._session.close()
        for _ in range(3):
            await asyncio.sleep(0)
        leftovers = [t for t in self._tasks if not t.done()]
        for t in leftovers:
            t.cancel()
        if leftovers:
            await asyncio.wait(leftovers, timeout=self.timeout)
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)

    # -- state --------------------------------------------------------------------------------------------------------

    @property
    def session(self) -> Session:
        if self._session is None:
            raise RuntimeError("FletDriver is not started: use 'async with FletDriver(main) as driver'")
        return self._session

    @property
    def page(self) -> Page:
        page: Page = self.session.page
        return page

    @property
    def route(self) -> str:
        """Current ``page.route``."""
        return self.page.route

    @property
    def messages(self) -> list[tuple[MessageAction, Any]]:
        """Every message sent to the client, decoded from msgpack: ``[(MessageAction, body), ...]``."""
        return self._conn.messages if self._conn is not None else []

    def patches(self) -> list[dict[str, Any]]:
        """Bodies of the PATCH_CONTROL messages (``{"id": ..., "patch": [...]}``), oldest first."""
        return [body for action, body in self.messages if action == MessageAction.PATCH_CONTROL]

    def crashes(self) -> list[str]:
        """Messages of SESSION_CRASHED frames: handler/main exceptions with their tracebacks. Assert ``== []``."""
        return [body["message"] for action, body in self.messages if action == MessageAction.SESSION_CRASHED]

    def pending_calls(self, name: str | None = None) -> list[InvokeCall]:
        """INVOKE_METHOD calls still waiting for an answer (optionally only those named ``name``)."""
        return [c for c in self.calls if not c.answered and (name is None or c.name == name)]

    def _problems(self) -> list[str]:
        return self.crashes() + self.errors

    # -- finding controls ---------------------------------------------------------------------------------------------

    def _mounted(self, control: BaseControl) -> bool:
        try:
            return control.page is self.page
        except RuntimeError:
            return False

    def controls(self) -> list[BaseControl]:
        """All controls currently in the session index that are attached to the page."""
        return [c for c in list(self.session.index.values()) if self._mounted(c)]

    def find(self, key: Any) -> Any:
        """The mounted control whose ``key`` (or ``ValueKey.value``) equals ``key``. Raises ``LookupError``."""
        found = [c for c in self.controls() if _key_matches(c, key)]
        if len(found) == 1:
            return found[0]
        if not found:
            keys = sorted({str(getattr(c.key, "value", c.key)) for c in self.controls() if c.key is not None})
            raise LookupError(f"no mounted control with key {key!r}; keys: {keys}")
        shown = {id(c) for c in self.walk(visible_only=True)}
        visible = [c for c in found if id(c) in shown]
        if len(visible) == 1:
            return visible[0]
        raise LookupError(f"{len(found)} mounted controls have key {key!r}: {found}")

    def find_all(self, control_type: type[T] | str) -> list[T]:
        """Mounted controls of a class (``ft.Text``) or a client type name (``"Text"``, the control's ``_c``)."""
        if isinstance(control_type, str):
            return [c for c in self.controls() if getattr(c, "_c", None) == control_type]  # type: ignore[misc]
        return [c for c in self.controls() if isinstance(c, control_type)]

    def walk(self, *, visible_only: bool = True) -> Iterator[BaseControl]:
        """Controls of the page tree, depth first. ``visible_only`` keeps what a user could see: only the top
        view of ``page.views``, no ``visible=False`` subtree, no closed dialog."""
        seen: set[int] = set()

        def visit(value: Any) -> Iterator[BaseControl]:
            if value is None or isinstance(value, str | bytes | int | float | bool):
                return
            if id(value) in seen:
                return
            seen.add(id(value))
            if isinstance(value, BaseControl):
                if visible_only and (
                    getattr(value, "visible", True) is False
                    or (isinstance(value, DialogControl) and not getattr(value, "open", False))
                ):
                    return
                yield value
            if isinstance(value, list | tuple):
                for item in value:
                    yield from visit(item)
            elif isinstance(value, dict):
                for item in value.values():
                    yield from visit(item)
            elif dataclasses.is_dataclass(value) and not isinstance(value, type):
                for f in dataclasses.fields(value):
                    if f.metadata.get("skip", False) or f.name == "_parent":
                        continue
                    child = getattr(value, f.name, None)
                    if visible_only and isinstance(value, Page) and f.name == "views" and child:
                        child = [child[-1]]
                    yield from visit(child)

        yield from visit(self.page)

    def texts(self, *, visible_only: bool = True) -> list[str]:
        """Values of the visible ``ft.Text`` controls in tree order (``Text("")`` included as ``""``)."""
        return [str(c.value or "") for c in self.walk(visible_only=visible_only) if isinstance(c, Text)]

    def _resolve(self, target: Any) -> BaseControl:
        return target if isinstance(target, BaseControl) else self.find(target)

    def _check_interactive(self, control: BaseControl) -> None:
        node: Any = control
        while node is not None:
            if getattr(node, "disabled", False):
                raise AssertionError(f"{control} is disabled (by {node})")
            node = node.parent
        if all(c is not control for c in self.walk(visible_only=True)):
            raise AssertionError(f"{control} is not visible")

    # -- user actions -------------------------------------------------------------------------------------------------

    async def dispatch(self, target: Any, event: str, data: Any = None, *, settle: bool = True) -> None:
        """Send CONTROL_EVENT ``event`` (without ``on_``) to a control (or its key) and let the UI settle.

        Like the socket server, the handler runs as its own task, so a handler that awaits an unanswered service
        call does not block the test: answer it later and ``await driver.settle()``.
        """
        control = self._resolve(target)
        self._spawn(self.session.dispatch_event(control._i, event, data), f"on_{event}")
        if settle:
            await self.settle()

    async def click(self, target: Any, *, force: bool = False) -> None:
        """Click a button (or anything with ``on_click``); refuses disabled or invisible controls unless ``force``."""
        control = self._resolve(target)
        if not force:
            self._check_interactive(control)
        await self.dispatch(control, "click")

    async def type_text(self, target: Any, text: str, *, force: bool = False) -> None:
        """Replace a TextField's value the way the client does (props update, then ``change`` with the text)."""
        control = self._resolve(target)
        if not force:
            self._check_interactive(control)
        self.session.apply_patch(control._i, {"value": text})
        await self.dispatch(control, "change", text)

    async def check(self, target: Any, value: bool, *, force: bool = False) -> None:
        """Tick or untick a Checkbox the way the client does (props update, then ``change``)."""
        control = self._resolve(target)
        if not force:
            self._check_interactive(control)
        self.session.apply_patch(control._i, {"value": value})
        await self.dispatch(control, "change", str(value).lower())

    async def submit(self, target: Any) -> None:
        """Press Enter in a TextField (``submit`` event; data = current value, which handlers rarely read)."""
        control = self._resolve(target)
        await self.dispatch(control, "submit", getattr(control, "value", None))

    async def navigate(self, route: str) -> None:
        """What the client does after ``push_route`` or a deep link: set ``page.route``, fire ``route_change``."""
        self.session.apply_page_patch({"route": route})
        await self.dispatch(self.page, "route_change", {"route": route})

    async def back(self) -> None:
        """System back button: ``view_pop`` for the top view (the app's ``on_view_pop`` decides what happens)."""
        views = self.page.views
        await self.dispatch(self.page, "view_pop", {"route": views[-1].route if views else "/"})

    # -- waiting ------------------------------------------------------------------------------------------------------

    def _marker(self) -> tuple[int, ...]:
        return (len(self.messages), len(self.calls), self._done_tasks, len(self.errors))

    async def settle(self, timeout: float | None = None) -> None:
        """Run the loop until nothing happens any more (no new message, call or finished task for a few rounds).

        Returns early for handlers blocked on an unanswered service call; for timers/sleeps use :meth:`wait_for`.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + (timeout if timeout is not None else self.timeout)
        stable = 0
        while stable < 3:
            before = self._marker()
            for _ in range(10):
                await asyncio.sleep(0)
            await asyncio.sleep(0.002)  # a short real pause lets executor threads (page.run_thread) progress
            if self._marker() == before:
                stable += 1
            else:
                stable = 0
            if loop.time() > deadline:
                raise TimeoutError(f"the Flet session did not settle within {timeout or self.timeout} s")

    async def wait_for(
        self, predicate: Callable[[], Any], *, timeout: float | None = None, message: str = "condition"
    ) -> Any:
        """Poll ``predicate`` until truthy (returned); ``AssertionError`` with the visible texts on timeout."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + (timeout if timeout is not None else self.timeout)
        while True:
            value = predicate()
            if value:
                return value
            if loop.time() > deadline:
                raise AssertionError(
                    f"timed out waiting for {message}; visible texts: {self.texts()}; crashes: {self.crashes()}"
                )
            await asyncio.sleep(0.005)

    async def wait_for_text(self, fragment: str, *, timeout: float | None = None) -> str:
        """Wait until a visible Text contains ``fragment``; returns that Text's value."""

        def hit() -> str | None:
            return next((t for t in self.texts() if fragment in t), None)

        found: str = await self.wait_for(hit, timeout=timeout, message=f"a visible Text containing {fragment!r}")
        return found

    async def wait_for_call(self, name: str, *, timeout: float | None = None, index: int = 0) -> InvokeCall:
        """Wait for the ``index``-th INVOKE_METHOD named ``name`` (answered or not) and return it."""

        def hit() -> InvokeCall | None:
            named = [c for c in self.calls if c.name == name]
            return named[index] if len(named) > index else None

        call: InvokeCall = await self.wait_for(hit, timeout=timeout, message=f"invoke_method {name!r} #{index}")
        return call

    # -- scripting service calls --------------------------------------------------------------------------------------

    def answer(self, name: str, result: Any = None, *, control: str | None = None, once: bool = False) -> None:
        """Answer calls named ``name`` (optionally only for control type ``control``, e.g. "Geolocator").

        ``result`` may be a callable taking the :class:`InvokeCall`. The newest matching rule wins; ``once=True``
        rules are used for one call only. Calls already pending are answered now (then ``await driver.settle()``).
        """
        self._add_rule(_Rule(name, control, result, None, once))

    def fail(self, name: str, error: str, *, control: str | None = None, once: bool = False) -> None:
        """Make calls named ``name`` fail: the app's ``await`` raises ``RuntimeError(error)``."""
        self._add_rule(_Rule(name, control, None, error, once))

    def _add_rule(self, rule: _Rule) -> None:
        self._rules.append(rule)
        for call in self.pending_calls():
            if rule.matches(call) and rule in self._rules:
                self._deliver(call, rule)

    def _on_message(self, action: MessageAction, body: Any) -> None:
        if action != MessageAction.INVOKE_METHOD:
            return
        target = self.session.index.get(body["control_id"])
        call = InvokeCall(
            control_id=body["control_id"],
            call_id=body["call_id"],
            name=body["name"],
            args=body.get("args"),
            control_type=getattr(target, "_c", None),
        )
        del target
        self.calls.append(call)
        # Answer on a later loop turn, as a real client would (thread-safe: page.run_thread code may call services).
        assert self._loop is not None
        self._loop.call_soon_threadsafe(self._answer_if_scripted, call)

    def _answer_if_scripted(self, call: InvokeCall) -> None:
        if call.answered:
            return
        rule = next((r for r in reversed(self._rules) if r.matches(call)), None)
        if rule is not None:
            self._deliver(call, rule)
        elif self.auto_answers:
            self._default_answer(call)

    def _deliver(self, call: InvokeCall, rule: _Rule) -> None:
        if rule.once:
            self._rules.remove(rule)
        if rule.error is not None:
            self._resolve_call(call, None, rule.error)
        else:
            result = rule.result(call) if callable(rule.result) else rule.result
            self._resolve_call(call, result, None)

    def _resolve_call(self, call: InvokeCall, result: Any, error: str | None) -> None:
        call.answered = True
        call.result = _wire_roundtrip(result)
        call.error = error
        try:
            self.session.handle_invoke_method_results(call.control_id, call.call_id, call.result, error)
        except RuntimeError as e:  # e.g. the service was dropped from the page (not kept referenced)
            self.errors.append(f"answer to {call.control_type}.{call.name} refused: {e}")

    def _default_answer(self, call: InvokeCall) -> None:
        args = call.args or {}
        if call.control_type == "SharedPreferences":
            self._answer_prefs(call, args)
        elif call.control_type == "Page" and call.name == "push_route":
            self._resolve_call(call, None, None)
            self._spawn(self.navigate(args.get("route") or "/"), "push_route navigation")
        elif call.control_type == "Geolocator" and call.name in ("request_permission", "get_permission_status"):
            self._resolve_call(call, "whileInUse", None)
        elif call.control_type == "Geolocator" and call.name == "is_location_service_enabled":
            self._resolve_call(call, True, None)
        elif call.name in ("focus", "scroll_to"):
            self._resolve_call(call, None, None)  # a browser answers these with nothing once done

    def _answer_prefs(self, call: InvokeCall, args: dict[str, Any]) -> None:
        key = str(args.get("key"))
        result: Any
        if call.name == "get":
            result = self.prefs.get(key)
        elif call.name == "set":
            self.prefs[key] = args.get("value")
            result = True
        elif call.name == "contains_key":
            result = key in self.prefs
        elif call.name == "remove":
            result = self.prefs.pop(key, _MISSING) is not _MISSING
        elif call.name == "get_keys":
            result = [k for k in self.prefs if k.startswith(str(args.get("key_prefix") or ""))]
        elif call.name == "clear":
            self.prefs.clear()
            result = True
        else:
            return  # unknown method: stays pending
        self._resolve_call(call, result, None)

    # -- tasks --------------------------------------------------------------------------------------------------------

    def _spawn(self, coro: Awaitable[Any], what: str) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)

        def done(t: asyncio.Task[Any]) -> None:
            self._done_tasks += 1
            if not t.cancelled() and t.exception() is not None:
                self.errors.append(f"{what} raised {t.exception()!r}")

        task.add_done_callback(done)
        return task


def run_app(
    main: AppMain,
    scenario: Callable[[FletDriver], Awaitable[T]],
    *,
    timeout: float = OVERALL_TIMEOUT,
    **driver_options: Any,
) -> T:
    """Synchronous entry for plain pytest: ``asyncio.run`` a :class:`FletDriver` around ``scenario(driver)``.

    The whole run is bounded by ``timeout`` seconds; ``driver_options`` go to :class:`FletDriver`.
    """

    async def go() -> T:
        async with FletDriver(main, **driver_options) as driver:
            return await scenario(driver)

    async def bounded() -> T:
        return await asyncio.wait_for(go(), timeout)

    return asyncio.run(bounded())
