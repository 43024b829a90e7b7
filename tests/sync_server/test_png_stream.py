"""The PNG data check that replaces a full decode: good files of every kind pass, damaged ones are named."""

from __future__ import annotations

import io
import zlib
from pathlib import Path

import pytest
from PIL import Image

from sync_server.photo_blobs import FolderBlobs
from sync_server.photo_store import PhotoStore
from sync_server.png_stream import PNG_SIGNATURE, png_stream_problem
from sync_server.problems import Problem
from tests.sync_server.factories import sha256


def _png(mode: str, size: tuple[int, int]) -> bytes:
    image = Image.linear_gradient("L").resize(size).convert(mode)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def _chunk(kind: bytes, body: bytes) -> bytes:
    return len(body).to_bytes(4, "big") + kind + body + zlib.crc32(kind + body).to_bytes(4, "big")


def _assemble(width: int, height: int, raw: bytes, *, interlace: int = 0, colour_type: int = 0) -> bytes:
    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, colour_type, 0, 0, interlace])
    return PNG_SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(raw)) + _chunk(b"IEND", b"")


@pytest.mark.parametrize("mode", ["1", "L", "P", "RGB", "RGBA", "LA", "I;16"])
@pytest.mark.parametrize("size", [(1, 1), (7, 3), (33, 17), (640, 480)])
def test_pngs_pillow_writes_pass(mode: str, size: tuple[int, int]) -> None:
    assert png_stream_problem(_png(mode, size)) is None


def test_cut_short_anywhere_is_named() -> None:
    data = _png("RGB", (200, 150))
    for cut in (len(data) - 1, len(data) - 13, len(data) // 2, 40):
        problem = png_stream_problem(data[:cut])
        assert problem is not None, cut
        assert "truncated" in problem


def test_a_bad_crc_is_named() -> None:
    data = bytearray(_png("L", (64, 64)))
    data[-20] ^= 0xFF  # inside the last IDAT
    assert "CRC" in (png_stream_problem(bytes(data)) or "")


def test_corrupt_data_with_a_valid_crc_is_named() -> None:
    row = b"\x00" + bytes(range(16))
    stream = bytearray(zlib.compress(row * 16))
    stream[4] ^= 0x55
    header = (16).to_bytes(4, "big") * 2 + bytes([8, 0, 0, 0, 0])
    data = PNG_SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", bytes(stream)) + _chunk(b"IEND", b"")
    assert png_stream_problem(data) is not None


@pytest.mark.parametrize(("rows", "word"), [(15, "holds"), (17, "longer")])
def test_data_for_fewer_or_more_rows_than_the_header_is_named(rows: int, word: str) -> None:
    row = b"\x00" + bytes(16)
    assert word in (png_stream_problem(_assemble(16, 16, row * rows)) or "")
    assert png_stream_problem(_assemble(16, 16, row * 16)) is None


def test_interlaced_is_left_to_a_full_decode() -> None:
    with pytest.raises(LookupError):
        png_stream_problem(_assemble(16, 16, b"\x00" * 300, interlace=1))


def test_the_store_refuses_a_damaged_png_without_decoding_it(tmp_path: Path) -> None:
    store = PhotoStore(FolderBlobs(tmp_path), max_bytes=10 * 1024 * 1024, max_pixels=40_000_000)
    good = _png("RGB", (300, 200))
    assert store.check(sha256(good), good).content_type == "image/png"
    row = b"\x00" + bytes(48)
    short = _assemble(16, 16, row * 10, colour_type=2)
    with pytest.raises(Problem) as refused:
        store.check(sha256(short), short)
    assert (refused.value.status, refused.value.code) == (422, "photo.undecodable")
