"""Extract the UI strings into the catalogs and update each language's .po file (docs/languages.md).

    .venv/bin/python scripts/translations.py update    # messages.pot from the source, then hi and pa merged with it
    .venv/bin/python scripts/translations.py missing   # every msgid a language has no (or only a fuzzy) translation for
    .venv/bin/python scripts/translations.py add xx    # start a new language's catalog from messages.pot

Strings are found by babel's Python extractor under the keywords ``_``, ``N_`` and ``ngettext`` in mobile_app (the
field app and the console). A msgid whose English changed keeps its old translation marked fuzzy: a hint for the
translator, never shown (the app and tests/test_translations.py treat fuzzy as untranslated).
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ROOT / "mobile_app"
LOCALE_DIR = SOURCES / "locales"
CATALOG_DOMAIN = "fieldmeter"
TEMPLATE = LOCALE_DIR / "messages.pot"
KEYWORDS: dict[str, tuple[int, ...] | None] = {"_": None, "N_": None, "ngettext": (1, 2)}
# A fixed header date: the files change only when their messages do.
HEADER_DATE = datetime(2026, 12, 1, tzinfo=UTC)

__all__ = ["extract", "language_files", "missing", "read_catalog", "update"]


def extract() -> Catalog:
    """A fresh template from the source tree (nothing is written)."""
    template = Catalog(project="Fieldmeter", domain=CATALOG_DOMAIN, creation_date=HEADER_DATE, fuzzy=False)
    found = extract_from_dir(
        str(SOURCES), method_map=[("**.py", "python")], keywords=KEYWORDS, comment_tags=("Translators:",)
    )
    for filename, lineno, message, comments, context in found:
        template.add(message, None, [(f"mobile_app/{filename}", lineno)], auto_comments=comments, context=context)
    return template


def read_catalog(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as source:
        return read_po(source, locale=locale, domain=CATALOG_DOMAIN)


def _write(path: Path, catalog: Catalog) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as target:
        write_po(target, catalog, width=120, include_lineno=False, ignore_obsolete=True)


def language_files() -> dict[str, Path]:
    return {path.parent.parent.name: path for path in sorted(LOCALE_DIR.glob(f"*/LC_MESSAGES/{CATALOG_DOMAIN}.po"))}


def update() -> None:
    template = extract()
    _write(TEMPLATE, template)
    for code, path in language_files().items():
        catalog = read_catalog(path, code)
        catalog.update(template)
        catalog.revision_date = HEADER_DATE
        _write(path, catalog)
        print(f"{code}: {len(catalog)} messages, {len(missing(catalog))} without a translation")


def missing(catalog: Catalog) -> list[str]:
    found = []
    for message in catalog:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple | list) else (message.string,)
        if message.fuzzy or not all(strings):
            found.append(message.id if isinstance(message.id, str) else message.id[0])
    return found


def add(code: str) -> None:
    path = LOCALE_DIR / code / "LC_MESSAGES" / f"{CATALOG_DOMAIN}.po"
    if path.exists():
        raise SystemExit(f"{path} exists already: run `update`")
    catalog = Catalog(locale=code, domain=CATALOG_DOMAIN, project="Fieldmeter", creation_date=HEADER_DATE)
    catalog.update(read_catalog(TEMPLATE))
    _write(path, catalog)
    print(f"{path}: translate its {len(catalog)} messages, then add {code!r} to LANGUAGES in mobile_app/i18n.py")


def main(argv: list[str]) -> None:
    command = argv[1] if len(argv) > 1 else ""
    if command == "update":
        update()
    elif command == "missing":
        for code, path in language_files().items():
            for message_id in missing(read_catalog(path, code)):
                print(f"{code}\t{message_id}")
    elif command == "add" and len(argv) == 3:
        add(argv[2])
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
