"""Photos of a meter face drawn with a font (DejaVu, in assets/fonts): the register in white on a black window, with
the other text a real face carries (kWh, a serial number), so OCR has something to choose among."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

FONTS = Path(__file__).resolve().parents[2] / "assets" / "fonts"
EXIF_ORIENTATION = 0x0112


def meter_face(register: str, *, serial: str = "40012102") -> Image.Image:
    image = Image.new("RGB", (1200, 900), (200, 205, 195))
    draw = ImageDraw.Draw(image)
    plain = ImageFont.truetype(str(FONTS / "DejaVuSans.ttf"), 44)
    draw.rounded_rectangle((100, 150, 1100, 750), radius=40, fill=(235, 235, 228), outline=(60, 60, 60), width=8)
    draw.text((180, 190), "kWh", font=plain, fill=(30, 30, 30))
    draw.rectangle((170, 330, 1030, 520), fill=(15, 15, 15))
    draw.text((200, 350), register, font=ImageFont.truetype(str(FONTS / "DejaVuSans-Bold.ttf"), 110), fill=(245,) * 3)
    draw.text((180, 600), f"SN {serial}  1P 2W", font=plain, fill=(30, 30, 30))
    return image


def meter_jpeg(register: str, *, turned: bool = False) -> bytes:
    """The face as a phone's JPEG (``as_jpeg``)."""
    return as_jpeg(meter_face(register), turned=turned)


def as_jpeg(image: Image.Image, *, turned: bool = False) -> bytes:
    """A picture as a phone's JPEG; ``turned``: the pixels lie on their side and EXIF orientation 6 says to turn them
    upright, as a phone held upright writes it."""
    exif = Image.Exif()
    if turned:
        image = image.transpose(Image.Transpose.ROTATE_90)
        exif[EXIF_ORIENTATION] = 6
    out = io.BytesIO()
    image.save(out, "JPEG", quality=88, exif=exif.tobytes())
    return out.getvalue()
