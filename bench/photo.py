"""Photo preparation on the phone: ``mobile_app.photos.prepare_photo`` vs. a naive Pillow open → resize → save.

    python bench/photo.py [--runs 5] [--seed 20260301]

1. Generate a photo-like 12 MP camera JPEG (4000×3000, quality 92, EXIF orientation 6 as a phone held upright
   writes it, plus make/model and a GPS block) from a fixed seed: smooth gradients, soft shapes, a meter face
   with digits, seeded sensor-like noise. Pillow only; the noise comes from ``random.Random(seed)``
   because ``Image.effect_noise`` uses the C library's unseeded ``rand()``.
2. Time on the same bytes, the contenders interleaved run by run (a shared machine's load then hits all of them
   alike), best and median of ``--runs``, wall clock and process CPU time:
   - ours: ``prepare_and_check(data, recent)`` — the photo pipeline WITH the checks before leaving the meter
     (draft-mode JPEG decode, OpenCV bicubic, orientation, no metadata, blur and reuse checks against
     ``--recent`` hashes of the route's earlier photos);
   - ``prepare_photo(data)`` alone, the same pipeline without the checks;
   - naive: ``Image.open`` → ``resize((1600, 1200))`` (Pillow's default bicubic) → ``save(quality=80)``.
   Prints the times, ours/naive (target ≤ 0.5×), both output sizes (target ≤ 400 KB), the checks' result, and
   the checks' own cost, step by step, on the prepared 1200×1600 image.
3. Where the time goes, step by step: decode at full, 1/2 and 1/8 scale (the 1/8 decode is roughly the
   entropy-decoding floor no DCT scaling can remove), the resize filters after the 1/2 decode, Pillow's and
   OpenCV's (time, and PSNR against a full-resolution decode + Lanczos reference, over the whole picture and over
   the meter's counter window, before and after the JPEG q80 encode the phone keeps), the transpose, and the JPEG
   encoder options (time and size) — the figures behind OpenCV's bicubic and the baseline (not optimized)
   Huffman tables in ``prepare_photo``.

No timing asserts: it prints figures.
"""

from __future__ import annotations

import argparse
import io
import math
import random
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import cv2
import numpy as np
from PIL import ExifTags, Image, ImageChops, ImageDraw, ImageFilter, ImageFont, ImageStat

from mobile_app.photo_checks import DHash, blur_score, check_photo, check_thumbnail, closest_distance, dhash
from mobile_app.photos import prepare_and_check, prepare_photo

SIZE = (4000, 3000)
COUNTER_WINDOW = (1450, 1250, 2550, 1550)  # the digits, in the camera frame: the detail the photo is for


def _gradient(size: tuple[int, int], angle: float) -> Image.Image:
    return Image.linear_gradient("L").rotate(angle, resample=Image.Resampling.BICUBIC, expand=False).resize(size)


