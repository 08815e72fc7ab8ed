"""Which characters a user's text may hold, wherever it comes from (a form, an import, a comment).

Control characters (NUL, escape, ...) are refused: PostgreSQL cannot store NUL, a terminal obeys
escape sequences, and none has a use in a name or a note. Tab is allowed, and a line break (also
U+2028 and U+2029) only in text that takes several lines (a description, a comment). Invisible
formatting characters are refused too: direction overrides make text display in an order other
than the one it is stored in, and zero-width spaces make two different names look the same. Only
the zero-width joiner and non-joiner are allowed, which some scripts (Persian, Indic) need to spell
names. Lone surrogates, which no database can store, are refused.
"""

from __future__ import annotations

import unicodedata

LINE_BREAKS = frozenset("\n\r\u2028\u2029")
ALLOWED_FORMAT = frozenset("\u200c\u200d")  # zero-width non-joiner and joiner: parts of spelling
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs"})


def unsafe_character(value: str, *, multiline: bool = False) -> str | None:
    """Why the text is refused (the first offending character and where), or None."""
    if value.isascii() and value.isprintable():
        return None
    for position, character in enumerate(value, start=1):
        if character in LINE_BREAKS:
            if multiline:
                continue
            return f"has a line break at character {position}; this takes one line"
        if character == "\t" or character in ALLOWED_FORMAT:
            continue
        if unicodedata.category(character) in _REFUSED_CATEGORIES:
            name = unicodedata.name(character, "control character")
            return (
                f"has an invisible control character U+{ord(character):04X} ({name.lower()}) "
                f"at character {position}"
            )
    return None


def without_unsafe_characters(value: str) -> str:
    """Free text (a comment) with control, format and direction characters removed; line breaks
    and tabs kept. For text whose writer cannot be asked to fix it."""
    if value.isascii() and value.isprintable():
        return value
    return "".join(
        character
        for character in value
        if character in "\n\r\t" or unicodedata.category(character) not in _REFUSED_CATEGORIES
    )
