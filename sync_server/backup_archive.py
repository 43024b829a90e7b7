"""The backup archive file: one tar.gz, written under a temporary name and renamed only when whole, every member
checksummed while it streams through, and ``manifest.json`` (the last member) listing each file's path, size and
SHA-256.

The manifest comes last so that nothing is read twice: each file's digest is computed while it is copied into the
archive (photos can be many GB). Reading an archive back is two passes over the stream: ``verify_archive`` reads
every member and compares it with the manifest before anything is written, then ``extract_members`` copies the
members out, checking each digest again (the file could change between the passes).

The checksums find a corrupt, truncated or altered archive; they cannot prove who made it (whoever can rewrite the
archive can rewrite the manifest too), which is why the archive is kept private (mode 600) and stored off the
machine by the operator.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tarfile
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from types import TracebackType
from typing import IO, Any

__all__ = [
    "MANIFEST",
    "ArchiveRejected",
    "ArchiveWriter",
    "ArchivedFile",
    "BackupError",
    "BackupRefused",
    "extract_members",
    "verify_archive",
]

MANIFEST = "manifest.json"
_CHUNK = 1024 * 1024
_MAX_MANIFEST_BYTES = 512 * 1024 * 1024  # about three million photos' entries: anything bigger is not ours
# Photos are JPEGs and pg_dump's custom format is compressed already: a light level spends little CPU for nothing.
_COMPRESS_LEVEL = 1
_PRIVATE = 0o600


class BackupError(Exception):
    """A backup or restore that failed; the message says why (the CLI's exit code 1)."""


class BackupRefused(BackupError):
    """Refused before anything was written: nothing to back up, or a restore target that is not empty (exit 2)."""


class ArchiveRejected(BackupError):
    """The archive is unreadable, cut short, or a member does not match the manifest; ``member`` names it."""

    def __init__(self, member: str, reason: str) -> None:
        super().__init__(f"the archive is refused: {member}: {reason}")
        self.member = member
        self.reason = reason


@dataclass(frozen=True)
class ArchivedFile:
    path: str
    size: int
    sha256: str

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "size": self.size, "sha256": self.sha256}


class _HashingReader:
    """Passes reads through, hashing and counting what went by (tarfile pulls a member's bytes through it)."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.digest = hashlib.sha256()
        self.size = 0

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        self.digest.update(data)
        self.size += len(data)
        return data


def safe_member_name(name: str) -> PurePosixPath:
    """The member's relative path, or ArchiveRejected for one that could land outside the target folder."""
    path = PurePosixPath(name)
    if path.is_absolute() or not path.parts or any(part in ("", ".", "..") for part in path.parts) or "\\" in name:
        raise ArchiveRejected(name, "unsafe path")
    return path


