"""OCR of the register on the server: time and peak memory per photo, as ``sync_server.photo_ocr`` reads them.

    python bench/ocr.py [--runs 3] [--seed 20260301]

Each case runs in a fresh Python process (its peak resident memory is the process's own, the recogniser's models
included), on a 12 MP phone-like meter photo (``bench/photo.py``'s synthetic camera JPEG) and on a small 1200×900
face drawn with a font:

- ``photo_ocr``: ``read_register`` — EXIF-upright, scaled to ``MAX_SIDE_PX`` (1280), then read;
- ``full size``: the same recogniser on the photo as it came, the cost the scaling avoids.

Prints per case: the recogniser's load time, the best and median read time over ``--runs`` and the peak RSS (MB).
No timing asserts: it prints figures.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

_CHILD = r"""
import io, json, resource, sys, time
from PIL import Image, ImageOps
from sync_server import photo_ocr

path, mode, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
data = open(path, "rb").read()
started = time.perf_counter()
engine = photo_ocr._recogniser()
load_s = time.perf_counter() - started
times, value = [], None
for _ in range(runs):
    started = time.perf_counter()
    if mode == "photo_ocr":
        found = photo_ocr.read_register(data)
        value = None if found is None else found.value
    else:
        image = ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGB")
        result, _ = engine(image)
        value = str(len(result or [])) + " texts"
    times.append(time.perf_counter() - started)
peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"load_s": load_s, "times": times, "peak_mb": peak_mb, "value": value}))
"""


def _photos(seed: int, folder: Path) -> dict[str, Path]:
    sys.path.insert(0, str(ROOT / "bench"))
    sys.path.insert(0, str(ROOT))
    from photo import make_camera_jpeg

    from tests.support.meter_photos import meter_jpeg

    photos = {"12 MP camera photo": make_camera_jpeg(seed), "1200×900 face (register 04521)": meter_jpeg("04521")}
    paths: dict[str, Path] = {}
    for index, (name, data) in enumerate(photos.items()):
        paths[name] = folder / f"photo{index}.jpg"
        paths[name].write_bytes(data)
    return paths


def _measure(path: Path, mode: str, runs: int) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, str(path), mode, str(runs)],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        timeout=900,
    )
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=20260301)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        for name, path in _photos(args.seed, Path(folder)).items():
            print(f"{name} ({path.stat().st_size / 1024:,.0f} KB):")
            for mode in ("photo_ocr", "full size"):
                found = _measure(path, mode, args.runs)
                times = [float(t) for t in found["times"]]
                print(
                    f"  {mode:10}  load {float(found['load_s']):5.2f} s  read best {min(times):5.2f} s, "
                    f"median {statistics.median(times):5.2f} s  peak RSS {float(found['peak_mb']):6.0f} MB  "
                    f"→ {found['value']}"
                )


if __name__ == "__main__":
    main()
