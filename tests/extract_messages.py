"""Extract every translatable string from the project into a .pot file.

Used by the i18n test so a string that is marked but missing from the
catalogue fails the suite, without needing GNU gettext on the machine.
"""

import os
import sys
from pathlib import Path

import django
import polib
from django.template.base import Lexer, TokenType
from django.utils.translation.template import templatize

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ["tscc", "incidents", "oncall", "escalations", "vendors"]


def python_strings(path: Path):
    import ast

    tree = ast.parse(path.read_text(), str(path))
    names = {
        "_",
        "gettext",
        "gettext_lazy",
        "pgettext",
        "pgettext_lazy",
        "ngettext",
        "ngettext_lazy",
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) in names:
            args = [
                a.value
                for a in node.args
                if isinstance(a, ast.Constant) and isinstance(a.value, str)
            ]
            if node.func.id.startswith("pgettext") and len(args) >= 2:
                yield args[1]
            elif args:
                yield args[0]


def template_strings(path: Path):
    # templatize turns a template into Python source with gettext() calls.
    source = templatize(path.read_text(), origin=str(path))
    import re

    string = r"""[ru]?(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)")"""
    # gettext(u'msg'), ngettext(u'one', u'many', n), pgettext(u'ctx', u'msg'):
    # the message is the first string, after the context for pgettext.
    for match in re.finditer(
        rf"(?<![\w.])(?:(n?pgettext)\(\s*{string}\s*,\s*|(?:n?gettext|_)\(\s*){string}", source
    ):
        raw = match.group(4) if match.group(4) is not None else match.group(5)
        yield bytes(raw, "utf-8").decode("unicode_escape").encode("latin-1").decode("utf-8")


def main(out: str) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tscc.settings")
    django.setup()
    pot = polib.POFile()
    seen = set()
    files = []
    for package in SOURCES:
        files += [p for p in (ROOT / package).rglob("*.py") if "migrations" not in p.parts]
    templates = list((ROOT / "templates").rglob("*.html"))
    for path in files:
        for msgid in python_strings(path):
            seen.add(msgid)
    for path in templates:
        for msgid in template_strings(path):
            seen.add(msgid)
    for msgid in sorted(seen):
        pot.append(polib.POEntry(msgid=msgid, msgstr=""))
    pot.save(out)


if __name__ == "__main__":
    del Lexer, TokenType
    main(sys.argv[1])
