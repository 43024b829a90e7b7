"""Photo preparation on the phone: orientation, no metadata, size, colour, hashing, refusals, atomic save."""

from __future__ import annotations

import hashlib
import io
import os
import struct
import zlib
from pathlib import Path
from typing import Any

import pytest
from PIL import ExifTags, Image, ImageChops, ImageCms, ImageDraw, ImageFile, ImageOps, ImageStat, JpegImagePlugin

from mobile_app.photos import (
    PHOTO_HASH_MISMATCH,
    PHOTO_NOT_AN_IMAGE,
    PHOTO_TOO_MANY_PIXELS,
    PHOTO_TRUNCATED,
    PhotoError,
    PreparedPhoto,
    prepare_photo,
    save_photo,
)
from mobile_app.store import list_readings, record_reading
from tests.mobile_app.phone_factories import make_reading, make_store

QUADRANTS = ((255, 0, 0), (0, 160, 0), (0, 0, 255), (240, 240, 0))  # top-left, top-right, bottom-left, bottom-right


def quadrant_image(size: tuple[int, int]) -> Image.Image:
    """Four flat colours, so any wrong flip or rotation shows as a large difference."""
    width, height = size
    image = Image.new("RGB", size)
    draw = ImageDraw.Draw(image)
    half_w, half_h = width // 2, height // 2
    boxes = (
        (0, 0, half_w, half_h),
        (half_w, 0, width, half_h),
        (0, half_h, half_w, height),
        (half_w, half_h, width, height),
    )
    for box, colour in zip(boxes, QUADRANTS, strict=True):
        if box[2] > box[0] and box[3] > box[1]:
            draw.rectangle((box[0], box[1], box[2] - 1, box[3] - 1), fill=colour)
    return image


def jpeg_bytes(image: Image.Image, *, quality: int = 90, **options: Any) -> bytes:
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=quality, **options)
    return out.getvalue()


def camera_exif(orientation: int = 1) -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "SecretPhoneMaker"
    exif[ExifTags.Base.Model] = "Model X"
    exif[ExifTags.Base.Orientation] = orientation
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (12.0, 58.0, 12.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (77.0, 35.0, 24.0)
    return exif


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims ``width``×``height`` but carries a tiny IDAT: what a decompression bomb looks like."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")
    )


def decode(prepared: PreparedPhoto) -> Image.Image:
    image = Image.open(io.BytesIO(prepared.data))
    image.load()
    return image


def pixel_near(image: Image.Image, xy: tuple[int, int], colour: tuple[int, int, int], tolerance: int = 40) -> bool:
    pixel = image.getpixel(xy)
    assert isinstance(pixel, tuple)
    return all(abs(got - want) <= tolerance for got, want in zip(pixel, colour, strict=True))


def mean_difference(a: Image.Image, b: Image.Image) -> float:
    return sum(ImageStat.Stat(ImageChops.difference(a.convert("RGB"), b.convert("RGB"))).mean) / 3


# --- orientation -----------------------------------------------------------------------------------------------


def test_orientation_6_is_applied_dimensions_swap_and_content_turns_clockwise() -> None:
    stored = quadrant_image((400, 300))
    prepared = prepare_photo(jpeg_bytes(stored, exif=camera_exif(6)))

    assert (prepared.width, prepared.height) == (300, 400)
    out = decode(prepared)
    assert out.size == (300, 400)
    # Orientation 6: display = stored turned 90° clockwise, so the stored top-left (red) is now top-right.
    assert pixel_near(out, (290, 10), QUADRANTS[0])
    assert pixel_near(out, (10, 390), QUADRANTS[3])


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_exif_orientation_matches_imageops(orientation: int) -> None:
    data = jpeg_bytes(quadrant_image((96, 64)), exif=camera_exif(orientation))
    with Image.open(io.BytesIO(data)) as source:
        expected = ImageOps.exif_transpose(source)

    out = decode(prepare_photo(data))

    assert out.size == expected.size
    assert mean_difference(out, expected) < 4


def test_orientation_applies_after_a_downscale_too() -> None:
    data = jpeg_bytes(quadrant_image((3200, 2400)), exif=camera_exif(8))
    prepared = prepare_photo(data)
    assert (prepared.width, prepared.height) == (1200, 1600)
    with Image.open(io.BytesIO(data)) as source:
        expected = ImageOps.exif_transpose(source).resize((1200, 1600))
    assert mean_difference(decode(prepared), expected) < 4


