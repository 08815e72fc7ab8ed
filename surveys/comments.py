"""Scrubbing free-text comments before they are stored: e-mail addresses, UK phone numbers and
the names of people in the organisation are replaced by placeholders. The form tells the writer.

Names are found by word lookup, not by a regular expression of every name (which took about a
second to compile for 20,000 people): the comment is split into words and each run of words is
looked up in sets built once from the names (``NameIndex``). A whole display name, or the first
and last word of a longer one, is matched in any case. A single part of a name (at least two
letters; a hyphenated part whole or in pieces) is matched only when the comment writes it with a
capital letter, in any case after that ("Sam", "SAM"), so "sam" in a sentence is not removed. That
over-removes a capitalised word that happens to be a colleague's first name ("May"), which is the
safe side to err on. Words are whole: a colleague called "Art" never touches "article".

Names are matched the way people type them: words are compared case-folded with accents removed
(Unicode NFKD, combining marks dropped: "Renee", "renee" and "RENEE" all find Renée, "Lefevre"
finds Lefèvre, full-width letters fold too), the words of a name may be joined by spaces, hyphens,
apostrophes, underscores or dots ("Harry_Obi", "harry.obi"), or written as one word ("HarryObi",
"harryobi"), and a possessive after a name leaves only the "'s" ("Harry Obi's" -> "[name
removed]'s"). Invisible format characters (zero-width spaces, direction marks) are removed from a
comment first, so they cannot hide a name.

How often an ordinary comment loses a word it should have kept is measured in
``tests/test_comments.py`` against a staff list of names that are also words ("Rose", "Hope",
"Mark", "Will", ...): the figure is in the README's security section.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from models.text_rules import without_unsafe_characters

MAX_COMMENT_LENGTH = 500
EMAIL_PLACEHOLDER = "[email removed]"
PHONE_PLACEHOLDER = "[phone removed]"
NAME_PLACEHOLDER = "[name removed]"

EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
# UK numbers: +44 or 0044 or 0, then 9-10 more digits, allowing spaces, dots, dashes and (0).
PHONE = re.compile(
    r"(?<![\w+])(?:(?:\+|00)\s?44\s?(?:\(0\)\s?)?|\(?0)(?:[\s.\-()]*\d){9,10}(?!\d)",
)

# A word of a comment or a name (letters and digits; an underscore separates words), and what may
# stand between two words of one name in a comment.
_WORD = re.compile(r"[^\W_]+")
_NAME_JOINER = re.compile(r"\s+|[-'’_.]")


@dataclass(frozen=True)
class ScrubResult:
    text: str
    changed: bool


@dataclass(frozen=True)
class NameIndex:
    """People's names as tuples of lower-case words, ready for lookup while scanning a comment."""

    full: frozenset[tuple[str, ...]]  # matched in any case
    parts: frozenset[tuple[str, ...]]  # matched when the comment capitalises the first letter
    longest: int  # most words in any entry: how far ahead the scan looks


def fold(word: str) -> str:
    """A word as names are compared: case-folded, compatibility-normalised, accents removed."""
    if word.isascii():
        return word.lower()
    return _fold_unicode(word)


@lru_cache(maxsize=65_536)
def _fold_unicode(word: str) -> str:
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char)).casefold()


def _words(text: str) -> tuple[str, ...]:
    return tuple(fold(word) for word in _WORD.findall(text))


def _visible(text: str) -> str:
    """The text without control characters or invisible format characters (zero-width space,
    joiners, direction marks): they could hide a name, and PostgreSQL cannot store NUL."""
    return without_unsafe_characters(text)


def build_name_index(names: Iterable[str]) -> NameIndex:
    """Index display names for ``scrub_comment`` (about 50 ms for 20,000 people)."""
    full: set[tuple[str, ...]] = set()
    parts: set[tuple[str, ...]] = set()
    for name in names:
        pieces = [(piece, _words(piece)) for piece in name.split()]
        if not pieces:
            continue
        whole = tuple(word for _, words in pieces for word in words)
        full.add(whole)
        if len(pieces) > 2:  # "Mary Ann Smith" is also called "Mary Smith"
            full.add(pieces[0][1] + pieces[-1][1])
            full.add(("".join(pieces[0][1] + pieces[-1][1]),))  # "MarySmith"
        if len(whole) > 1:  # written as one word: "HarryObi", "harryobi"
            full.add(("".join(whole),))
        for piece, words in pieces:
            if len(piece) >= 2 and piece[0].isupper():
                parts.add(words)
            if "-" in piece:  # "Sam-Lee" whole (above), and "Sam", "Lee"
                parts.update(_words(p) for p in piece.split("-") if len(p) >= 2 and p[0].isupper())
    full.discard(())
    parts.discard(())
    longest = max((len(entry) for entry in full | parts), default=0)
    return NameIndex(full=frozenset(full), parts=frozenset(parts), longest=longest)


def extend_name_index(index: NameIndex, names: Iterable[str]) -> NameIndex:
    """``index`` with ``names`` added (people who joined since it was built)."""
    added = build_name_index(names)
    return NameIndex(
        full=index.full | added.full,
        parts=index.parts | added.parts,
        longest=max(index.longest, added.longest),
    )


@lru_cache(maxsize=16)
def _index_of(names: tuple[str, ...]) -> NameIndex:
    return build_name_index(names)


def _name_length_at(text: str, words: list[re.Match[str]], first: int, index: NameIndex) -> int:
    """How many words from ``first`` on form a name (0: none), preferring the longest name."""
    run: list[str] = []
    for position in range(first, min(len(words), first + index.longest)):
        if position > first and not _NAME_JOINER.fullmatch(
            text, words[position - 1].end(), words[position].start()
        ):
            break
        run.append(fold(words[position].group()))
    capitalised = words[first].group()[0].isupper()
    for length in range(len(run), 0, -1):
        key = tuple(run[:length])
        if key in index.full or (capitalised and key in index.parts):
            return length
    return 0


def _remove_names(text: str, index: NameIndex) -> str:
    if index.longest == 0:
        return text
    words = list(_WORD.finditer(text))
    pieces: list[str] = []
    kept_from = 0
    position = 0
    while position < len(words):
        length = _name_length_at(text, words, position, index)
        if length == 0:
            position += 1
            continue
        pieces += [text[kept_from : words[position].start()], NAME_PLACEHOLDER]
        kept_from = words[position + length - 1].end()
        position += length
    pieces.append(text[kept_from:])
    return "".join(pieces)


def scrub_comment(text: str, names: Iterable[str] | NameIndex = ()) -> ScrubResult:
    """Remove e-mail addresses, phone numbers and people's names; trim to the stored length.

    ``names`` is a ``NameIndex`` (fastest: build it once) or the display names themselves."""
    cleaned = EMAIL.sub(EMAIL_PLACEHOLDER, _visible(text))
    cleaned = PHONE.sub(PHONE_PLACEHOLDER, cleaned)
    if isinstance(names, NameIndex):
        index = names
    else:
        index = _index_of(names if isinstance(names, tuple) else tuple(sorted(set(names))))
    cleaned = _remove_names(cleaned, index)
    cleaned = cleaned.strip()[:MAX_COMMENT_LENGTH]
    return ScrubResult(text=cleaned, changed=cleaned != text.strip())