def make_camera_jpeg(seed: int) -> bytes:
    """A deterministic 4000×3000 JPEG that decodes and compresses roughly like a phone photo of a meter."""
    rng = random.Random(seed)
    width, height = SIZE
    # Smooth lighting: three differently angled gradients as R, G, B, tinted towards a warm indoor cast.
    base = Image.merge("RGB", [_gradient(SIZE, rng.uniform(0, 360)) for _ in range(3)])
    base = Image.blend(base, Image.new("RGB", SIZE, (150, 130, 110)), 0.55)

    # Soft background objects (wall, pipes, cabinet) with blurred edges.
    shapes = Image.new("RGB", SIZE, (0, 0, 0))
    mask = Image.new("L", SIZE, 0)
    draw_shapes, draw_mask = ImageDraw.Draw(shapes), ImageDraw.Draw(mask)
    for _ in range(40):
        x0, y0 = rng.randrange(-400, width), rng.randrange(-400, height)
        box = (x0, y0, x0 + rng.randrange(150, 1400), y0 + rng.randrange(150, 1400))
        colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
        if rng.random() < 0.5:
            draw_shapes.ellipse(box, fill=colour)
            draw_mask.ellipse(box, fill=rng.randrange(90, 220))
        else:
            draw_shapes.rectangle(box, fill=colour)
            draw_mask.rectangle(box, fill=rng.randrange(90, 220))
    base.paste(shapes.filter(ImageFilter.GaussianBlur(6)), mask=mask.filter(ImageFilter.GaussianBlur(6)))

    # The meter: a dark face with a white counter window and sharp digits, the detail the photo is for.
    draw = ImageDraw.Draw(base)
    draw.rounded_rectangle((1300, 900, 2700, 2100), radius=60, fill=(35, 38, 42), outline=(200, 200, 200), width=8)
    draw.rectangle(COUNTER_WINDOW, fill=(235, 235, 228))
    font = ImageFont.load_default(size=230)
    draw.text((1480, 1270), f"{rng.randrange(10**6):06d}", fill=(10, 10, 10), font=font)
    small = ImageFont.load_default(size=70)
    draw.text((1450, 1650), "kWh  230V 10-60A  50Hz", fill=(220, 220, 220), font=small)
    draw.text((1450, 1780), f"No. {rng.randrange(10**8):08d}", fill=(220, 220, 220), font=small)

    # Texture (plaster, dust, grain) from seeded noise at three scales: coarse and medium blobs upscaled, plus
    # per-pixel sensor noise. This is what makes the file as large as a real camera's, and as slow to decode.
    def noise(size: tuple[int, int]) -> Image.Image:
        return Image.merge("RGB", [Image.frombytes("L", size, rng.randbytes(size[0] * size[1])) for _ in range(3)])

    for factor, weight in ((40, 0.25), (8, 0.15), (1, 0.15)):
        layer = noise((width // factor, height // factor))
        if factor > 1:
            layer = layer.resize(SIZE, Image.Resampling.BICUBIC)
        base = Image.blend(base, layer, weight)
    photo = base

    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Fieldmeter"
    exif[ExifTags.Base.Model] = "Bench Phone"
    exif[ExifTags.Base.Orientation] = 6  # the sensor's landscape frame, shown portrait
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (12.0, 58.0, 12.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (77.0, 35.0, 24.0)
    out = io.BytesIO()
    photo.save(out, format="JPEG", quality=92, exif=exif)
    return out.getvalue()


def naive(data: bytes) -> bytes:
    with Image.open(io.BytesIO(data)) as image:
        small = image.resize((1600, 1200))
    out = io.BytesIO()
    small.save(out, format="JPEG", quality=80)
    return out.getvalue()


def best_of(runs: int, work: Callable[[], object]) -> float:
    work()  # warm-up: imports, plugin registration, allocator
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


@dataclass(frozen=True)
class Timing:
    best: float  # wall clock, seconds
    median: float
    best_cpu: float  # process CPU time: less disturbed by other processes on a shared machine


def interleaved(runs: int, contenders: dict[str, Callable[[], object]]) -> dict[str, Timing]:
    """Time each contender ``runs`` times, one run of each in turn, so a load change hits them all alike."""
    for work in contenders.values():
        work()  # warm-up
    wall: dict[str, list[float]] = {name: [] for name in contenders}
    cpu: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(runs):
        for name, work in contenders.items():
            start_cpu, start = time.process_time(), time.perf_counter()
            work()
            wall[name].append(time.perf_counter() - start)
            cpu[name].append(time.process_time() - start_cpu)
    return {name: Timing(min(wall[name]), statistics.median(wall[name]), min(cpu[name])) for name in contenders}


def recent_hashes(count: int, seed: int) -> list[DHash]:
    """Stand-ins for the hashes of the route's earlier photos: none of them matches, so every one is compared."""
    rng = random.Random(seed)
    return [DHash(rng.getrandbits(64)) for _ in range(count)]


def checks_cost(prepared_jpeg: bytes, recent: list[DHash], runs: int) -> None:
    """The checks' own cost, step by step, on an image like the one prepare_and_check holds (1200×1600 RGB)."""
    with Image.open(io.BytesIO(prepared_jpeg)) as opened:
        image = opened.convert("RGB")
    grey = check_thumbnail(image)
    photo_hash = dhash(grey)
    steps: list[tuple[str, Callable[[], object]]] = [
        (f"thumbnail {image.width}×{image.height} → {grey.width}×{grey.height} L", partial(check_thumbnail, image)),
        ("blur score (Laplacian variance)", partial(blur_score, grey)),
        ("dHash 9×8", partial(dhash, grey)),
        (f"closest of {len(recent)} recent hashes", partial(closest_distance, photo_hash, recent)),
        ("check_photo, all of the above", partial(check_photo, image, recent)),
    ]
    print(f"Checks' own cost (best of {runs}):")
    for label, work in steps:
        print(f"  {label:<38} {best_of(runs, work) * 1000:7.3f} ms")


def _psnr(image: Image.Image, reference: Image.Image) -> float:
    squares = ImageStat.Stat(ImageChops.difference(image, reference)).sum2
    mse = sum(squares) / (len(squares) * image.width * image.height)
    return 10 * math.log10(255**2 / mse) if mse else math.inf


def _decode(data: bytes, draft: tuple[int, int] | None) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    if draft is not None:
        image.draft("RGB", draft)
    image.load()
    return image


def _cv_resize(image: Image.Image, *, interpolation: int) -> Image.Image:
    return Image.fromarray(cv2.resize(np.asarray(image), (1600, 1200), interpolation=interpolation))


def breakdown(data: bytes, runs: int) -> None:
    """Where the time goes, step by step, and why the filter and encoder options are what they are."""
    print(f"Steps (best of {runs}):")
    full = _decode(data, None)
    half = _decode(data, (1600, 1200))
    for label, draft in (("decode full 4000×3000", None), ("decode draft 1/2 → 2000×1500", (1600, 1200))):
        seconds = best_of(runs, partial(_decode, data, draft))
        print(f"  {label:<38} {seconds * 1000:7.1f} ms")
    seconds = best_of(runs, lambda: _decode(data, (500, 375)))
    print(f"  {'decode draft 1/8 (entropy-decode floor)':<38} {seconds * 1000:7.1f} ms")

    reference = full.resize((1600, 1200), Image.Resampling.LANCZOS)
    left, top, right, bottom = (round(v * 1600 / SIZE[0]) for v in COUNTER_WINDOW)
    window = (left, top, right, bottom)

    def psnrs(image: Image.Image) -> str:
        whole, digits = _psnr(image, reference), _psnr(image.crop(window), reference.crop(window))
        return f"{whole:5.1f} dB  {digits:5.1f} dB"

    def kept(image: Image.Image) -> Image.Image:
        """The picture as the phone keeps it: JPEG q80, decoded again."""
        out = io.BytesIO()
        image.save(out, format="JPEG", quality=80)
        return Image.open(io.BytesIO(out.getvalue())).convert("RGB")

    print(
        "  resize, PSNR against full-resolution decode + Lanczos (whole picture, counter window), "
        "then of the JPEG q80 kept:"
    )
    resizers: list[tuple[str, Callable[[Image.Image], Image.Image]]] = [
        *(
            (f"Pillow {name}", partial(Image.Image.resize, size=(1600, 1200), resample=resample))
            for name, resample in (
                ("lanczos", Image.Resampling.LANCZOS),
                ("bicubic", Image.Resampling.BICUBIC),
                ("bilinear", Image.Resampling.BILINEAR),
            )
        ),
        *(
            (f"OpenCV {name}", partial(_cv_resize, interpolation=interpolation))
            for name, interpolation in (
                ("cubic (ours)", cv2.INTER_CUBIC),
                ("area", cv2.INTER_AREA),
                ("linear", cv2.INTER_LINEAR),
            )
        ),
    ]
    naive_resize = best_of(runs, lambda: full.resize((1600, 1200)))
    naive_small = full.resize((1600, 1200))
    print(
        f"    {'naive: full, Pillow bicubic':<36} {naive_resize * 1000:7.1f} ms  {psnrs(naive_small)}"
        f"   kept {psnrs(kept(naive_small))}"
    )
    for name, resize in resizers:
        seconds = best_of(runs, partial(resize, half))
        resized = resize(half)
        print(
            f"    {'draft 1/2, ' + name:<36} {seconds * 1000:7.1f} ms  {psnrs(resized)}   kept {psnrs(kept(resized))}"
        )

    small = _cv_resize(half, interpolation=cv2.INTER_CUBIC)
    seconds = best_of(runs, lambda: small.transpose(Image.Transpose.ROTATE_270))
    print(f"  {'orientation 6 (transpose 1600×1200)':<38} {seconds * 1000:7.1f} ms")
    print("  JPEG encode 1600×1200 q80:")
    for label, options in (
        ("baseline (ours)", {}),
        ("optimize", {"optimize": True}),
        ("progressive", {"progressive": True}),
        ("progressive+optimize", {"progressive": True, "optimize": True}),
    ):
        sizes: list[int] = []

        def encode(options: dict[str, bool] = options, sizes: list[int] = sizes) -> None:
            out = io.BytesIO()
            small.save(out, format="JPEG", quality=80, **options)
            sizes.append(out.tell())

        seconds = best_of(runs, encode)
        print(f"    {label:<36} {seconds * 1000:7.1f} ms  {sizes[-1] / 1024:6.1f} KB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--seed", type=int, default=20260301)
    parser.add_argument("--recent", type=int, default=50, help="hashes of the route's earlier photos to compare")
    args = parser.parse_args()

    start = time.perf_counter()
    data = make_camera_jpeg(args.seed)
    print(
        f"input: {SIZE[0]}×{SIZE[1]} JPEG q92 with EXIF (orientation 6, GPS), {len(data) / 1024:.0f} KB, "
        f"generated in {time.perf_counter() - start:.1f} s (seed {args.seed})"
    )

    recent = recent_hashes(args.recent, args.seed)
    checked = prepare_and_check(data, recent)
    prepared, checks = checked.photo, checked.checks
    naive_bytes = naive(data)
    timings = interleaved(
        args.runs,
        {
            "ours": lambda: prepare_and_check(data, recent),
            "prepare_photo": lambda: prepare_photo(data),
            "naive": lambda: naive(data),
        },
    )
    ours, alone, base = timings["ours"], timings["prepare_photo"], timings["naive"]
    print(f"times, {args.runs} interleaved runs:        best      median   best CPU")
    for label, timing in (
        (f"ours  prepare_and_check ({args.recent} recent)", ours),
        ("      prepare_photo (no checks)", alone),
        ("naive open→resize→save(q80)", base),
    ):
        print(
            f"  {label:<38} {timing.best * 1000:7.1f} ms {timing.median * 1000:7.1f} ms "
            f"{timing.best_cpu * 1000:7.1f} ms"
        )
    print(
        f"ratio ours (with checks)/naive:  best {ours.best / base.best:.2f}×  median {ours.median / base.median:.2f}×  "
        f"CPU {ours.best_cpu / base.best_cpu:.2f}×  (target ≤ 0.50×)"
    )
    print(
        f"output ours:  {prepared.width}×{prepared.height}, {len(prepared.data) / 1024:6.1f} KB (target ≤ 400 KB), "
        f"sha256 {prepared.sha256[:16]}…"
    )
    print(f"output naive: 1600×1200, {len(naive_bytes) / 1024:6.1f} KB (orientation not applied)")
    print(
        f"checks: blur score {checks.blur_score} (blurred: {checks.blurred}), dHash {checks.dhash.hex}, "
        f"closest of {args.recent}: {checks.closest_distance} bits (reused: {checks.reused})"
    )
    print()
    checks_cost(prepared.data, recent, args.runs)
    print()
    breakdown(data, args.runs)


if __name__ == "__main__":
    main()