# --- metadata --------------------------------------------------------------------------------------------------


def test_exif_gps_icc_xmp_and_comment_are_stripped() -> None:
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    data = jpeg_bytes(
        quadrant_image((640, 480)),
        exif=camera_exif(1),
        icc_profile=icc,
        comment=b"taken at 12 MG Road",
        xmp=b'<x:xmpmeta xmlns:x="adobe:ns:meta/">GPS 12.97 77.59</x:xmpmeta>',
    )
    with Image.open(io.BytesIO(data)) as source:  # the fixture really carries all of it
        assert {"exif", "icc_profile", "comment", "xmp"} <= set(source.info)

    prepared = prepare_photo(data)
    out = decode(prepared)

    assert out.format == "JPEG"
    assert out.mode == "RGB"
    assert not {"exif", "icc_profile", "comment", "xmp"} & set(out.info)
    assert len(out.getexif()) == 0
    assert ExifTags.IFD.GPSInfo not in out.getexif()
    for leak in (b"Exif\0\0", b"SecretPhoneMaker", b"MG Road", b"xmpmeta", b"ICC_PROFILE"):
        assert leak not in prepared.data


# --- size ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        ((4000, 3000), (1600, 1200)),
        ((3000, 4000), (1200, 1600)),
        ((4001, 2999), (1600, 1199)),
        ((2000, 1000), (1600, 800)),
        ((1601, 1601), (1600, 1600)),
    ],
)
def test_longest_side_is_scaled_to_1600(size: tuple[int, int], expected: tuple[int, int]) -> None:
    prepared = prepare_photo(jpeg_bytes(quadrant_image(size)))
    assert (prepared.width, prepared.height) == expected
    assert decode(prepared).size == expected
    assert max(expected) <= 1600


@pytest.mark.parametrize("size", [(640, 480), (1600, 1200), (1, 1), (1200, 1600)])
def test_small_images_are_never_upscaled(size: tuple[int, int]) -> None:
    prepared = prepare_photo(jpeg_bytes(quadrant_image(size)))
    assert (prepared.width, prepared.height) == size


def test_max_side_px_and_quality_are_honoured() -> None:
    data = jpeg_bytes(quadrant_image((2400, 1800)))
    small = prepare_photo(data, max_side_px=800)
    assert (small.width, small.height) == (800, 600)
    assert len(prepare_photo(data, quality=30).data) < len(prepare_photo(data, quality=95).data)


def test_large_jpeg_is_decoded_at_reduced_scale(monkeypatch: pytest.MonkeyPatch) -> None:
    requested: list[tuple[str | None, tuple[int, int] | None]] = []
    original = JpegImagePlugin.JpegImageFile.draft

    def spy(self: JpegImagePlugin.JpegImageFile, mode: str | None, size: tuple[int, int] | None) -> Any:
        requested.append((mode, size))
        return original(self, mode, size)

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "draft", spy)
    data = jpeg_bytes(quadrant_image((4000, 3000)))

    prepared = prepare_photo(data)

    assert requested == [("RGB", (1600, 1200))]
    assert (prepared.width, prepared.height) == (1600, 1200)
    with Image.open(io.BytesIO(data)) as source:
        expected = source.resize((1600, 1200), Image.Resampling.LANCZOS)
    assert mean_difference(decode(prepared), expected) < 3


# --- colour modes ----------------------------------------------------------------------------------------------


def test_png_with_alpha_is_flattened_on_white() -> None:
    image = Image.new("RGBA", (200, 100), (0, 0, 0, 0))  # fully transparent black
    ImageDraw.Draw(image).rectangle((100, 0, 199, 99), fill=(0, 0, 255, 255))  # opaque blue right half
    out_png = io.BytesIO()
    image.save(out_png, format="PNG")

    out = decode(prepare_photo(out_png.getvalue()))

    assert out.mode == "RGB"
    assert out.size == (200, 100)
    assert pixel_near(out, (20, 50), (255, 255, 255), tolerance=8)
    assert pixel_near(out, (180, 50), (0, 0, 255))


