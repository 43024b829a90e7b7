"""Checks before leaving the meter: blur (Laplacian variance) and reuse (dHash) on the prepared photo."""

from __future__ import annotations

import io
import random

import pytest
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageFont

from mobile_app.photo_checks import (
    BLUR_THRESHOLD,
    REUSE_MAX_DISTANCE,
    DHash,
    PhotoChecks,
    blur_score,
    check_photo,
    check_thumbnail,
    dhash,
)
from mobile_app.photos import PHOTO_NOT_AN_IMAGE, PhotoError, prepare_and_check, prepare_photo

SIZE = (1600, 1200)


def meter_scene(seed: int, size: tuple[int, int] = SIZE, *, noise: bool = True) -> Image.Image:
    """A photo-like meter: soft lighting and background shapes, a dark face, a counter window with sharp digits."""
    rng = random.Random(seed)
    width, height = size
    lighting = Image.linear_gradient("L").rotate(rng.uniform(0, 360), resample=Image.Resampling.BICUBIC)
    image = Image.merge("RGB", [lighting.resize(size)] * 3)
    image = Image.blend(image, Image.new("RGB", size, (rng.randrange(90, 200),) * 3), 0.5)
    draw = ImageDraw.Draw(image)
    for _ in range(12):
        x0, y0 = rng.randrange(-200, width), rng.randrange(-200, height)
        box = (x0, y0, x0 + rng.randrange(80, 700), y0 + rng.randrange(80, 700))
        draw.rectangle(box, fill=(rng.randrange(256), rng.randrange(256), rng.randrange(256)))
    image = image.filter(ImageFilter.GaussianBlur(3))  # the background is out of the focal plane
    draw = ImageDraw.Draw(image)
    left, top = rng.randrange(150, 350), rng.randrange(150, 300)
    draw.rounded_rectangle((left, top, left + 1100, top + 750), radius=40, fill=(35, 38, 42), outline=(200,) * 3)
    draw.rectangle((left + 100, top + 150, left + 1000, top + 400), fill=(235, 235, 228))
    draw.text((left + 130, top + 170), f"{rng.randrange(10**6):06d}", fill=(10,) * 3, font=font(190))
    draw.text((left + 100, top + 480), "kWh 230V 10-60A 50Hz", fill=(220,) * 3, font=font(60))
    if noise:  # sensor grain, seeded (Image.effect_noise is not)
        grain = Image.frombytes("L", size, rng.randbytes(width * height)).convert("RGB")
        image = Image.blend(image, grain, 0.06)
    return image


def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def jpeg(image: Image.Image, quality: int = 90) -> bytes:
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=quality)
    return out.getvalue()


def blurred(image: Image.Image, radius: float) -> Image.Image:
    return image.filter(ImageFilter.GaussianBlur(radius))


def hash_of(image: Image.Image) -> DHash:
    return dhash(check_thumbnail(image))


# --- blur ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("noise", [True, False])
def test_a_sharp_meter_photo_is_not_blurred(seed: int, noise: bool) -> None:
    checks = check_photo(meter_scene(seed, noise=noise))
    assert not checks.blurred
    assert checks.blur_score >= BLUR_THRESHOLD


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("noise", [True, False])
def test_the_same_photo_blurred_radius_4_is_flagged(seed: int, noise: bool) -> None:
    checks = check_photo(blurred(meter_scene(seed, noise=noise), 4))
    assert checks.blurred
    assert checks.blur_score < BLUR_THRESHOLD


def test_more_blur_scores_lower() -> None:
    scene = meter_scene(4)
    scores = [check_photo(blurred(scene, radius)).blur_score for radius in (0.01, 1, 2, 4, 8)]
    assert scores == sorted(scores, reverse=True)


def test_a_flat_image_scores_zero_and_tiny_images_do_not_fail() -> None:
    assert blur_score(Image.new("L", (400, 300), 128)) == 0
    assert check_photo(Image.new("RGB", (2, 2), (10, 20, 30))).blur_score == 0


