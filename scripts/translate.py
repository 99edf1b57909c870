"""Fill the English catalogue from a small file of translations, then compile it.

    python scripts/translate.py translations.tsv     # one "French<TAB>English" per line; \\n for a newline
    python scripts/translate.py --missing            # list what is untranslated or fuzzy

Run `make messages` first so the catalogue holds every message of the code and templates."""

from __future__ import annotations

import sys
from pathlib import Path

import polib

PO = Path(__file__).resolve().parent.parent / "moncompte" / "locale" / "en" / "LC_MESSAGES" / "django.po"


def main(argv: list[str]) -> int:
    catalogue = polib.pofile(str(PO), wrapwidth=79)
    todo = [e for e in catalogue if not e.obsolete and (not e.translated() or "fuzzy" in e.flags)]
    if argv == ["--missing"]:
        for entry in todo:
            print(entry.msgid.replace("\n", "\\n") + ("\t[plural]" if entry.msgid_plural else ""))
        return 1 if todo else 0
    pairs = {}
    for line in Path(argv[0]).read_text().splitlines():
        if line.strip():
            french, english = line.split("\t")
            pairs[french.replace("\\n", "\n")] = english.replace("\\n", "\n")
    for entry in catalogue:
        if entry.msgid in pairs:
            entry.msgstr = pairs[entry.msgid]
            entry.previous_msgid = None
            entry.previous_msgid_plural = None
            if "fuzzy" in entry.flags:
                entry.flags.remove("fuzzy")
    catalogue.save()
    catalogue.save_as_mofile(str(PO.with_suffix(".mo")))
    left = [e for e in catalogue if not e.obsolete and (not e.translated() or "fuzzy" in e.flags)]
    print(f"{len(left)} message(s) left to translate")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
