"""A TCP proxy on 127.0.0.1 in front of a real server, whose faults a test switches (a database's outages).

``stop()`` is a stopped server: the port refuses connections and open ones are cut. ``hang()`` is a hung one:
the port accepts connections (the kernel ACKs every byte) but nothing ever comes back, on new connections and on
open ones alike. ``restore()`` forwards again; connections held while hung are closed, as a restarted server
would. The shared PostgreSQL cluster itself is never touched::

    with TcpProxy("127.0.0.1", 5432) as proxy:
        url = proxy.rewrite(database_url)   # the same database, through the proxy's port
        proxy.hang(); ...; proxy.restore()
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from types import TracebackType
from typing import Any

from sqlalchemy.engine import make_url

from tests.support.browser import free_port

__all__ = ["TcpProxy"]

CONTROL_TIMEOUT_S = 5.0


class TcpProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="tcp-proxy", daemon=True)
        self._server: asyncio.Server | None = None
        self._hung = False
        self._restored = asyncio.Event()
        self._writers: set[asyncio.StreamWriter] = set()

    @classmethod
    def before(cls, database_url: str) -> TcpProxy:
        url = make_url(database_url)
        return cls(url.host or "127.0.0.1", url.port or 5432)

    def rewrite(self, database_url: str) -> str:
        """``database_url`` with its host and port replaced by the proxy's."""
        return make_url(database_url).set(host="127.0.0.1", port=self.port).render_as_string(hide_password=False)

    def __enter__(self) -> TcpProxy:
        self._thread.start()
        self.start()
        return self

    def __exit__(
        self, _type: type[BaseException] | None, _value: BaseException | None, _traceback: TracebackType | None
    ) -> None:
        self._call(self._close())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=CONTROL_TIMEOUT_S)
        self._loop.close()

    def _call(self, coroutine: Coroutine[Any, Any, None]) -> None:
        asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=CONTROL_TIMEOUT_S)

    def start(self) -> None:
        """Listen (again) and forward."""
        self._call(self._start())

    def stop(self) -> None:
        """Refuse new connections and cut open ones."""
        self._call(self._stop())

    def hang(self) -> None:
        """Accept, hold and never answer: new connections and open ones."""
        self._call(self._hang())

    def restore(self) -> None:
        """Forward again; connections held while hung are closed."""
        self._call(self._restore())

    async def _start(self) -> None:
        self._hung = False
        if self._server is None:
            self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port, reuse_address=True)

    async def _stop(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        self._cut_all()

    async def _close(self) -> None:
        await self._stop()
        self._restored.set()
        tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _hang(self) -> None:
        self._restored = asyncio.Event()
        self._hung = True

    async def _restore(self) -> None:
        self._hung = False
        self._restored.set()
        self._cut_all()

    def _cut_all(self) -> None:
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    async def _handle(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        self._writers.add(client_writer)
        try:
            if self._hung:
                await self._restored.wait()  # accepted, never answered; cut when restored
                return
            upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
            self._writers.add(upstream_writer)
            await asyncio.gather(self._pump(client_reader, upstream_writer), self._pump(upstream_reader, client_writer))
        except (ConnectionError, OSError):
            pass
        finally:
            client_writer.transport.abort()
            self._writers.discard(client_writer)

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                if self._hung:
                    await self._restored.wait()  # bytes taken and held: the peer sees silence
                    return
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.transport.abort()
            self._writers.discard(writer)