def test_large_png_with_alpha_is_downscaled_and_flattened() -> None:
    image = Image.new("RGBA", (3200, 2400), (255, 0, 0, 0))  # transparent red must not bleed into the result
    out_png = io.BytesIO()
    image.save(out_png, format="PNG")
    out = decode(prepare_photo(out_png.getvalue()))
    assert out.size == (1600, 1200)
    assert min(ImageStat.Stat(out).mean) > 250


def test_palette_png_with_transparency_is_flattened_on_white() -> None:
    image = Image.new("P", (64, 64), 0)
    image.putpalette([0, 0, 0, 255, 0, 0] + [0] * (256 * 3 - 6))
    ImageDraw.Draw(image).rectangle((32, 0, 63, 63), fill=1)
    out_png = io.BytesIO()
    image.save(out_png, format="PNG", transparency=0)
    out = decode(prepare_photo(out_png.getvalue()))
    assert pixel_near(out, (5, 30), (255, 255, 255), tolerance=8)
    assert pixel_near(out, (60, 30), (255, 0, 0))


@pytest.mark.parametrize("mode", ["L", "CMYK"])
def test_greyscale_and_cmyk_jpegs_come_out_rgb(mode: str) -> None:
    prepared = prepare_photo(jpeg_bytes(quadrant_image((300, 200)).convert(mode)))
    assert decode(prepared).mode == "RGB"


def test_webp_input_is_accepted() -> None:
    out = io.BytesIO()
    quadrant_image((300, 200)).save(out, format="WEBP", quality=90)
    prepared = prepare_photo(out.getvalue())
    assert (prepared.width, prepared.height) == (300, 200)


# --- hash and determinism --------------------------------------------------------------------------------------


def test_sha256_is_of_the_output_bytes() -> None:
    prepared = prepare_photo(jpeg_bytes(quadrant_image((800, 600)), exif=camera_exif(6)))
    assert prepared.sha256 == hashlib.sha256(prepared.data).hexdigest()
    assert len(prepared.sha256) == 64


def test_same_input_gives_the_same_bytes() -> None:
    data = jpeg_bytes(quadrant_image((2500, 1900)), exif=camera_exif(3))
    first, second = prepare_photo(data), prepare_photo(bytes(data))
    assert first == second
    assert first.sha256 == second.sha256


def test_repr_does_not_dump_the_bytes() -> None:
    prepared = prepare_photo(jpeg_bytes(quadrant_image((64, 64))))
    assert len(repr(prepared)) < 200


# --- refusals --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [b"", b"not an image at all", b"\xff\xd8\xff", b"GIF89a" + b"\0" * 20],
    ids=["empty", "text", "jpeg-magic-only", "gif-header"],
)
def test_bytes_that_are_not_an_image_are_refused(data: bytes) -> None:
    with pytest.raises(PhotoError) as caught:
        prepare_photo(data)
    assert caught.value.code == PHOTO_NOT_AN_IMAGE
    assert caught.value.message


def test_formats_other_than_jpeg_png_webp_are_refused() -> None:
    out = io.BytesIO()
    quadrant_image((32, 32)).save(out, format="BMP")
    with pytest.raises(PhotoError) as caught:
        prepare_photo(out.getvalue())
    assert caught.value.code == PHOTO_NOT_AN_IMAGE


