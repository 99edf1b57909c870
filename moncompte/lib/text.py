"""Folding text for comparison: names typed by people, words in passwords, place names."""

from __future__ import annotations

import unicodedata


def without_accents(text: str) -> str:
    """Casefolded, accents removed (NFKD, then the combining marks dropped); every other character kept."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(character for character in decomposed if not unicodedata.combining(character))


def fold(text: str) -> str:
    """« Léa-Marie », "LEA MARIE" and "lea marie" fold alike: no case, no accents, letters and digits only."""
    return "".join(character for character in without_accents(text) if character.isalnum())
