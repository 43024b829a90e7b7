"""Check that a PNG's image data is complete without building the picture (pure; bounded memory).

A full decode of a 40 MP PNG allocates ~160 MB (Pillow keeps RGB as 4 bytes a pixel). What a decode would catch —
a truncated file, a corrupt zlib stream, image data shorter or longer than the header says — shows just as well by
inflating the IDAT stream in 1 MiB pieces, counting the bytes and throwing them away, and checking the chunk CRCs
on the way. Interlaced (Adam7) images are left to a full decode (``None`` from ``expected_raw_size``): phones do
not write them, and a wrong pass arithmetic here would refuse good photos.
"""

from __future__ import annotations

import zlib

__all__ = ["PNG_SIGNATURE", "expected_raw_size", "png_stream_problem"]

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}  # colour type → samples a pixel
_PIECE = 1 << 20


def expected_raw_size(width: int, height: int, bit_depth: int, colour_type: int, interlace: int) -> int | None:
    """Bytes the IDAT stream must inflate to: each row is a filter byte plus its packed samples."""
    if interlace != 0 or colour_type not in _CHANNELS or bit_depth not in (1, 2, 4, 8, 16):
        return None
    row_bytes = (width * _CHANNELS[colour_type] * bit_depth + 7) // 8
    return height * (1 + row_bytes)


def _chunks(data: bytes) -> list[tuple[bytes, memoryview]]:
    """(type, body) of every chunk up to IEND; raises ValueError on a cut-off chunk or a bad CRC."""
    view = memoryview(data)
    position, chunks = len(PNG_SIGNATURE), []
    while True:
        if position + 12 > len(data):
            raise ValueError("the file ends inside a chunk (truncated)")
        length = int.from_bytes(view[position : position + 4], "big")
        kind = bytes(view[position + 4 : position + 8])
        end = position + 8 + length
        if end + 4 > len(data):
            raise ValueError(f"the file ends inside the {kind.decode('latin-1')} chunk (truncated)")
        if zlib.crc32(view[position + 4 : end]) != int.from_bytes(view[end : end + 4], "big"):
            raise ValueError(f"bad CRC in the {kind.decode('latin-1')} chunk")
        chunks.append((kind, view[position + 8 : end]))
        position = end + 4
        if kind == b"IEND":
            return chunks


def png_stream_problem(data: bytes) -> str | None:
    """Why the PNG's image data is unusable, or None when it is complete; raises LookupError when interlaced or of
    a kind this check does not cover (the caller decodes those in full)."""
    if not data.startswith(PNG_SIGNATURE):
        return "not a PNG"
    try:
        chunks = _chunks(data)
    except ValueError as error:
        return str(error)
    header = next((bytes(body) for kind, body in chunks if kind == b"IHDR"), b"")
    if len(header) != 13:
        return "no IHDR chunk"
    width, height = int.from_bytes(header[0:4], "big"), int.from_bytes(header[4:8], "big")
    expected = expected_raw_size(width, height, header[8], header[9], header[12])
    if expected is None:
        raise LookupError("interlaced or unusual PNG: needs a full decode")
    inflater, produced = zlib.decompressobj(), 0
    try:
        for kind, body in chunks:
            if kind != b"IDAT":
                continue
            pending = bytes(body)
            while pending:
                produced += len(inflater.decompress(pending, _PIECE))
                if produced > expected:
                    return f"the image data is longer than {width}×{height} pixels"
                pending = inflater.unconsumed_tail
        while not inflater.eof and produced <= expected:  # output still held inside the inflater
            piece = inflater.decompress(b"", _PIECE)
            if not piece:
                break
            produced += len(piece)
    except zlib.error as error:
        return f"corrupt image data: {error}"
    if not inflater.eof:
        return "the image data stops early (truncated)"
    if produced != expected:
        return f"the image data holds {produced} bytes; {width}×{height} pixels need {expected}"
    return None