class ArchiveWriter:
    """Writes ``final`` as ``.<name>.partial`` in the same folder (mode 600) and renames it in ``finish``.

    Leaving the ``with`` block without ``finish`` (an error) deletes the partial file: a crash may leave a
    dot-named ``.partial`` behind, never a file with an archive's name.
    """

    def __init__(self, final: Path, mtime: float) -> None:
        self.final = final
        self.mtime = mtime
        self.partial = final.with_name(f".{final.name}.partial")
        self.files: list[ArchivedFile] = []
        fd = os.open(self.partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _PRIVATE)
        self._raw = os.fdopen(fd, "wb")
        self._tar = tarfile.open(  # noqa: SIM115 - closed in finish or __exit__
            fileobj=self._raw, mode="w:gz", compresslevel=_COMPRESS_LEVEL, format=tarfile.PAX_FORMAT
        )
        self._done = False

    def __enter__(self) -> ArchiveWriter:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if not self._done:
            with contextlib.suppress(Exception):
                self._tar.close()
            with contextlib.suppress(Exception):
                self._raw.close()
            self.partial.unlink(missing_ok=True)

    def _info(self, name: str, size: int) -> tarfile.TarInfo:
        info = tarfile.TarInfo(name)
        info.size = size
        info.mode = _PRIVATE
        info.mtime = int(self.mtime)
        return info

    def add_file(self, source: Path, name: str) -> ArchivedFile:
        with source.open("rb") as raw:
            size = os.fstat(raw.fileno()).st_size
            reader = _HashingReader(raw)
            # tarfile copies exactly `size` bytes and raises if the file is shorter (it changed while read).
            self._tar.addfile(self._info(name, size), reader)
        entry = ArchivedFile(name, reader.size, reader.digest.hexdigest())
        self.files.append(entry)
        return entry

    def add_bytes(self, data: bytes, name: str) -> ArchivedFile:
        self._tar.addfile(self._info(name, len(data)), _BytesReader(data))
        entry = ArchivedFile(name, len(data), hashlib.sha256(data).hexdigest())
        self.files.append(entry)
        return entry

    def finish(self, manifest: dict[str, Any]) -> int:
        """Append the manifest, make the file durable and give it its name; answers its size in bytes."""
        document = json.dumps(manifest, indent=2, sort_keys=False).encode()
        self._tar.addfile(self._info(MANIFEST, len(document)), _BytesReader(document))
        self._tar.close()
        self._raw.flush()
        # The wall clock in full nanoseconds (the file system's own stamp is coarse): retention orders by it.
        written = time.time_ns()
        os.utime(self._raw.fileno(), ns=(written, written))
        os.fsync(self._raw.fileno())
        self._raw.close()
        # link, not rename: an archive of the same name (two backups in one microsecond) is never replaced.
        os.link(self.partial, self.final)
        self.partial.unlink()
        self._done = True
        _fsync_dir(self.final.parent)
        return self.final.stat().st_size


class _BytesReader:
    def __init__(self, data: bytes) -> None:
        self._data = memoryview(data)
        self._at = 0

    def read(self, size: int = -1) -> bytes:
        end = len(self._data) if size < 0 else self._at + size
        chunk = bytes(self._data[self._at : end])
        self._at += len(chunk)
        return chunk


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def _members(archive: Path) -> Iterator[Iterator[tuple[tarfile.TarInfo, IO[bytes]]]]:
    """The archive's members in order, each with a reader of its bytes (a stream: no seeking back)."""
    try:
        tar = tarfile.open(archive, mode="r|gz")  # noqa: SIM115 - closed below
    except (OSError, tarfile.TarError, EOFError, zlib.error) as error:
        raise ArchiveRejected(archive.name, f"not a readable tar.gz archive ({error})") from error

    current = [archive.name]  # the member being read, for the message when the stream breaks

    def walk() -> Iterator[tuple[tarfile.TarInfo, IO[bytes]]]:
        for info in tar:
            current[0] = info.name
            safe_member_name(info.name)
            if not info.isreg():
                raise ArchiveRejected(info.name, "not a regular file")
            reader = tar.extractfile(info)
            assert reader is not None  # a regular file always has a reader
            yield info, reader

    try:
        # A damaged stream fails while the caller reads a member's bytes too: caught here, around the caller's loop.
        yield walk()
    except (OSError, tarfile.TarError, EOFError, zlib.error) as error:
        raise ArchiveRejected(current[0], f"unreadable, the archive is damaged or cut short ({error})") from error
    finally:
        tar.close()