@pytest.mark.parametrize("size", [(400, 300), (3000, 2000)], ids=["full-decode", "draft-decode"])
def test_truncated_jpeg_is_refused(size: tuple[int, int]) -> None:
    data = jpeg_bytes(quadrant_image(size))
    with pytest.raises(PhotoError) as caught:
        prepare_photo(data[: len(data) // 2])
    assert caught.value.code == PHOTO_TRUNCATED


def test_truncated_png_is_refused() -> None:
    out = io.BytesIO()
    Image.effect_noise((300, 300), 60).save(out, format="PNG")
    data = out.getvalue()
    with pytest.raises(PhotoError) as caught:
        prepare_photo(data[: len(data) // 2])
    assert caught.value.code == PHOTO_TRUNCATED


@pytest.mark.parametrize(
    ("width", "height"),
    [(8000, 6000), (20_000, 20_000)],
    ids=["48MP-above-our-limit", "400MP-above-pillows-hard-limit"],
)
def test_decompression_bomb_is_refused_before_decoding(width: int, height: int) -> None:
    with pytest.raises(PhotoError) as caught:
        prepare_photo(png_header_only(width, height))
    assert caught.value.code == PHOTO_TOO_MANY_PIXELS


def test_pixel_limit_is_configurable_and_leaves_pillow_globals_alone() -> None:
    before = (Image.MAX_IMAGE_PIXELS, ImageFile.LOAD_TRUNCATED_IMAGES)
    data = jpeg_bytes(quadrant_image((200, 100)))
    with pytest.raises(PhotoError) as caught:
        prepare_photo(data, max_pixels=19_999)
    assert caught.value.code == PHOTO_TOO_MANY_PIXELS
    assert prepare_photo(data, max_pixels=20_000).width == 200
    after = (Image.MAX_IMAGE_PIXELS, ImageFile.LOAD_TRUNCATED_IMAGES)
    assert after == before


@pytest.mark.parametrize("arguments", [{"max_side_px": 0}, {"quality": 0}, {"quality": 101}, {"max_pixels": 0}])
def test_out_of_range_arguments_are_a_programming_error(arguments: dict[str, int]) -> None:
    with pytest.raises(ValueError, match="must be"):
        prepare_photo(jpeg_bytes(quadrant_image((8, 8))), **arguments)


# --- saving ----------------------------------------------------------------------------------------------------


def test_save_writes_sha_named_file_with_the_exact_bytes(tmp_path: Path) -> None:
    prepared = prepare_photo(jpeg_bytes(quadrant_image((800, 600))))
    folder = tmp_path / "photos"  # created on demand

    path = save_photo(prepared, folder)

    assert path == folder / f"{prepared.sha256}.jpg"
    assert path.read_bytes() == prepared.data
    assert os.listdir(folder) == [path.name]  # no temp file left behind


def test_save_is_fsynced_before_the_rename(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    prepared = prepare_photo(jpeg_bytes(quadrant_image((64, 64))))
    events: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        events.append("fsync")
        real_fsync(fd)

    def replace(src: Any, dst: Any) -> None:
        events.append("replace")
        assert Path(src).read_bytes() == prepared.data
        real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)

    save_photo(prepared, tmp_path)

    assert events == ["fsync", "replace", "fsync"]  # the file, the rename, then the folder entry


def test_a_failed_save_leaves_neither_a_partial_file_nor_a_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    prepared = prepare_photo(jpeg_bytes(quadrant_image((64, 64))))

    def broken_replace(src: Any, dst: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        save_photo(prepared, tmp_path)
    assert os.listdir(tmp_path) == []


def test_saving_again_is_idempotent_and_repairs_a_damaged_file(tmp_path: Path) -> None:
    prepared = prepare_photo(jpeg_bytes(quadrant_image((64, 64))))
    path = save_photo(prepared, tmp_path)
    assert save_photo(prepared, tmp_path) == path
    path.write_bytes(prepared.data[:10])  # e.g. a copy cut short by hand

    assert save_photo(prepared, tmp_path) == path
    assert path.read_bytes() == prepared.data
    assert os.listdir(tmp_path) == [path.name]


def test_save_refuses_bytes_that_do_not_match_their_sha(tmp_path: Path) -> None:
    prepared = prepare_photo(jpeg_bytes(quadrant_image((64, 64))))
    forged = PreparedPhoto(data=prepared.data + b"x", sha256=prepared.sha256, width=64, height=64)
    with pytest.raises(PhotoError) as caught:
        save_photo(forged, tmp_path)
    assert caught.value.code == PHOTO_HASH_MISMATCH
    assert os.listdir(tmp_path) == []


def test_a_saved_photo_is_accepted_by_the_store(tmp_path: Path) -> None:
    prepared = prepare_photo(jpeg_bytes(quadrant_image((1000, 750)), exif=camera_exif(6)))
    path = save_photo(prepared, tmp_path / "photos")
    store = make_store(tmp_path)
    try:
        record_reading(store=store, reading=make_reading(photo_sha256=prepared.sha256), photo_path=path)
        (record,) = list_readings(store=store)
        assert record.reading.photo_sha256 == prepared.sha256
        assert record.photo_path == str(path)
        assert record.photo_pending
    finally:
        store.close()