def test_the_thumbnail_is_small_greyscale_and_never_upscaled() -> None:
    assert check_thumbnail(Image.new("RGB", (1600, 1200))).size == (400, 300)
    assert check_thumbnail(Image.new("RGB", (1200, 1600))).size == (300, 400)
    assert check_thumbnail(Image.new("RGB", (300, 200))).size == (300, 200)
    assert check_thumbnail(Image.new("RGB", (300, 200))).mode == "L"


# --- reuse -----------------------------------------------------------------------------------------------------


def test_the_same_scene_re_encoded_resized_or_brightened_is_reused() -> None:
    original = prepare_and_check(jpeg(meter_scene(5), quality=92))
    variants = [
        prepare_and_check(jpeg(meter_scene(5), quality=45), [original.checks.dhash]),
        prepare_and_check(jpeg(meter_scene(5).resize((800, 600)), quality=80), [original.checks.dhash]),
        prepare_and_check(
            jpeg(ImageEnhance.Brightness(meter_scene(5)).enhance(1.15)), [DHash(0), original.checks.dhash]
        ),
    ]
    for variant in variants:
        assert variant.checks.reused
        assert variant.checks.closest_distance is not None
        assert variant.checks.closest_distance <= REUSE_MAX_DISTANCE


def test_a_different_scene_is_not_reused() -> None:
    recent = [hash_of(meter_scene(seed)) for seed in (6, 7, 8)]
    checks = check_photo(meter_scene(9), recent)
    assert not checks.reused
    assert checks.closest_distance is not None
    assert checks.closest_distance > REUSE_MAX_DISTANCE


def test_no_recent_hashes_means_no_match() -> None:
    checks = check_photo(meter_scene(10))
    assert checks.closest_distance is None
    assert not checks.reused


def test_dhash_bits_compare_horizontal_neighbours() -> None:
    # Brighter to the right everywhere: no left pixel is brighter than its right neighbour.
    ramp = Image.linear_gradient("L").rotate(90).resize((90, 80))
    assert dhash(ramp) == DHash(0)
    assert dhash(ramp.transpose(Image.Transpose.FLIP_LEFT_RIGHT)) == DHash(2**64 - 1)


def test_dhash_hex_round_trips_and_distance_counts_bits() -> None:
    value = DHash(0x0123_4567_89AB_CDEF)
    assert value.hex == "0123456789abcdef"
    assert DHash.from_hex(value.hex) == value
    assert DHash(0b1011).distance(DHash(0b0001)) == 2
    assert DHash(0).distance(DHash(2**64 - 1)) == 64


# --- in the pipeline -------------------------------------------------------------------------------------------


def test_prepare_and_check_gives_the_same_bytes_as_prepare_photo() -> None:
    data = jpeg(meter_scene(11).resize((4000, 3000)), quality=92)
    checked = prepare_and_check(data)
    assert checked.photo == prepare_photo(data)
    assert not checked.checks.blurred


def test_prepare_and_check_refuses_what_prepare_photo_refuses() -> None:
    with pytest.raises(PhotoError) as caught:
        prepare_and_check(b"not a photo", [DHash(0)])
    assert caught.value.code == PHOTO_NOT_AN_IMAGE
    with pytest.raises(ValueError, match="quality"):
        prepare_and_check(jpeg(meter_scene(15)), quality=0)


def test_checks_are_deterministic() -> None:
    data = jpeg(meter_scene(12))
    recent = [hash_of(meter_scene(13))]
    first, second = prepare_and_check(data, recent), prepare_and_check(data, recent)
    assert first == second
    assert isinstance(first.checks, PhotoChecks)
    assert check_photo(meter_scene(12)) == check_photo(meter_scene(12))


def test_checks_see_the_photo_upright() -> None:
    # A reused photo saved once with an EXIF rotation and once already rotated is still the same picture.
    scene = meter_scene(14)
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90° clockwise to display
    out = io.BytesIO()
    scene.transpose(Image.Transpose.ROTATE_90).save(out, format="JPEG", quality=90, exif=exif)
    stored_rotated = prepare_and_check(out.getvalue())
    upright = prepare_and_check(jpeg(scene), [stored_rotated.checks.dhash])
    assert upright.checks.reused
