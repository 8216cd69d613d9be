"""Keep the catalogue in step with the code: ``python -m greenpark.i18n.update`` (``make messages``)
extracts every message id from the Python code, the page templates and the page scripts, keeps the
translations the catalogue has, adds the new ids untranslated (to be filled in) and drops the ids
no longer used. ``--check`` only reports what is missing (the test suite runs it)."""

from __future__ import annotations

import argparse
import contextlib
import io
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from greenpark.i18n import CATALOGUE

PACKAGE = Path(__file__).resolve().parent.parent
KEYWORDS = {"_": None, "N_": None, "Msg": None, "tr": None}
METHODS = [
    ("**/static/vendor/**", "ignore"),
    ("**.py", "python"),
    ("**/templates/**.html", "jinja2"),
    ("**/static/*.js", "greenpark.i18n.update:extract_js"),
]
# Babel reads its options as strings (any non-empty one is true): the JavaScript extractor keeps its
# defaults, which look inside template literals too.
OPTIONS: dict[str, dict[str, str]] = {"**/templates/**.html": {"extensions": ""}}


_JS_CALL = re.compile(r"""(?<![\w$])(?:GP\.)?(N_|_)\(\s*(['"])((?:\\.|(?!\2).)*?)\2\s*[,)]""", re.S)


def extract_js(
    fileobj: Any, keywords: Any, comment_tags: Any, options: Any
) -> Iterator[tuple[int, str, str, list[str]]]:
    """Message ids of a page script: every ``_('…')`` / ``N_('…')`` with a string literal, also
    inside template literals (where Babel's own JavaScript extractor does not look)."""
    text = fileobj.read().decode("utf-8")
    for match in _JS_CALL.finditer(text):
        raw = match.group(3)
        msgid = re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), raw)
        yield text.count("\n", 0, match.start()) + 1, match.group(1), msgid, []


def extracted() -> dict[str, list[tuple[str, int]]]:
    """Every message id in the package with where it is used."""
    out: dict[str, list[tuple[str, int]]] = {}
    # Babel notes every f-string among a call's arguments (our parameter values) on stderr: not news
    with contextlib.redirect_stderr(io.StringIO()):
        found = list(extract_from_dir(PACKAGE, METHODS, OPTIONS, keywords=KEYWORDS))
    for filename, lineno, message, _comments, _context in found:
        msgid = message if isinstance(message, str) else message[0]
        if msgid:
            out.setdefault(msgid, []).append((filename, lineno))
    return out


def load() -> Catalog:
    with CATALOGUE.open("rb") as f:
        return read_po(f, locale="zh_CN")


def missing() -> dict[str, list[tuple[str, int]]]:
    """Message ids used in the code without a Chinese translation."""
    cat = load()
    have = {m.id for m in cat if m.id and m.string and not m.fuzzy}
    return {k: v for k, v in extracted().items() if k not in have}


def update(extra: dict[str, str] | None = None) -> tuple[int, int, int]:
    """Rewrite the catalogue: (kept, added, dropped). ``extra``: translations to add (id → zh)."""
    old = load()
    known = {m.id: m.string for m in old if m.id}
    known.update(extra or {})
    used = extracted()
    cat = Catalog(locale="zh_CN", project="greenpark", charset="utf-8")
    added = 0
    for msgid in sorted(used):
        string = known.get(msgid, "")
        added += not string
        cat.add(msgid, string, locations=sorted(set(used[msgid]))[:5])
    with CATALOGUE.open("wb") as f:
        write_po(f, cat, width=110, sort_output=True, include_lineno=False)
    return len(used) - added, added, len(set(known) - set(used))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--check", action="store_true", help="only list message ids without a translation")
    args = ap.parse_args(argv)
    if args.check:
        gaps = missing()
        for msgid, where in sorted(gaps.items()):
            print(f"{where[0][0]}:{where[0][1]}: untranslated: {msgid!r}")  # noqa: T201 - a command line tool
        return 1 if gaps else 0
    kept, added, dropped = update()
    print(f"{CATALOGUE}: {kept} translated, {added} to translate, {dropped} dropped")  # noqa: T201
    return 0


if __name__ == "__main__":
    sys.exit(main())