def verify_archive(archive: Path, keep: frozenset[str] = frozenset()) -> tuple[dict[str, Any], dict[str, bytes]]:
    """Read every member, check it against the manifest; answers the manifest and the bytes of the ``keep`` members.

    Refused (ArchiveRejected, naming the member): an unreadable or truncated archive, no manifest, a member whose
    size or SHA-256 differs from the manifest's, a file the manifest lists but the archive lacks or the reverse,
    a name twice, and any name that is not a plain relative path.
    """
    seen: dict[str, ArchivedFile] = {}
    kept: dict[str, bytes] = {}
    manifest_bytes: bytes | None = None
    with _members(archive) as members:
        for info, reader in members:
            if info.name in seen or (info.name == MANIFEST and manifest_bytes is not None):
                raise ArchiveRejected(info.name, "appears twice")
            if info.name == MANIFEST:
                if info.size > _MAX_MANIFEST_BYTES:
                    raise ArchiveRejected(MANIFEST, "too large")
                manifest_bytes = reader.read()
                continue
            digest = hashlib.sha256()
            size = 0
            held: list[bytes] = []
            while chunk := reader.read(_CHUNK):
                digest.update(chunk)
                size += len(chunk)
                if info.name in keep:
                    held.append(chunk)
            seen[info.name] = ArchivedFile(info.name, size, digest.hexdigest())
            if info.name in keep:
                kept[info.name] = b"".join(held)
    if manifest_bytes is None:
        raise ArchiveRejected(MANIFEST, "missing: not a Fieldmeter backup, or cut short")
    manifest = _parse_manifest(manifest_bytes)
    listed = _listed_files(manifest)
    for name, entry in listed.items():
        found = seen.get(name)
        if found is None:
            raise ArchiveRejected(name, "listed in the manifest but missing from the archive")
        if found.size != entry.size:
            raise ArchiveRejected(name, f"{found.size} bytes, the manifest says {entry.size}")
        if found.sha256 != entry.sha256:
            raise ArchiveRejected(name, "its SHA-256 does not match the manifest (corrupt or altered)")
    for name in seen.keys() - listed.keys():
        raise ArchiveRejected(name, "in the archive but not in the manifest")
    return manifest, kept


def _parse_manifest(document: bytes) -> dict[str, Any]:
    try:
        manifest = json.loads(document)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ArchiveRejected(MANIFEST, f"not JSON ({error})") from error
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), list):
        raise ArchiveRejected(MANIFEST, "has no list of files")
    return manifest


def _listed_files(manifest: dict[str, Any]) -> dict[str, ArchivedFile]:
    listed: dict[str, ArchivedFile] = {}
    for entry in manifest["files"]:
        try:
            item = ArchivedFile(str(entry["path"]), int(entry["size"]), str(entry["sha256"]))
        except (KeyError, TypeError, ValueError) as error:
            raise ArchiveRejected(MANIFEST, f"a file entry is malformed: {entry!r:.200}") from error
        safe_member_name(item.path)
        if item.path in listed or item.path == MANIFEST:
            raise ArchiveRejected(item.path, "listed twice in the manifest")
        listed[item.path] = item
    return listed


def extract_members(archive: Path, manifest: dict[str, Any], destination: Callable[[str], Path | None]) -> list[Path]:
    """Copy each listed member to ``destination(name)`` (None: skip it), new files only, mode 600.

    Each file is written under a temporary name, its digest checked against the manifest again, then linked to its
    name; answers the files written (in order). An error of the local disk is a BackupError naming the file, an
    archive that breaks while read an ArchiveRejected naming the member.
    """
    listed = _listed_files(manifest)
    written: list[Path] = []
    with _members(archive) as members:
        for info, reader in members:
            if info.name == MANIFEST:
                continue
            target = destination(info.name)
            if target is None:
                continue
            entry = listed.get(info.name)
            if entry is None:
                raise ArchiveRejected(info.name, "in the archive but not in the manifest")
            try:
                _extract_one(info.name, reader, target, entry.sha256)
            except OSError as error:
                raise BackupError(f"cannot write {target}: {error}") from error
            written.append(target)
    return written


def _extract_one(name: str, reader: IO[bytes], target: Path, sha256: str) -> None:
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    partial = target.with_name(f".{target.name}.restoring")
    digest = hashlib.sha256()
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _PRIVATE)
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := _read(reader, name):
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        if digest.hexdigest() != sha256:
            raise ArchiveRejected(name, "changed since it was verified")
        os.link(partial, target)  # never over an existing file
    finally:
        partial.unlink(missing_ok=True)


def _read(reader: IO[bytes], name: str) -> bytes:
    # The archive's errors (gzip's are OSErrors too) told apart from the local disk's.
    try:
        return reader.read(_CHUNK)
    except (OSError, tarfile.TarError, EOFError, zlib.error) as error:
        raise ArchiveRejected(name, f"unreadable, the archive is damaged or cut short ({error})") from error
