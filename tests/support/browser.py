"""Browser end-to-end helpers: Debian's chromium driven by Playwright, servers run as subprocesses.

Per docs/architecture.md "Tests in layers": never ``playwright install`` (no downloads); launch the system ``chromium``
with a fresh profile, block every request that is not to this machine, and switch Flutter's semantics tree on
before looking for controls by role and label. A typical test::

    port = free_port()
    server_cmd = [sys.executable, "-m", "sync_server", ...]
    with ServerProcess(server_cmd, env={...}, log_path=tmp_path / "server.log") as srv:
        wait_http_ok(f"http://127.0.0.1:{port}/api/health", timeout=30, process=srv)
        with sync_playwright() as pw:
            context = launch_browser(pw, tmp_path)
            try:
                page = first_page(context)
                page.goto(f"http://127.0.0.1:{port}/")
                enable_flutter_semantics(page)
                page.get_by_role("textbox", name="Username").fill("ravi")
            finally:
                context.close()

Tests that use these are marked ``@pytest.mark.browser`` (``tests/conftest.py`` skips them when chromium is
missing) and should run serially: a cold browser test costs about 8 s.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Any
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import BrowserContext, Page, Playwright, Route

__all__ = [
    "CHROMIUM_ARGS",
    "LOCAL_HOSTS",
    "ServerProcess",
    "chromium_path",
    "enable_flutter_semantics",
    "failure_screenshots",
    "first_page",
    "free_port",
    "launch_browser",
    "require_chromium",
    "wait_http_ok",
    "wait_settled_screenshot",
]

CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-proxy-server",  # every request allowed through is to this machine anyway
)
# Chromium's fake camera/microphone, for camera tests (flet-camera in the browser).
FAKE_MEDIA_ARGS = ("--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream")
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
CHROMIUM_MISSING = "chromium is not on PATH (scripts/test installs Debian's package: apt-get install chromium)"


def chromium_path() -> str | None:
    return shutil.which("chromium")


def require_chromium() -> str:
    """The chromium executable, or skip the calling test when there is none."""
    path = chromium_path()
    if path is None:
        pytest.skip(CHROMIUM_MISSING)
    return path


def launch_browser(
    playwright: Playwright,
    tmp_path: Path,
    geolocation: Mapping[str, float] | None = None,
    *,
    blocked: list[str] | None = None,
    fake_media: bool = False,
    viewport: Mapping[str, int] | None = None,
    default_timeout_ms: float = 20_000,
    extra_args: Sequence[str] = (),
) -> BrowserContext:
    """Launch Debian's chromium headless with a fresh profile under ``tmp_path`` and return its context.

    ``geolocation`` (``{"latitude": …, "longitude": …, "accuracy": …}``) is what ``navigator.geolocation``
    (and so flet-geolocator) reports, with the permission granted. Every request whose host is not
    127.0.0.1/localhost is aborted; pass a list as ``blocked`` to collect those URLs. The caller closes the
    context (``context.close()``). ``fake_media`` adds Chromium's fake camera and microphone.
    """
    executable = chromium_path()
    if executable is None:
        raise RuntimeError(CHROMIUM_MISSING)
    profile = tmp_path / "chromium-profile"
    n = 0
    while profile.exists():  # fresh profile even when called twice with the same tmp_path
        n += 1
        profile = tmp_path / f"chromium-profile-{n}"
    profile.mkdir(parents=True)

    args = [*CHROMIUM_ARGS, *(FAKE_MEDIA_ARGS if fake_media else ()), *extra_args]
    options: dict[str, Any] = {
        "executable_path": executable,
        "headless": True,
        "args": args,
        "viewport": dict(viewport) if viewport is not None else {"width": 1280, "height": 800},
        "locale": "en-IN",
        "timezone_id": "Asia/Kolkata",
        "service_workers": "block",
    }
    if geolocation is not None:
        options["geolocation"] = dict(geolocation)
        options["permissions"] = ["geolocation"]
    context = playwright.chromium.launch_persistent_context(str(profile), **options)
    try:
        context.set_default_timeout(default_timeout_ms)

        def local_only(route: Route) -> None:
            url = route.request.url
            if urlsplit(url).hostname in LOCAL_HOSTS:
                route.continue_()
            else:
                if blocked is not None:
                    blocked.append(url)
                route.abort("blockedbyclient")

        context.route("**/*", local_only)
    except BaseException:
        context.close()
        raise
    return context


def first_page(context: BrowserContext) -> Page:
    """A persistent context opens with one blank page: use it rather than opening a second."""
    return context.pages[0] if context.pages else context.new_page()


def enable_flutter_semantics(page: Page, timeout: float = 30.0) -> None:
    """Switch Flutter's accessibility tree on, so ``get_by_role``/``get_by_text`` can find controls.

    Flutter web draws on a canvas; the semantics tree appears only after its hidden placeholder is clicked.
    Waits up to ``timeout`` seconds for the Flutter app to have started (the placeholder exists).
    """
    page.wait_for_function("() => document.querySelector('flt-semantics-placeholder') !== null", timeout=timeout * 1000)
    page.evaluate("() => document.querySelector('flt-semantics-placeholder')?.click()")
    page.wait_for_function(
        "() => document.querySelector('flt-semantics-placeholder') === null"
        " || document.querySelector('flt-semantics') !== null",
        timeout=timeout * 1000,
    )


def wait_settled_screenshot(page: Page, path: Path, timeout: float = 10.0, interval: float = 0.3) -> bytes:
    """Save a screenshot once two consecutive ones are identical (Flutter's canvas lags the DOM by 1–2 s).

    Returns the PNG bytes. On timeout the last screenshot is still saved (for the failure report) and
    TimeoutError is raised. A focused Flutter text field blinks its caret and never settles: unfocus it first.
    """
    deadline = time.monotonic() + timeout
    previous = page.screenshot()
    while True:
        time.sleep(interval)
        current = page.screenshot()
        if current == previous:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(current)
            return current
        previous = current
        if time.monotonic() >= deadline:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(current)
            raise TimeoutError(f"page did not settle within {timeout} s; last screenshot saved to {path}")


def failure_screenshots(pages: Iterable[Page], folder: Path) -> None:
    """What each open page showed when a test failed, saved as ``failure-N.png`` (the folder is printed)."""
    for index, page in enumerate(pages):
        page.screenshot(path=str(folder / f"failure-{index}.png"))
    print(f"\nscreenshots (failure): {folder}")


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free a moment ago (the OS picks it; bind promptly)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def wait_http_ok(url: str, timeout: float = 30.0, *, process: ServerProcess | None = None) -> httpx.Response:
    """Poll ``url`` until it answers 2xx; return that response.

    With ``process``, give up as soon as that server has exited (raising with its log tail) instead of waiting
    out the timeout. Raises TimeoutError with the last status or error otherwise.
    """
    deadline = time.monotonic() + timeout
    last = "no attempt"
    with httpx.Client(timeout=2.0, trust_env=False) as client:
        while True:
            if process is not None:
                process.assert_running()
            try:
                response = client.get(url)
            except httpx.TransportError as exc:
                last = f"{type(exc).__name__}: {exc}"
            else:
                if response.is_success:
                    return response
                last = f"HTTP {response.status_code}"
            if time.monotonic() >= deadline:
                tail = f"\n{process.name} log tail:\n{process.log_tail()}" if process is not None else ""
                raise TimeoutError(f"{url} not OK after {timeout} s (last: {last}){tail}")
            time.sleep(0.2)


class ServerProcess:
    """Run a command (a server) as a subprocess for the duration of a ``with`` block.

    Output (stdout and stderr) goes to ``log_path``. The process gets its own session, so on exit the whole
    group (the server and any children it spawned) gets SIGTERM, then SIGKILL after ``stop_timeout`` seconds.
    When the block raised, or the process had died by itself before the end, the log tail is printed (pytest
    shows it with the failure). ``env`` is added to the current environment unless ``inherit_env=False``.
    """

    def __init__(
        self,
        command: Sequence[str | os.PathLike[str]],
        *,
        log_path: Path,
        env: Mapping[str, str] | None = None,
        cwd: str | os.PathLike[str] | None = None,
        name: str | None = None,
        inherit_env: bool = True,
        stop_timeout: float = 10.0,
    ) -> None:
        self.command = [os.fspath(part) for part in command]
        self.log_path = Path(log_path)
        self.cwd = cwd
        self.name = name or Path(self.command[0]).name
        self.stop_timeout = stop_timeout
        self.env = {**(os.environ if inherit_env else {}), "PYTHONUNBUFFERED": "1", **(env or {})}
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self._stopped_by_us = False

    @property
    def process(self) -> subprocess.Popen[bytes]:
        if self._process is None:
            raise RuntimeError(f"{self.name} has not been started")
        return self._process

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def returncode(self) -> int | None:
        """The exit code once the process has exited (negative: killed by that signal), else None."""
        proc = self.process
        if proc.returncode is not None:
            return proc.returncode
        info = self._peek_exit()
        if info is None:
            return None
        return info.si_status if info.si_code == os.CLD_EXITED else -info.si_status

    def start(self) -> ServerProcess:
        if self._process is not None:
            raise RuntimeError(f"{self.name} already started")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("wb")
        try:
            self._process = subprocess.Popen(
                self.command,
                stdin=subprocess.DEVNULL,
                stdout=self._log,
                stderr=subprocess.STDOUT,
                env=self.env,
                cwd=self.cwd,
                start_new_session=True,
            )
        except BaseException:
            self._log.close()
            raise
        return self

    def _peek_exit(self) -> os.waitid_result | None:
        # Look without reaping: while the exited leader is a zombie its pid still names our process group, so
        # signalling the group can only reach processes we started.
        try:
            return os.waitid(os.P_PID, self.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:  # already reaped
            return None

    def is_running(self) -> bool:
        return self._process is not None and self.returncode is None

    def assert_running(self) -> None:
        """Raise (with the log tail) if the process has exited."""
        code = self.returncode
        if code is not None:
            raise RuntimeError(f"{self.name} exited with code {code}; log tail:\n{self.log_tail()}")

    def stop(self) -> int:
        """SIGTERM the process group, SIGKILL it if alive after ``stop_timeout`` s; return the exit code."""
        proc = self.process
        if proc.returncode is None:
            if self.returncode is None:
                self._signal_group(signal.SIGTERM)
                if not self._wait_exit(self.stop_timeout):
                    self._signal_group(signal.SIGKILL)
                    self._wait_exit(10.0)
            # The leader has exited but is not reaped yet: children that outlived it (same group) go too.
            self._signal_group(signal.SIGKILL)
            proc.wait(timeout=10)
        if self._log is not None:
            self._log.close()
            self._log = None
        return proc.returncode

    def _wait_exit(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while self.returncode is None:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.05)
        return True

    def _signal_group(self, sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, sig)  # the group we created with start_new_session (pgid == pid)

    def log_tail(self, lines: int = 60) -> str:
        if self._log is not None:
            self._log.flush()
        try:
            text = self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        died_by_itself = self._process is not None and self.returncode is not None
        code = self.stop()
        if exc_type is not None or died_by_itself:
            why = "the test failed" if exc_type is not None else f"it exited by itself with code {code}"
            print(
                f"\n----- {self.name} (pid {self.pid}) log tail, {why}: {self.log_path} -----\n"
                f"{self.log_tail()}\n----- end of {self.name} log -----",
                file=sys.stderr,
            )
