"""Sending a photo in pieces that survives a cut connection (docs/api.md "Photos").

A photo up to ``PHOTO_PIECE_BYTES`` goes whole, as one ``PUT``: a cut costs little to send again. A bigger one
goes in pieces of that size, each a ``PUT`` with ``Content-Range``. Before the first piece the phone asks
``HEAD`` how many bytes the server already holds, so a pass after a cut (or after the app was closed) sends only
the rest; the phone keeps no upload state of its own, the server's offset is the one truth.
"""

from __future__ import annotations

from typing import Protocol

from mobile_app.api.errors import ApiError

__all__ = ["MAX_REALIGNMENTS", "PHOTO_PIECE_BYTES", "PieceSender", "send_in_pieces"]

# A phone photo (about 1600 px, JPEG quality 80) is 200–600 KB: a few pieces, each small enough to get through
# a weak mobile connection between two drops.
PHOTO_PIECE_BYTES = 128 * 1024
# How many times one upload follows a 409's offset before leaving the photo to the next pass (another request of
# the same photo may still be running on the server: chasing it for ever would never end).
MAX_REALIGNMENTS = 3


class PieceSender(Protocol):
    """The two calls the upload needs (``SyncApi`` has them)."""

    def photo_offset(self, sha256: str) -> int | None:
        """How many bytes of the photo the server holds; None when it is stored already."""
        ...

    def put_photo_piece(self, *, sha256: str, data: bytes, start: int, total: int, content_type: str) -> bool | None:
        """Send one piece: True stored now, False stored already, None kept (more to send)."""
        ...


def _server_offset(error: ApiError) -> int | None:
    """The offset a refusal names (``details.offset``), if it names a usable one."""
    offset = error.details.get("offset")
    return offset if isinstance(offset, int) and not isinstance(offset, bool) and offset >= 0 else None


def send_in_pieces(
    sender: PieceSender, *, sha256: str, data: bytes, content_type: str, piece_bytes: int = PHOTO_PIECE_BYTES
) -> bool:
    """Upload ``data`` from where the server's copy ends; True if the server stored it now, False if it had it.

    A 409 names the server's offset: the upload goes on from there. A resumed upload the server refuses whole and
    discards (``details.offset`` 0: its pieces did not hash to the name) starts over once from byte 0, since the
    server's earlier pieces may be what was wrong; any other refusal is the caller's ``ApiError``.
    """
    offset = sender.photo_offset(sha256)
    if offset is None:
        return False
    if offset >= len(data):  # a partial of another size cannot be this photo: the server drops it at byte 0
        offset = 0
    may_restart, realignments = offset > 0, 0
    while True:
        piece = data[offset : offset + piece_bytes]
        try:
            stored = sender.put_photo_piece(
                sha256=sha256, data=piece, start=offset, total=len(data), content_type=content_type
            )
        except ApiError as error:
            named = _server_offset(error)
            if error.status == 409 and named is not None and realignments < MAX_REALIGNMENTS:
                offset, realignments = (named if named < len(data) else 0), realignments + 1
                continue
            if error.status in (400, 422) and named == 0 and may_restart:
                offset, may_restart = 0, False
                continue
            raise
        if stored is not None:
            return stored
        offset += len(piece)
