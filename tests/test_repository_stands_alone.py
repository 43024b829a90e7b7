"""The repository stands on its own: nothing tracked points at design files or folders outside it.

A clone has docs/architecture.md, docs/domain.md and docs/design-notes.md; it does not have the design input that
sat beside the repository on the build machine, nor that machine's folders. Every tracked file is scanned, and every
section a comment or doc cites by name ("docs/domain.md "Rounding"", "domain.md#rollover") must be a heading of
that doc, so a renamed section cannot leave dangling citations behind.

The forbidden strings are assembled from parts, so this file does not match itself.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"

# The design files' upper-case names, as whole words: "NAME.md", "NAME's example", "NAME layer 3". Case-sensitive,
# so docs/domain.md and identifiers such as DOMAIN_MODULES do not match.
_OUTSIDE_DOCS = ("ARCHI" + "TECTURE", "DOM" + "AIN", "STY" + "LE", "FLET" + "_NOTES")
_SIBLING_FOLDER = ".." + "/" + "shared"
# Roots of a person's or a build machine's folders; system paths (/usr/bin/env, /tmp/…, font folders) are fine.
_MACHINE_ROOTS = ("work", "home", "Users", "root")

FORBIDDEN = re.compile(
    "|".join(
        [
            r"\b(?:" + "|".join(_OUTSIDE_DOCS) + r")\b",
            re.escape(_SIBLING_FOLDER),
            r"(?<![\w.~$-])/(?:" + "|".join(_MACHINE_ROOTS) + r")/",
            r"\b[A-Za-z]:\\(?:" + "|".join(_MACHINE_ROOTS) + r")\\",
        ]
    )
)

# A citation of a section by name: `docs/domain.md "Rounding"`, `domain.md, "Rollover"`,
# `docs/architecture.md ("Parts and their boundaries")`, `design-notes, "Pull cursor"`, and the names chained after
# it (`"Time" and "Limits"`). Anchors: `domain.md#rollover`.
_DOC = r"\b(?:docs/)?(?P<doc>domain|architecture|design-notes)(?:\.md)?"
CITATION = re.compile(_DOC + r""",? \(?['"](?P<name>[^'"\n]+)['"]""")
CHAINED = re.compile(r"""\)?(?:, | and )['"](?P<name>[^'"\n]+)['"]""")
ANCHOR = re.compile(_DOC + r"#(?P<anchor>[a-z0-9-]+)")


def tracked_text_files() -> list[tuple[str, str]]:
    names = (
        subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, check=True, capture_output=True).stdout.decode().split("\0")
    )
    files = []
    for name in filter(None, names):
        path = ROOT / name
        if not path.is_file():  # deleted in the working tree, not yet committed
            continue
        data = path.read_bytes()
        if b"\0" in data:
            continue  # binary (images)
        try:
            files.append((name, data.decode("utf-8")))
        except UnicodeDecodeError:
            continue
    return files


def forbidden_references(text: str) -> list[tuple[int, str]]:
    return [
        (number, match.group(0))
        for number, line in enumerate(text.splitlines(), start=1)
        for match in FORBIDDEN.finditer(line)
    ]


def headings(doc: str) -> list[str]:
    text = (DOCS / f"{doc}.md").read_text(encoding="utf-8")
    return [line.lstrip("#").strip() for line in text.splitlines() if re.match(r"#{1,6} ", line)]


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")


def cited_sections(text: str) -> list[tuple[int, str, str]]:
    """(line, doc, section name or #anchor) for every section the text cites by name."""
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        for match in CITATION.finditer(line):
            found.append((number, match["doc"], match["name"]))
            rest = line[match.end() :]
            while chained := CHAINED.match(rest):
                found.append((number, match["doc"], chained["name"]))
                rest = rest[chained.end() :]
        found += [(number, match["doc"], "#" + match["anchor"]) for match in ANCHOR.finditer(line)]
    return found


def is_a_section(doc: str, cited: str) -> bool:
    titles = headings(doc)
    if cited.startswith("#"):
        return cited[1:] in {slug(title) for title in titles}
    # A citation may shorten a long heading to its start ("Pull cursor" for "Pull cursor = sync-event id, …").
    return any(title == cited or title.startswith(cited + " ") for title in titles)


def test_no_tracked_file_points_outside_the_repository() -> None:
    files = tracked_text_files()
    assert any(name == "README.md" for name, _ in files)  # the scan sees the tree at all
    found = [f"{name}:{line}: {hit}" for name, text in files for line, hit in forbidden_references(text)]
    assert not found, "references to files or folders a clone does not have:\n" + "\n".join(found)


def test_every_cited_section_is_a_heading_of_its_doc() -> None:
    dangling = [
        f"{name}:{line}: {doc}.md {cited!r}"
        for name, text in tracked_text_files()
        for line, doc, cited in cited_sections(text)
        if not is_a_section(doc, cited)
    ]
    assert not dangling, "citations of sections that do not exist:\n" + "\n".join(dangling)


def test_the_docs_the_code_cites_are_in_the_repository() -> None:
    for doc in ("architecture", "domain", "design-notes"):
        assert headings(doc), f"docs/{doc}.md is missing or has no headings"


@pytest.mark.parametrize(
    "line",
    [
        "Rules: " + _OUTSIDE_DOCS[1] + '.md "Rounding".',
        "(" + _OUTSIDE_DOCS[3] + " layer 3)",
        "# " + _OUTSIDE_DOCS[1] + ": 210 × 77 / 408",
        "The design in `" + _SIBLING_FOLDER + "/X.md` holds.",
        "Per /" + _MACHINE_ROOTS[0] + "/shared/notes.md: never",
        "cache in /" + _MACHINE_ROOTS[1] + "/someone/.cache",
    ],
)
def test_the_patterns_catch_what_they_are_for(line: str) -> None:
    assert forbidden_references(line)


@pytest.mark.parametrize(
    "line",
    [
        'docs/domain.md "Rounding"; docs/architecture.md "Limits"',
        "DOMAIN_MODULES = {",
        "#!/usr/bin/env bash",
        "log to /tmp/fieldmeter-apt.log; fonts in /usr/share/fonts/truetype/dejavu",
        "GET /api/sync/pull and data/photos/ab/cd",
        "style = Style(); domain = 'x'",
    ],
)
def test_the_patterns_leave_the_repositorys_own_words_alone(line: str) -> None:
    assert not forbidden_references(line)


def test_citations_are_read_with_their_chained_names_and_anchors() -> None:
    text = 'flags (docs/domain.md "Advisory checks"; docs/architecture.md "Time" and "Limits"), see domain.md#rollover'
    assert cited_sections(text) == [
        (1, "domain", "Advisory checks"),
        (1, "architecture", "Time"),
        (1, "architecture", "Limits"),
        (1, "domain", "#rollover"),
    ]
    assert not is_a_section("domain", "No such section")
    assert not is_a_section("domain", "#no-such-anchor")
