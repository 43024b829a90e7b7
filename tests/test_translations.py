"""The catalogs (mobile_app/locales) against the source, and the source against bare English on the screen.

- every string the code marks (``_``, ``N_``, ``ngettext``) is in messages.pot and in every language's .po;
- every message has a translation (not fuzzy, not empty) that differs from the English, except ``SAME_EVERYWHERE``;
- each translation keeps the msgid's placeholders (``{count}``), so ``.format`` never fails or drops a value;
- a static check over the views: the text given to Text, buttons, labels, hints, tooltips, errors and messages is a
  ``_()``/``ngettext`` call, never a bare English literal (``SYMBOLS`` are allowed bare).
"""

from __future__ import annotations

import ast
import fnmatch
import importlib.util
import re
import string
import tomllib
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from zoneinfo import ZoneInfo

import pytest

from mobile_app import i18n
from mobile_app.ui.common import day, indian_number, local_time, rupees

ROOT = Path(__file__).resolve().parent.parent


def _load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("translations_script", ROOT / "scripts" / "translations.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


script = _load_script()
LANGUAGE_CODES = ["hi", "pa"]

# Messages whose translation is rightly the English text, each with its reason.
SAME_EVERYWHERE: dict[str, str] = {
    "Fieldmeter · {name}": "the product's name, kept in Latin letters as on the phone's home screen",
    "Fieldmeter · {user} ({role})": "the product's name; the user name and role are values",
}
# Bare text allowed on screen: symbols and separators, not words.
SYMBOLS = frozenset({"—", "·", "₹", "✓", "…", "/", "-", "×", "+", ":", "Fieldmeter"})  # and the product's name


# --- the catalogs -------------------------------------------------------------------------------------------------


def _ids(catalog) -> set[str]:
    return {m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id}


def test_catalogs_have_every_string_the_source_marks() -> None:
    fresh = _ids(script.extract())
    assert fresh, "the extraction found nothing: a broken extraction would pass vacuously"
    assert "Sign out" in fresh  # the console's app bar, through _()
    files = {"messages.pot": script.TEMPLATE, **script.language_files()}
    assert set(script.language_files()) == set(LANGUAGE_CODES)
    for name, path in files.items():
        missing = sorted(fresh - _ids(script.read_catalog(path)))
        assert not missing, f"{name} lacks {len(missing)} message(s); run scripts/translations.py update: {missing}"


@pytest.mark.parametrize("code", LANGUAGE_CODES)
def test_every_message_is_translated_and_not_left_in_english(code: str) -> None:
    catalog = script.read_catalog(script.language_files()[code], code)
    untranslated = script.missing(catalog)
    assert not untranslated, f"{code}: {len(untranslated)} message(s) without a translation: {untranslated}"
    english = []
    for message in catalog:
        if not message.id:
            continue
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        strings = [message.string] if isinstance(message.string, str) else list(message.string)
        if ids[0] not in SAME_EVERYWHERE and _has_words(ids[0]) and any(s in ids for s in strings):
            english.append(ids[0])
    assert not english, f"{code}: translation equals the English: {english}"


def _has_words(text: str) -> bool:
    """Text left once the placeholders are taken out has a word to translate ("{date}: {value}" has none)."""
    return bool(WORD.search(re.sub(r"\{[^}]*\}", "", text)))


def _placeholders(text: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}


@pytest.mark.parametrize("code", LANGUAGE_CODES)
def test_translations_keep_the_placeholders(code: str) -> None:
    wrong: list[str] = []
    for message in script.read_catalog(script.language_files()[code], code):
        if not message.id:
            continue
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        strings = [message.string] if isinstance(message.string, str) else list(message.string)
        expected = set().union(*(_placeholders(i) for i in ids))
        wrong.extend(f"{ids[0]!r} -> {s!r}" for s in strings if s and _placeholders(s) != expected)
    assert not wrong, f"{code}: placeholders differ:\n" + "\n".join(wrong)


def test_placeholder_checker_sees_a_dropped_or_renamed_field() -> None:
    assert _placeholders("{count} of {total} read") == {"count", "total"}
    assert _placeholders("{total} में से {count} पढ़े") == {"count", "total"}
    assert _placeholders("{count} में से पढ़े") != {"count", "total"}


# --- bare English on the screen ---------------------------------------------------------------------------------

# Keyword arguments that are shown to people (or read out by a screen reader).
SHOWN_KEYWORDS = frozenset(
    {
        "label",
        "hint_text",
        "helper_text",
        "tooltip",
        "error",
        "error_text",
        "semantics_label",
        "prefix_text",
        "suffix_text",
        "counter_text",
        "text",
        "title",
        "content",
        "value",
        "heading",
        "hint",
        "message",
        "save_label",
        "empty",
        "none",
        "dialog_title",
    }
)
# Calls whose first positional argument is shown: ft.Text and friends, buttons, messages.
SHOWN_FIRST_ARGUMENT = frozenset(
    {
        "Text",
        "Button",
        "TextButton",
        "OutlinedButton",
        "FilledButton",
        "FilledTonalButton",
        "ElevatedButton",
        "SnackBar",
        "Tab",
        "say",
        "title",
        "show_message",
        "set_error",
        "_field",
    }
)
# Attributes that, assigned a string, are put on the screen.
SHOWN_ATTRIBUTES = frozenset({"value", "label", "hint_text", "tooltip", "error", "error_text", "content", "text"})
TRANSLATING_CALLS = frozenset({"_", "ngettext"})
WORD = re.compile(r"[A-Za-z]{2,}")


def _call_name(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def _is_bare_words(node: ast.expr) -> bool:
    """A literal (or f-string, or a sum or choice of them) that carries English words and is not translated."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value.strip() not in SYMBOLS and bool(WORD.search(node.value))
    if isinstance(node, ast.JoinedStr):
        literal = "".join(v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str))
        return bool(WORD.search(literal))
    if isinstance(node, ast.BinOp):
        return _is_bare_words(node.left) or _is_bare_words(node.right)
    if isinstance(node, ast.IfExp):
        return _is_bare_words(node.body) or _is_bare_words(node.orelse)
    return False


def bare_strings(path: Path, source: str | None = None) -> list[str]:
    """``file:line: text`` for each English literal given as shown text (keys, codes and f-string values pass)."""
    tree = ast.parse(source if source is not None else path.read_text(encoding="utf-8"))
    found: list[tuple[int, str]] = []

    def report(node: ast.expr) -> None:
        found.append((node.lineno, ast.unparse(node)[:80]))

    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = _call_name(node.func)
            if name in TRANSLATING_CALLS:
                continue
            if name in SHOWN_FIRST_ARGUMENT and node.args and _is_bare_words(node.args[0]):
                report(node.args[0])
            if name == "show_message" and len(node.args) > 1 and _is_bare_words(node.args[1]):
                report(node.args[1])  # show_message(page, text)
            for keyword in node.keywords:
                if keyword.arg in SHOWN_KEYWORDS and _is_bare_words(keyword.value):
                    report(keyword.value)
        elif isinstance(node, ast.Assign):
            targets = [t for t in node.targets if isinstance(t, ast.Attribute) and t.attr in SHOWN_ATTRIBUTES]
            if targets and _is_bare_words(node.value):
                report(node.value)
    return [f"{path.relative_to(ROOT) if path.is_absolute() else path}:{line}: {text}" for line, text in sorted(found)]


def offenders(folder: str) -> list[str]:
    return [hit for path in sorted((ROOT / folder).rglob("*.py")) for hit in bare_strings(path)]


def test_console_puts_no_bare_english_on_screen() -> None:
    found = offenders("mobile_app/console")
    assert not found, f"{len(found)} untranslated string(s) on screen:\n" + "\n".join(found)


def test_field_app_puts_no_bare_english_on_screen() -> None:
    found = offenders("mobile_app/ui") + [
        hit for name in ("field_app.py", "capture.py") for hit in bare_strings(ROOT / "mobile_app" / name)
    ]
    assert not found, f"{len(found)} untranslated string(s) on screen:\n" + "\n".join(found)


def test_checker_sees_bare_text_and_passes_translated_text() -> None:
    source = """
import flet as ft
from mobile_app.i18n import _, ngettext
a = ft.Text("Meters")
b = ft.TextField(label=_("Reading"), hint_text="Digits only", key="reading-field")
c = ft.Text(f"{n} waiting")
d = ft.Text(_("{n} waiting").format(n=n))
e = ft.TextButton(ngettext("{n} bill", "{n} bills", n).format(n=n))
f = ft.Text("—")
view.summary.value = "Nothing to review" if empty else _("Done")
g = ft.Dropdown(options=[ft.DropdownOption(key="approved", text="Approved")])
h = ft.Text(value)
"""
    hits = [hit.split(": ", 1)[1] for hit in bare_strings(Path("x.py"), source)]
    assert hits == [
        "'Meters'",
        "'Digits only'",
        "f'{n} waiting'",
        "'Nothing to review' if empty else _('Done')",
        "'Approved'",
    ]


# --- the runtime: languages, plurals, locale formats ---------------------------------------------------------------


@pytest.fixture
def hindi_default() -> Iterator[None]:
    i18n.set_default_language("hi")
    try:
        yield
    finally:
        i18n.set_default_language(i18n.DEFAULT_LANGUAGE)


def test_outside_a_session_the_process_default_applies(hindi_default: None) -> None:
    assert i18n.current_language() == "hi"
    assert i18n._("Sign out") == "साइन आउट"
    assert i18n.ngettext("Issued {count} bill", "Issued {count} bills", 1).format(count=1) == "1 बिल जारी हुआ"
    assert i18n.ngettext("Issued {count} bill", "Issued {count} bills", 3).format(count=3) == "3 बिल जारी हुए"
    assert i18n._("a message nobody marked") == "a message nobody marked"  # untranslated text falls back to English
    # Numbers and dates as babel writes them for hi_IN: Indian grouping, Latin digits, Hindi month names.
    assert day(date(2026, 12, 16)) == "16 दिस॰ 2026"
    assert local_time(datetime(2026, 11, 30, 20, 0, tzinfo=UTC), ZoneInfo("Asia/Kolkata")) == "01 दिस॰ 2026, 01:30"
    assert rupees(Decimal("123456.5")) == "₹1,23,456.50"
    assert indian_number("1234567.50") == "12,34,567.50"


def test_english_formats_read_as_before() -> None:
    assert i18n.current_language() == "en"
    assert i18n.current_locale() == "en_IN"
    assert day(date(2026, 9, 16)) == "16 Sep 2026"  # CLDR's en_IN would say "Sept"
    assert local_time(datetime(2026, 9, 30, 20, 0, tzinfo=UTC), ZoneInfo("Asia/Kolkata")) == "01 Oct 2026, 01:30"
    assert rupees("1234567.5") == "₹12,34,567.50"
    assert indian_number(Decimal("1234567.125")) == "12,34,567.125"
    assert i18n._("Sign out") == "Sign out"


def test_an_unknown_language_is_refused() -> None:
    with pytest.raises(ValueError, match="no such language"):
        i18n.set_default_language("xx")


def test_a_fuzzy_translation_is_never_shown(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "hi" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    (folder / "fieldmeter.po").write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
        'msgid "Save"\nmsgstr "सहेजें"\n\n#, fuzzy\nmsgid "Save order"\nmsgstr "क्रम"\n',
        encoding="utf-8",
    )
    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path)
    i18n.translations.cache_clear()
    try:
        catalog = i18n.translations("hi")
        assert catalog.gettext("Save") == "सहेजें"
        assert catalog.gettext("Save order") == "Save order"
    finally:
        i18n.translations.cache_clear()


def test_the_catalogs_ship_with_the_package() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["mobile_app"]
    files = [script.TEMPLATE, *script.language_files().values()]
    for path in files:
        relative = path.relative_to(ROOT / "mobile_app").as_posix()
        assert any(fnmatch.fnmatch(relative, pattern) for pattern in patterns), relative
    excluded = config["tool"]["flet"]["app"]["exclude"]
    assert not any("mobile_app/locales".startswith(e) or e.startswith("mobile_app/locales") for e in excluded)
