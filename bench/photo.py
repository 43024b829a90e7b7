"""Photo preparation on the phone: ``mobile_app.photos.prepare_photo`` vs. a naive Pillow open → resize → save.

    python bench/photo.py [--runs 5] [--seed 20260301]

1. Generate a photo-like 12 MP camera JPEG (4000×3000, quality 92, EXIF orientation 6 as a phone held upright
   writes it, plus make/model and a GPS block) from a fixed seed: smooth gradients, soft shapes, a meter face
   with digits, seeded sensor-like noise. Pillow only (no numpy); the noise comes from ``random.Random(seed)``
   because ``Image.effect_noise`` uses the C library's unseeded ``rand()``.
2. Time, best of ``--runs`` each, on the same bytes:
   - ours: ``prepare_photo(data)`` (draft-mode JPEG decode, bicubic, orientation, no metadata, optimize);
   - naive: ``Image.open`` → ``resize((1600, 1200))`` (Pillow's default bicubic) → ``save(quality=80)``.
   Prints both times, ours/naive (target ≤ 0.5×) and both output sizes (target ≤ 400 KB).
3. Where the time goes, step by step: decode at full, 1/2 and 1/8 scale (the 1/8 decode is roughly the
   entropy-decoding floor no DCT scaling can remove), the resize filters after the 1/2 decode (time, and PSNR
   against a full-resolution decode + Lanczos reference), the transpose, and the JPEG encoder options (time and
   size) — the figures behind bicubic and ``optimize=True`` in ``prepare_photo``.

No timing asserts: it prints figures.
"""

from __future__ import annotations

import argparse
import io
import math
import random
import time
from collections.abc import Callable
from functools import partial

from PIL import ExifTags, Image, ImageChops, ImageDraw, ImageFilter, ImageFont, ImageStat

from mobile_app.photos import prepare_photo

SIZE = (4000, 3000)


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
    draw.rectangle((1450, 1250, 2550, 1550), fill=(235, 235, 228))
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
    print("  resize, PSNR against full-resolution decode + Lanczos:")
    naive_resize = best_of(runs, lambda: full.resize((1600, 1200)))
    print(
        f"    {'naive: full, bicubic':<36} {naive_resize * 1000:7.1f} ms  "
        f"{_psnr(full.resize((1600, 1200)), reference):5.1f} dB"
    )
    for name, resample in (
        ("lanczos", Image.Resampling.LANCZOS),
        ("bicubic (ours)", Image.Resampling.BICUBIC),
        ("bilinear", Image.Resampling.BILINEAR),
    ):
        seconds = best_of(runs, partial(half.resize, (1600, 1200), resample))
        quality = _psnr(half.resize((1600, 1200), resample), reference)
        print(f"    {'draft 1/2, ' + name:<36} {seconds * 1000:7.1f} ms  {quality:5.1f} dB")

    small = half.resize((1600, 1200), Image.Resampling.BICUBIC)
    seconds = best_of(runs, lambda: small.transpose(Image.Transpose.ROTATE_270))
    print(f"  {'orientation 6 (transpose 1600×1200)':<38} {seconds * 1000:7.1f} ms")
    print("  JPEG encode 1600×1200 q80:")
    for label, options in (
        ("baseline", {}),
        ("optimize (ours)", {"optimize": True}),
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
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=20260301)
    args = parser.parse_args()

    start = time.perf_counter()
    data = make_camera_jpeg(args.seed)
    print(
        f"input: {SIZE[0]}×{SIZE[1]} JPEG q92 with EXIF (orientation 6, GPS), {len(data) / 1024:.0f} KB, "
        f"generated in {time.perf_counter() - start:.1f} s (seed {args.seed})"
    )

    prepared = prepare_photo(data)
    naive_bytes = naive(data)
    ours_s = best_of(args.runs, lambda: prepare_photo(data))
    naive_s = best_of(args.runs, lambda: naive(data))
    print(f"ours  prepare_photo:               {ours_s * 1000:7.1f} ms  (best of {args.runs})")
    print(f"naive open→resize→save(q80):       {naive_s * 1000:7.1f} ms  (best of {args.runs})")
    print(f"ratio ours/naive:                  {ours_s / naive_s:7.2f}×  (target ≤ 0.50×)")
    print(
        f"output ours:  {prepared.width}×{prepared.height}, {len(prepared.data) / 1024:6.1f} KB (target ≤ 400 KB), "
        f"sha256 {prepared.sha256[:16]}…"
    )
    print(f"output naive: 1600×1200, {len(naive_bytes) / 1024:6.1f} KB (orientation not applied)")
    print()
    breakdown(data, args.runs)


if __name__ == "__main__":
    main()
