"""Where a value sits in a tariff file's TOML text, so a refusal can name its line.

``tomllib`` parses values but keeps no positions, so this module scans the text once more, line by line, and
records the first line of every key path it meets: table headers (``[versions.energy]``), arrays of tables
(``[[versions]]``, counted: the second is ``versions[1]``), ``key = value`` lines (dotted and quoted keys too),
and inside values the elements of arrays and the keys of inline tables, across lines (``slabs = [ {…}, {…} ]``
written one slab a line gives each slab, and each of its keys, its own line). Strings, escapes and comments
are skipped; multi-line strings are stepped over.

It reads only what ``tomllib`` has already accepted, so it need not report syntax errors; for a path it did not
see (a missing key) ``line_of`` falls back to the nearest enclosing path it did (the table the key is missing
from).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = ["KeyPath", "line_of", "parse_field"]

KeyPath = tuple[str | int, ...]
_FIELD_PART = re.compile(r"([^.\[\]]+)|\[([^\]]*)\]")


def parse_field(text: str) -> KeyPath:
    """``"versions[0].energy.slabs[1].from"`` → ``("versions", 0, "energy", "slabs", 1, "from")``."""
    parts: list[str | int] = []
    for name, index in _FIELD_PART.findall(text):
        if name:
            parts.append(name)
        else:
            parts.append(int(index) if index.isdigit() else index)
    return tuple(parts)


def _skip_string(text: str, start: int) -> tuple[int, str | None]:
    # Returns the index after the string, or (len, delimiter) when a multi-line string stays open.
    for delimiter in ('"""', "'''"):
        if text.startswith(delimiter, start):
            end = text.find(delimiter, start + 3)
            return (end + 3, None) if end >= 0 else (len(text), delimiter)
    quote = text[start]
    index = start + 1
    while index < len(text):
        if quote == '"' and text[index] == "\\":
            index += 2
            continue
        if text[index] == quote:
            return index + 1, None
        index += 1
    return len(text), None


def _find_outside_strings(text: str, targets: str, start: int = 0) -> int:
    index = start
    while index < len(text):
        char = text[index]
        if char in "\"'":
            index, _ = _skip_string(text, index)
            continue
        if char in targets:
            return index
        index += 1
    return len(text)


def _split_key(text: str) -> tuple[str, ...]:
    keys: list[str] = []
    index = 0
    text = text.strip()
    while index < len(text):
        if text[index] in "\"'":
            end, _ = _skip_string(text, index)
            keys.append(text[index + 1 : end - 1])
            index = end
        else:
            end = _find_outside_strings(text, ".", index)
            if text[index:end].strip():
                keys.append(text[index:end].strip())
            index = end
        index = _find_outside_strings(text, ".", index) + 1
    return tuple(keys)


@dataclass
class _Frame:
    kind: str  # "array" or "inline"
    path: KeyPath
    index: int = 0
    started: bool = False
    expecting_key: bool = True
    pending: KeyPath = ()


@dataclass
class _Scanner:
    lines: dict[KeyPath, int] = field(default_factory=dict)
    table: KeyPath = ()
    tables: dict[KeyPath, int] = field(default_factory=dict)  # array of tables → elements so far
    stack: list[_Frame] = field(default_factory=list)
    open_string: str | None = None

    def record(self, path: KeyPath, number: int) -> None:
        self.lines.setdefault(path, number)

    def resolve(self, keys: tuple[str, ...]) -> KeyPath:
        path: KeyPath = ()
        for key in keys:
            path += (key,)
            if path in self.tables:
                path += (self.tables[path] - 1,)
        return path

    def feed(self, text: str, number: int) -> None:
        if self.open_string is not None:
            end = text.find(self.open_string)
            if end < 0:
                return
            text, self.open_string = text[end + 3 :], None
        elif not self.stack:
            text = text[: _find_outside_strings(text, "#")].strip()
            if text.startswith("["):
                self.header(text, number)
                return
            equals = _find_outside_strings(text, "=")
            if equals == len(text):
                return
            path = self.table + _split_key(text[:equals])
            self.record(path, number)
            self.value(text[equals + 1 :], number, path)
            return
        self.value(text, number, ())

    def header(self, text: str, number: int) -> None:
        if text.startswith("[["):
            keys = _split_key(text[2 : text.rindex("]]")])
            array = (*self.resolve(keys[:-1]), keys[-1])
            self.tables[array] = self.tables.get(array, 0) + 1
            self.table = (*array, self.tables[array] - 1)
            self.record(array, number)
        else:
            self.table = self.resolve(_split_key(text[1 : text.rindex("]")]))
        self.record(self.table, number)

    def value(self, text: str, number: int, path: KeyPath) -> None:
        index = 0
        while index < len(text):
            char = text[index]
            top = self.stack[-1] if self.stack else None
            if char in " \t\r\n":
                index += 1
                continue
            if char == "#":
                return
            if top is not None and top.kind == "inline" and top.expecting_key and char not in ",}":
                equals = _find_outside_strings(text, "=", index)
                top.pending = top.path + _split_key(text[index:equals])
                self.record(top.pending, number)
                top.expecting_key = False
                index = equals + 1
                continue
            if top is not None and char in ",]}":
                if char == ",":
                    top.index, top.started, top.expecting_key = top.index + 1, False, True
                else:
                    self.stack.pop()
                index += 1
                continue
            slot = path
            if top is not None and top.kind == "array":
                slot = (*top.path, top.index)
                if not top.started:
                    self.record(slot, number)
                    top.started = True
            elif top is not None:
                slot = top.pending
            if char in "[{":
                self.stack.append(_Frame("array" if char == "[" else "inline", slot))
                index += 1
            elif char in "\"'":
                index, self.open_string = _skip_string(text, index)
            else:
                index += 1


def line_of(text: str, path: KeyPath) -> int | None:
    """The 1-based line where ``path`` is written in the TOML ``text``, else its nearest enclosing path's line.

    ``None`` when not even the first key of the path appears (a key missing at the top of the file).
    """
    scanner = _Scanner()
    for number, line in enumerate(text.splitlines(), start=1):
        scanner.feed(line, number)
    for length in range(len(path), 0, -1):
        found = scanner.lines.get(path[:length])
        if found is not None:
            return found
    return None
