"""The field app's ergonomics floors (issue 12): contrast of every theme text colour, text and target sizes."""

from __future__ import annotations

import ast
from pathlib import Path

import flet as ft
import pytest

from mobile_app.ui import theme

UI_FILES = [Path("mobile_app/field_app.py"), *sorted(Path("mobile_app/ui").glob("*.py"))]
FIELD_UI = [
    p
    for p in UI_FILES
    if p.name in {"field_app.py", "route.py", "capture_view.py", "sync_screen.py", "meter_detail.py", "status_bar.py"}
]


def _channel(value: int) -> float:
    c = value / 255
    return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4


def luminance(hex_colour: str) -> float:
    """WCAG 2 relative luminance of an ``#RRGGBB`` colour."""
    text = hex_colour.lstrip("#")
    r, g, b = (int(text[i : i + 2], 16) for i in (0, 2, 4))
    return 0.2126 * _channel(r) + 0.7152 * _channel(g) + 0.0722 * _channel(b)


def contrast(one: str, other: str) -> float:
    light, dark = sorted((luminance(one), luminance(other)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_the_contrast_function_matches_known_ratios() -> None:
    assert contrast("#000000", "#FFFFFF") == pytest.approx(21.0)
    assert contrast("#FFFFFF", "#FFFFFF") == pytest.approx(1.0)
    # Flet's AMBER_800 (#FF8F00) on near-white, the warnings of old: about 2.2:1, well below 4.5.
    assert contrast("#FF8F00", "#FAFAFA") < 3.0


@pytest.mark.parametrize(
    ("text", "background"), [(fg, bg) for fg, backgrounds in theme.TEXT_ON.items() for bg in backgrounds]
)
def test_every_theme_text_colour_reaches_4_5_to_1_on_its_background(text: str, background: str) -> None:
    assert contrast(text, background) >= 4.5, (text, background, contrast(text, background))


def test_every_colour_the_field_screens_use_is_a_theme_text_colour() -> None:
    # No Flet palette colour (AMBER_800, RED_700, …) sneaks back: colours come from the theme, which is measured.
    for path in FIELD_UI:
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute):
                assert not (node.value.attr == "Colors" and node.attr != "INDIGO"), f"{path}: ft.Colors.{node.attr}"


def test_text_and_targets_meet_the_floors() -> None:
    assert theme.MIN_TARGET_PX >= 48
    assert theme.BODY_PX >= 16
    app = theme.app_theme()
    assert app.text_theme is not None
    for name in ("body_medium", "body_small", "label_large", "label_medium", "label_small", "title_small"):
        style = getattr(app.text_theme, name)
        assert style.size is not None, name
        assert style.size >= 16, name
    button = theme.touch(ft.FilledButton("Save"))
    assert button.height == 48
    assert theme.touch(ft.FilledButton("Read", height=56)).height == 56


def test_error_text_wraps_and_is_never_cut() -> None:
    error = theme.error_text("e", "Not a meter reading: letters in 12a; type only the digits on the dials " * 3)
    assert error.max_lines is None
    assert error.no_wrap is False
    assert error.overflow is ft.TextOverflow.VISIBLE
    assert error.color == theme.ERROR
