"""Meter photos as a phone takes them in a meter cupboard: the face (``meter_photos.meter_face``) at its own size and
place among pipes and boxes, so that each photo is its own picture to the reuse check (docs/field-app.md "Photo
checks"), a blurred one when asked, and a meter label's QR code (segno) for the label scan."""

from __future__ import annotations

import io
import random

import segno
from PIL import Image, ImageDraw, ImageFilter

from tests.support.meter_photos import as_jpeg, meter_face

__all__ = ["cupboard_jpeg", "label_jpeg"]


def cupboard_jpeg(register: str, seed: int, *, blur_px: float = 0.0, label: str | None = None) -> bytes:
    """The meter showing ``register`` in a cupboard drawn from ``seed`` (another seed: another picture, 14+ bits of
    dHash apart); ``blur_px``: a Gaussian blur of that radius (6 is well below the blur threshold); ``label``: its QR
    code beside the register."""
    rng = random.Random(seed)
    canvas = Image.new("RGB", (1600, 1200), (rng.randrange(60, 200),) * 3)
    draw = ImageDraw.Draw(canvas)
    # Boxes of the cupboard around the meter; a photo with the label is a close-up without them (OpenCV's detector
    # takes some box corners for the QR code's finder patterns).
    for _ in range(6 if label is None else 0):
        x, y = rng.randrange(0, 1500), rng.randrange(0, 1100)
        shade = (rng.randrange(0, 255),) * 3
        draw.rectangle((x, y, x + rng.randrange(40, 400), y + rng.randrange(40, 400)), fill=shade)
    face = meter_face(register)
    if label is not None:
        face.paste(_qr(label), (860, 560))
    scale = rng.uniform(0.55, 0.85) if label is None else 1.0  # a label close-up fills the frame
    face = face.resize((int(face.width * scale), int(face.height * scale)))
    canvas.paste(face, (rng.randrange(0, 1600 - face.width + 1), rng.randrange(0, 1200 - face.height + 1)))
    if blur_px:
        canvas = canvas.filter(ImageFilter.GaussianBlur(blur_px))
    return as_jpeg(canvas)


def label_jpeg(text: str) -> bytes:
    """A close-up of a meter label: its QR code of ``text`` on a white sticker."""
    sticker = Image.new("RGB", (900, 700), (245, 245, 240))
    # A 6-module quiet zone: with segno's usual 4, OpenCV 4.10 misses about 1 label in 25 (40012170 is one).
    code = _qr(text, scale=10, border=6)
    sticker.paste(code, ((sticker.width - code.width) // 2, (sticker.height - code.height) // 2))
    return as_jpeg(sticker)


def _qr(text: str, scale: int = 6, border: int = 4) -> Image.Image:
    code = io.BytesIO()
    segno.make(text, error="m", micro=False).save(code, kind="png", scale=scale, border=border)
    return Image.open(code).convert("RGB")
