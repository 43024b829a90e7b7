"""The tariff file admins write (TOML, documented in ``docs/tariff-format.md``), parsed from its text.

The caller reads the file (this package does no I/O) and passes its bytes (or text). The bytes must be UTF-8; a
leading byte-order mark is dropped (editors on Windows write one). The file is the stored ``to_dict``
form of each version, written in TOML: tariff-wide keys at the top (``format``, ``code``, ``name`` and the
settings every version shares: ``day_count``, ``share_rounding``, ``bill_shared_meters``, ``factor_places``,
``limit_places``), then one ``[[versions]]`` table per effective date. Numbers may be written bare (``4.00``):
they are read as exact decimals, never floats.

Refusals are ``TariffFileError`` (``tariff.file_invalid``) with the line at fault in the message and in
``details`` (``line``, ``key``, ``problem``): the model's own validation names the value at fault by its key
path (``versions[0].energy.slabs[1].from``) and ``tariff_source.line_of`` finds that path in the text.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from shared_billing.errors import TariffError, TariffFileError
from shared_billing.schedules import TariffSchedule
from shared_billing.tariff_data import list_from_data, only_keys, under
from shared_billing.tariff_source import KeyPath, line_of, parse_field
from shared_billing.tariffs import Tariff

__all__ = ["FILE_FORMAT", "parse_tariff_toml"]

FILE_FORMAT = 1
_TOP_REQUIRED = {"format", "code", "name", "day_count", "versions"}
_SETTINGS = {"share_rounding", "bill_shared_meters", "factor_places", "limit_places", "payable_rounding"}
_VERSION_REQUIRED = {"effective_from", "energy", "fixed_by_unit_type"}
_VERSION_OPTIONAL = {"fixed_basis", "minimum_charge", "recurring_charges", "levies", "subsidies"}
_TOML_LINE = re.compile(r"at line (\d+)")
_BOM = "\ufeff"


def _versions(document: Mapping[str, Any]) -> TariffSchedule:
    only_keys("tariff file", document, _TOP_REQUIRED, _SETTINGS, at="")
    if document["format"] != FILE_FORMAT:
        raise TariffError(
            f"format {document['format']!r} is not supported (this reader knows {FILE_FORMAT})", field="format"
        )
    shared = {key: document[key] for key in ("code", "name", "day_count", *_SETTINGS) if key in document}
    versions: list[Tariff] = []
    for index, item in enumerate(list_from_data("versions", document["versions"])):
        with under(f"versions[{index}]"):
            if not isinstance(item, Mapping):
                raise TariffError(f"version {index + 1} must be a table ([[versions]]), not {item!r}", field="")
            version: Mapping[str, Any] = item
            misplaced = sorted(version.keys() & (_TOP_REQUIRED | _SETTINGS))
            if misplaced:
                key = misplaced[0]
                raise TariffError(
                    f"`{key}` is set once, at the top of the file, not in a version", field=key, problem="misplaced"
                )
            only_keys(f"version {index + 1}", version, _VERSION_REQUIRED, _VERSION_OPTIONAL, at="")
            versions.append(Tariff.from_dict({**shared, **version}))
    return TariffSchedule(tuple(versions))


def _file_path(field: str, problem: str) -> KeyPath:
    path = parse_field(field)
    # Tariff-wide settings are merged into every version: their faults sit at the top of the file (unless the
    # fault is that a version repeats one).
    if (
        problem != "misplaced"
        and len(path) > 2
        and path[0] == "versions"
        and path[2] in {"code", "name", "day_count", *_SETTINGS}
    ):
        return path[2:]
    return path


def _decoded(data: bytes, source: str) -> str:
    """The UTF-8 text of a file's bytes; bytes that are not UTF-8 are refused with their offset and line."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise TariffFileError(
            f"{source}, line {line} (byte {error.start}): not UTF-8 text (byte 0x{data[error.start]:02x}); "
            "save the file as UTF-8",
            source=source,
            line=str(line),
            byte=str(error.start),
            key="",
            problem="not_utf8",
        ) from None


def parse_tariff_toml(text: str | bytes, *, source: str = "tariff file") -> TariffSchedule:
    """The tariff's versions from a tariff file's ``text`` (or its bytes, UTF-8); ``source`` names it in messages.

    A leading byte-order mark is ignored. Raises ``TariffFileError`` naming the line at fault: bytes that are
    not UTF-8 (problem ``not_utf8``, with the byte offset), TOML syntax, unknown or missing keys, floats,
    negative, non-finite or out-of-bound figures, overlapping slabs or gaps between them, unknown levy bases,
    versions out of date order.
    """
    if isinstance(text, bytes):
        text = _decoded(text, source)
    # A BOM is not TOML ("Invalid statement" at 1:1) but only an editor's mark: line numbers are unchanged.
    text = text.removeprefix(_BOM)
    try:
        document = tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as error:
        found = _TOML_LINE.search(str(error))
        line = found.group(1) if found else "?"
        raise TariffFileError(
            f"{source}, line {line}: not valid TOML ({error})", source=source, line=line, key="", problem="syntax"
        ) from None
    try:
        return _versions(document)
    except TariffError as error:
        key = error.details.get("field", "")
        problem = error.details.get("problem", "invalid")
        line = line_of(text, _file_path(key, problem))
        where = f"{source}, line {line}" if line is not None else source
        raise TariffFileError(
            f"{where}{f' ({key})' if key else ''}: {error.message}",
            source=source,
            line="" if line is None else str(line),
            key=key,
            problem=problem,
        ) from None
