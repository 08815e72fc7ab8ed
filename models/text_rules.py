"""Which characters a user's text may hold, wherever it comes from (a form, an import, a comment).

Control characters (NUL, escape, ...) are refused: PostgreSQL cannot store NUL, a terminal obeys
escape sequences, and none has a use in a name or a note. Tab is allowed, and a line break only in
text that takes several lines (a description, a comment). Invisible direction overrides and
isolates are refused too: they make text display in an order other than the one it is stored in.
"""

from __future__ import annotations

import unicodedata

# Characters that reorder or hide the text around them (bidirectional overrides and isolates).
DIRECTION_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f")


def unsafe_character(value: str, *, multiline: bool = False) -> str | None:
    """Why the text is refused (the first offending character and where), or None."""
    for position, character in enumerate(value, start=1):
        if character in "\n\r":
            if multiline:
                continue
            return f"has a line break at character {position}; this takes one line"
        if character == "\t":
            continue
        if unicodedata.category(character) == "Cc" or character in DIRECTION_CONTROLS:
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
        if character in "\n\r\t" or unicodedata.category(character) not in ("Cc", "Cf")
    )
