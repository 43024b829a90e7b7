"""A small offline "map": the meter's registered location at the centre, the reader's fix and its accuracy circle.

No tiles (the console works without internet); the scale bar says how far things are.
"""

from __future__ import annotations

import math

import flet as ft
import flet.canvas as cv

from mobile_app.i18n import _

__all__ = ["location_map"]

SIZE = 180


def _offset_m(lat0: float, lon0: float, lat: float, lon: float) -> tuple[float, float]:
    # Local east/north metres; fine at the scale of a housing society.
    north = (lat - lat0) * 111_320.0
    east = (lon - lon0) * 111_320.0 * math.cos(math.radians(lat0))
    return east, north


def location_map(
    meter_lat: float | None, meter_lon: float | None, lat: float | None, lon: float | None, accuracy_m: float | None
) -> ft.Control:
    if meter_lat is None or meter_lon is None:
        return ft.Text(_("Meter has no registered location"), italic=True)
    if lat is None or lon is None:
        return ft.Text(_("No GPS fix with this reading"), italic=True, color=ft.Colors.AMBER_900)
    east, north = _offset_m(meter_lat, meter_lon, lat, lon)
    reach = max(abs(east), abs(north), accuracy_m or 0.0, 20.0) * 1.25
    scale = (SIZE / 2) / reach  # pixels per metre
    cx = cy = SIZE / 2
    fx, fy = cx + east * scale, cy - north * scale
    bar_m = 10 ** math.floor(math.log10(reach))
    shapes: list[cv.Shape] = [
        cv.Rect(0, 0, SIZE, SIZE, paint=ft.Paint(color=ft.Colors.GREY_100, style=ft.PaintingStyle.FILL)),
        cv.Circle(
            fx,
            fy,
            (accuracy_m or 0) * scale,
            paint=ft.Paint(color=ft.Colors.with_opacity(0.25, ft.Colors.BLUE), style=ft.PaintingStyle.FILL),
        ),
        cv.Line(cx - 6, cy, cx + 6, cy, paint=ft.Paint(color=ft.Colors.RED_700, stroke_width=2)),
        cv.Line(cx, cy - 6, cx, cy + 6, paint=ft.Paint(color=ft.Colors.RED_700, stroke_width=2)),
        cv.Circle(fx, fy, 4, paint=ft.Paint(color=ft.Colors.BLUE_800, style=ft.PaintingStyle.FILL)),
        cv.Line(8, SIZE - 10, 8 + bar_m * scale, SIZE - 10, paint=ft.Paint(color=ft.Colors.BLACK, stroke_width=2)),
        cv.Text(8, SIZE - 28, f"{bar_m:g} m", style=ft.TextStyle(size=10)),
    ]
    return ft.Container(
        content=cv.Canvas(shapes=shapes, width=SIZE, height=SIZE),
        width=SIZE,
        height=SIZE,
        border=ft.Border.all(1, ft.Colors.GREY_400),
        tooltip=_("Red cross: the meter's registered location; blue: the reader's fix and its accuracy"),
    )
