"""Server memory under concurrent big photo uploads: peak RSS with the decode bound, and without it.

    python bench/photo_upload.py [--photos 8] [--size 7000x5700]

Three formats: JPEG (what phones send; checked in a 1/8-scale draft decode), PNG (its data inflated in pieces,
no picture built) and WebP (decoded in full: the case the bound is for). For each, and for each
``FIELDMETER_PHOTO_DECODE_CONCURRENCY`` (2, the default, and ``--photos``, i.e. no bound), start a fresh
``fieldmeter serve --demo`` (SQLite, temp data dir), push one reading per photo naming its hash, warm the upload
path with one small photo, then PUT ``--photos`` distinct photos of ``--size`` pixels (just under the 40 MP limit)
all at once. Prints the server's resident memory before, its peak (``VmHWM`` of the process and its children, from
/proc) and the time for the whole burst; every upload must answer 201.

Prints figures, asserts none (exit 1 only when an upload fails: the figures would mean nothing).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import io
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from bench_support import BenchError, BenchServer
from PIL import Image
from sync_ingest import ENGINEER, REQUEST_TIMEOUT_S, free_port

from sync_server.demo import DEMO_PASSWORD


def make_photos(count: int, size: tuple[int, int], kind: str) -> list[bytes]:
    """Distinct smooth photos (small files, so the 10 MB limit holds at 40 MP; decoding costs the same)."""
    ramp = Image.linear_gradient("L").resize(size)
    picture = Image.merge(
        "RGB", [ramp, ramp.transpose(Image.Transpose.FLIP_LEFT_RIGHT), ramp.transpose(Image.Transpose.FLIP_TOP_BOTTOM)]
    )
    photos = []
    for index in range(count):
        # A block, not a pixel: lossy encoders would smooth a one-pixel difference away (same bytes, same hash).
        picture.paste((30 * index % 256, 40, 200), (64 * index, 0, 64 * index + 64, 64))
        buffer = io.BytesIO()
        # JPEG may quantize a one-pixel difference away: a comment keeps the files (and hashes) distinct.
        options_by_kind: dict[str, dict[str, Any]] = {
            "JPEG": {"quality": 85, "comment": f"photo {index}"},
            "PNG": {"compress_level": 1},
            "WEBP": {"quality": 60, "method": 0},
        }
        options = options_by_kind[kind]
        picture.save(buffer, kind, **options)
        photos.append(buffer.getvalue())
    return photos


def _tree(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(entry.name))
    found, stack = [], [pid]
    while stack:
        current = stack.pop()
        found.append(current)
        stack.extend(children.get(current, []))
    return found


def memory_kib(pid: int, field: str) -> int:
    """The largest ``field`` (VmRSS, VmHWM) among the server process and its children, in KiB."""
    best = 0
    for member in _tree(pid):
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{member}/status").read_text().splitlines():
                if line.startswith(field + ":"):
                    best = max(best, int(line.split()[1]))
    return best


async def burst(base_url: str, photos: list[bytes], content_type: str) -> float:
    async with httpx.AsyncClient(base_url=base_url, timeout=REQUEST_TIMEOUT_S, trust_env=False) as http:
        login = await http.post(
            "/api/auth/login", json={"username": ENGINEER, "password": DEMO_PASSWORD, "device_id": "bench-photos"}
        )
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        meters = (await http.get("/api/sync/pull", headers=headers)).json()["meters"]
        small = io.BytesIO()
        Image.new("RGB", (640, 480), (90, 90, 90)).save(small, "JPEG")
        warm = small.getvalue()
        payloads = [warm, *photos]
        if len(meters) < len(payloads):
            raise BenchError(f"engineer1 has {len(meters)} meters; {len(payloads)} readings are needed")
        now = datetime.now(UTC)
        readings = [
            {
                "uuid": str(uuid.uuid4()),
                "meter_id": meter["meter_id"],
                "read_type": "actual",
                "value": str(int(meter["previous"]["value"]) + 30 if meter["previous"] else 30),
                "captured_at": (now - timedelta(minutes=2)).isoformat(),
                "gps_lat": meter["lat"],
                "gps_lon": meter["lon"],
                "gps_accuracy_m": 5.0,
                "photo_sha256": hashlib.sha256(data).hexdigest(),
            }
            for meter, data in zip(meters, payloads, strict=False)
        ]
        body = {"protocol": 1, "device_id": "bench-photos", "sent_at": now.isoformat(), "readings": readings}
        pushed = await http.post("/api/sync/push", json=body, headers=headers)
        if pushed.status_code != 200:
            raise BenchError(f"push answered {pushed.status_code}: {pushed.text[:300]}")

        def put(data: bytes, kind: str) -> Any:
            digest = hashlib.sha256(data).hexdigest()
            return http.put(f"/api/photos/{digest}", content=data, headers=headers | {"Content-Type": kind})

        if (await put(warm, "image/jpeg")).status_code != 201:
            raise BenchError("the warm-up upload failed")
        start = time.perf_counter()
        answers = await asyncio.gather(*(put(data, content_type) for data in photos))
        seconds = time.perf_counter() - start
        statuses = [answer.status_code for answer in answers]
        if statuses != [201] * len(photos):
            raise BenchError(f"uploads answered {statuses}: {answers[0].text[:200]}")
        return seconds


def run(kind: str, photos: list[bytes], bound: int) -> tuple[int, int, float]:
    with contextlib.ExitStack() as stack:
        data_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="fm-bench-photos-")))
        server = BenchServer(data_dir, free_port(), env={"FIELDMETER_PHOTO_DECODE_CONCURRENCY": str(bound)})
        stack.callback(server.stop)
        server.wait_healthy()
        before = memory_kib(server.process.pid, "VmRSS")
        seconds = asyncio.run(burst(server.base_url, photos, f"image/{kind.lower()}"))
        peak = memory_kib(server.process.pid, "VmHWM")
        return before, peak, seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos", type=int, default=8)
    parser.add_argument("--size", default="7000x5700")
    parser.add_argument("--formats", default="JPEG,PNG,WEBP")
    parser.add_argument("--bounds", default="", help="decode bounds to compare (default: 2 and --photos)")
    args = parser.parse_args(argv)
    bounds = [int(bound) for bound in args.bounds.split(",")] if args.bounds else [2, args.photos]
    width, height = (int(part) for part in args.size.split("x"))
    print(f"{args.photos} photos of {width}×{height} ({width * height / 1e6:.1f} MP) uploaded at once")
    print(f"  {'format':<6} {'decodes at once':>15} {'RSS before':>11} {'peak RSS':>10} {'burst':>8}")
    try:
        for kind in args.formats.upper().split(","):
            photos = make_photos(args.photos, (width, height), kind)
            for bound in bounds:
                before, peak, seconds = run(kind, photos, bound)
                print(f"  {kind:<6} {bound:>15} {before / 1024:>8.0f} MB {peak / 1024:>7.0f} MB {seconds:>7.2f}s")
    except BenchError as error:
        print(f"bench failed: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
