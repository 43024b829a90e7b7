"""Storing a pull on the phone: ``mobile_app.store.apply_pull`` for a 2,000-meter full pull and a delta.

    python bench/pull_store.py [--meters 2000] [--runs 7] [--dir DIR]

Two times per call: ``apply_pull`` as a whole, and the part of it that holds the store's write lock (from its
BEGIN IMMEDIATE to the commit's return), which is what an engineer's save waits for while a pull lands. The pull is
built (pydantic models, history and period reads included) before the clock starts. Prints the median and the worst
of ``--runs`` full pulls (each replacing the cache) and of as many deltas upserting every meter. Before issue 12
(one ``session.merge`` per meter) a 2,000-meter full pull held the lock ~650-870 ms on the 2-CPU machine.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

from sqlalchemy import event

from mobile_app.store import apply_pull, get_meters, open_store
from shared_billing.protocol import MeterAssignment, PeriodRead, PreviousReading, PullResponse

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def make_meters(count: int) -> list[MeterAssignment]:
    meters = []
    for i in range(count):
        history = [
            PreviousReading(value=f"{5000 - 90 * k}.0", captured_at=T0 - timedelta(days=30 * (k + 1))) for k in range(6)
        ]
        fields: dict[str, object] = {
            "meter_id": i + 1,
            "meter_number": f"M{i + 1:05d}",
            "unit_code": f"B{i // 200 + 1}-{i % 200 + 1}",
            "block_code": f"B{i // 200 + 1}",
            "kind": "unit",
            "dials": 6,
            "decimals": 1,
            "multiplier": "1",
            "lat": 12.97,
            "lon": 77.59,
            "previous": history[0],
            "walk_order": i + 1,
            "history": history,
            "tariff_code": "DOM",
            "unit_type": "residential",
            "sanctioned_load_kw": "5",
        }
        if i % 3 == 0:
            fields["period_read"] = PeriodRead(
                reading_uuid=uuid4(), read_type="actual", value="5100.0", captured_at=T0, status="submitted"
            )
        meters.append(MeterAssignment.model_validate(fields))
    return meters


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--meters", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--dir", type=Path, default=None)
    args = parser.parse_args()
    meters = make_meters(args.meters)
    times: dict[str, list[tuple[float, float]]] = {"full pull": [], "delta (all upserted)": []}
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        store = open_store(path=Path(tmp) / "phone.db")
        began: list[float] = []
        # Registered after the store's own listener, so it runs once BEGIN IMMEDIATE holds the lock.
        event.listen(store.engine, "begin", lambda _connection: began.append(time.perf_counter()))
        for run in range(args.runs):
            for cursor, (name, full) in enumerate((("full pull", True), ("delta (all upserted)", False))):
                pull = PullResponse(
                    cursor=2 * run + cursor + 1, full=full, meters=meters, removed_meter_ids=[], decisions=[]
                )
                began.clear()
                started = time.perf_counter()
                apply_pull(store=store, pull=pull)
                ended = time.perf_counter()
                times[name].append((ended - started, ended - began[0]))
        assert len(get_meters(store=store)) == args.meters
        store.close()
    for name, pairs in times.items():
        whole = [pair[0] * 1000 for pair in pairs]
        locked = [pair[1] * 1000 for pair in pairs]
        print(
            f"{name:>22}: {args.meters} meters, apply_pull median {statistics.median(whole):6.1f} ms; "
            f"lock held median {statistics.median(locked):6.1f} ms, worst {max(locked):6.1f} ms ({args.runs} runs)"
        )


if __name__ == "__main__":
    main()
