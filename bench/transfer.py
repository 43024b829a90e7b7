"""Bytes on the wire: the initial pull of a big route and the web console's first load, gzip vs identity.

    python bench/transfer.py [--meters 5000] [--no-browser]

1. Start ``fieldmeter serve --demo`` (SQLite in a temp data dir, the console mounted at ``/`` as deployed) and
   seed ``--meters`` meters assigned to engineer1, each with last month's approved reading (the seeding of
   ``bench/sync_ingest.py``).
2. The engineer's initial pull, ``GET /api/sync/pull`` (cursor 0), twice: ``Accept-Encoding: gzip`` and
   ``identity``. Prints the bytes as they crossed the wire, per meter, the ratio, the time of each, and checks the
   gzipped answer decodes to the same JSON.
3. The console's first load in Chromium (Debian's, via ``tests/support/browser.py``; a fresh profile, no cache, no
   service worker): open ``/``, wait until the network is idle. For every response, the encoded body size as
   transferred (Playwright's ``request.sizes()``) and the decoded body size. Twice: as Chromium asks by default
   (gzip accepted) and with ``Accept-Encoding: identity`` forced (what every load cost before compression).

Prints figures; exits 1 only when a check on its own results fails (the figures would mean nothing).
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import json
import random
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
from bench_support import BenchError, BenchServer
from sync_ingest import ENGINEER, REQUEST_TIMEOUT_S, free_port, seed_meters, sqlalchemy_url

from sync_server.db import create_db_engine
from sync_server.demo import DEMO_PASSWORD

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # tests.support.browser


@dataclass
class Wire:
    encoding: str
    status: int
    body: bytes
    seconds: float


def fetch(client: httpx.Client, path: str, accept: str) -> Wire:
    start = time.perf_counter()
    with client.stream("GET", path, headers={"Accept-Encoding": accept}) as response:
        body = b"".join(response.iter_raw())
        return Wire(
            response.headers.get("content-encoding", "identity"),
            response.status_code,
            body,
            time.perf_counter() - start,
        )


def bench_pull(server: BenchServer, meters: int) -> None:
    with httpx.Client(base_url=server.base_url, timeout=REQUEST_TIMEOUT_S, trust_env=False) as client:
        login = client.post(
            "/api/auth/login", json={"username": ENGINEER, "password": DEMO_PASSWORD, "device_id": "bench-transfer"}
        )
        if login.status_code != 200:
            raise BenchError(f"login failed: {login.status_code} {login.text[:300]}")
        client.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
        fetch(client, "/api/sync/pull", "identity")  # warm-up: imports, caches, SQLite pages
        plain = fetch(client, "/api/sync/pull", "identity")
        packed = fetch(client, "/api/sync/pull", "gzip")
    if (plain.status, packed.status) != (200, 200):
        raise BenchError(f"pull answered {plain.status}/{packed.status}")
    if (plain.encoding, packed.encoding) != ("identity", "gzip"):
        raise BenchError(f"pull encodings were {plain.encoding}/{packed.encoding}")
    document = json.loads(plain.body)
    if json.loads(gzip.decompress(packed.body)) != document:
        raise BenchError("the gzipped pull does not decode to the same JSON")
    count = len(document["meters"])
    if count < meters:
        raise BenchError(f"the pull holds {count} meters, fewer than the {meters} seeded")
    print(f"Initial pull, {count} meters ({meters} seeded + the demo route):")
    for wire in (plain, packed):
        size = len(wire.body)
        print(f"  {wire.encoding:<10} {size:>12,} bytes  {size / count:8.1f} B/meter  {wire.seconds * 1000:7.0f} ms")
    ratio = len(packed.body) / len(plain.body)
    print(f"  gzip/identity = {ratio:.3f} ({1 / ratio:.1f}× smaller)")


@dataclass
class Load:
    label: str
    files: list[tuple[str, str, int, int]] = field(default_factory=list)  # path, encoding, transferred, decoded

    @property
    def transferred(self) -> int:
        return sum(item[2] for item in self.files)

    @property
    def decoded(self) -> int:
        return sum(item[3] for item in self.files)


def first_load(url: str, profile_dir: Path, *, force_identity: bool) -> Load:
    from playwright.sync_api import Response, sync_playwright

    from tests.support.browser import first_page, launch_browser

    load = Load("Accept-Encoding: identity (before)" if force_identity else "Chromium's default (gzip accepted)")
    responses: list[Response] = []
    with sync_playwright() as playwright:
        context = launch_browser(playwright, profile_dir, default_timeout_ms=120_000)
        try:
            if force_identity:
                context.set_extra_http_headers({"Accept-Encoding": "identity"})
            page = first_page(context)
            page.on("response", lambda response: responses.append(response))
            page.goto(url, wait_until="networkidle")
            page.wait_for_timeout(1500)  # Flutter fetches fonts once it first lays out: let those finish too
            page.wait_for_load_state("networkidle")
            for response in responses:
                if response.request.url.startswith("ws") or response.status != 200:
                    continue
                response.finished()
                sizes = response.request.sizes()
                encoding = response.headers.get("content-encoding", "identity")
                path = response.url.removeprefix(url.rstrip("/"))
                load.files.append((path or "/", encoding, sizes["responseBodySize"], len(response.body())))
        finally:
            context.close()
    return load


def print_load(load: Load) -> None:
    print(f"Console first load, {load.label}: {len(load.files)} files")
    for path, encoding, transferred, decoded in sorted(load.files, key=lambda item: -item[3]):
        if decoded >= 50_000:
            shown = path if len(path) <= 50 else "…" + path[-49:]
            print(f"    {shown:<50} {encoding:<9} {transferred:>11,} of {decoded:>11,} bytes")
    ratio = load.transferred / load.decoded
    print(f"  transferred {load.transferred:>12,} bytes; decoded {load.decoded:>12,} bytes; ratio {ratio:.3f}")


def bench_browser(server: BenchServer, scratch: Path) -> None:
    before = first_load(server.base_url + "/", scratch / "identity", force_identity=True)
    after = first_load(server.base_url + "/", scratch / "gzip", force_identity=False)
    print_load(before)
    print_load(after)
    if not any(encoding == "gzip" for _, encoding, _, _ in after.files):
        raise BenchError("no file of the first load came gzipped")
    print(
        f"First load: {before.transferred / 1e6:.1f} MB before, {after.transferred / 1e6:.1f} MB after "
        f"({after.transferred / before.transferred:.3f}; {before.transferred / after.transferred:.1f}× smaller)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--meters", type=int, default=5000)
    parser.add_argument("--no-browser", action="store_true", help="skip the Chromium first-load measurement")
    args = parser.parse_args(argv)
    try:
        with contextlib.ExitStack() as stack:
            data_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="fm-bench-transfer-")))
            server = BenchServer(data_dir, free_port())
            stack.callback(server.stop)
            server.wait_healthy()
            engine = create_db_engine(sqlalchemy_url(None, data_dir))
            stack.callback(engine.dispose)
            with httpx.Client(base_url=server.base_url, timeout=REQUEST_TIMEOUT_S, trust_env=False) as client:
                login = client.post(
                    "/api/auth/login", json={"username": ENGINEER, "password": DEMO_PASSWORD, "device_id": "seed"}
                )
                engineer_id = login.json()["user_id"]
            seed_meters(engine, args.meters, engineer_id, datetime.now(UTC), random.Random(20261201))
            bench_pull(server, args.meters)
            if not args.no_browser:
                bench_browser(server, data_dir / "browser")
    except BenchError as error:
        print(f"bench failed: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
