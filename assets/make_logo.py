"""Draw the society logo used by the PDF invoices (``assets/logo.png``) with Pillow.

The PNG is committed; this script only documents how it was made, so it can be redrawn (for another society's
initials, say) with ``python assets/make_logo.py``. Plain flat colours keep it legible on a monochrome printout.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

HERE = Path(__file__).resolve().parent
# 480×160 px is 3:1 like the 60 × 20 mm box the invoice reserves: about 200 dpi on paper, sharp enough to print.
SIZE = (480, 160)
NAVY = (23, 48, 94)
AMBER = (255, 183, 3)
WHITE = (255, 255, 255)


def draw_logo(initials: str = "BC") -> Image.Image:
    """Return the logo: a navy disc with an amber lightning bolt, then the society's initials."""
    image = Image.new("RGB", SIZE, WHITE)
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((4, 4, SIZE[0] - 5, SIZE[1] - 5), radius=28, outline=NAVY, width=6)
    draw.ellipse((22, 14, 154, 146), fill=NAVY)
    # A lightning bolt as one polygon, drawn inside the disc (points clockwise from the top).
    bolt = [(100, 26), (56, 88), (84, 88), (70, 134), (122, 66), (92, 66), (110, 26)]
    draw.polygon(bolt, fill=AMBER)
    font = ImageFont.truetype(str(HERE / "fonts" / "DejaVuSans-Bold.ttf"), 104)
    draw.text((320, SIZE[1] // 2 + 2), initials, font=font, fill=NAVY, anchor="mm")
    return image


if __name__ == "__main__":
    draw_logo().save(HERE / "logo.png", optimize=True)
