"""Scrubbing free-text comments before they are stored: e-mail addresses, UK phone numbers and
the names of people in the organisation are replaced by placeholders. The form tells the writer.

Names: a full display name is matched case-insensitively; each part of a name (at least two
letters) is matched whole-word with its capital letter, so "Sam" is removed but "sam" in a word is
not. That over-removes a capitalised word that happens to be a colleague's first name ("May"),
which is the safe side to err on.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

MAX_COMMENT_LENGTH = 500
EMAIL_PLACEHOLDER = "[email removed]"
PHONE_PLACEHOLDER = "[phone removed]"
NAME_PLACEHOLDER = "[name removed]"

EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
# UK numbers: +44 or 0044 or 0, then 9-10 more digits, allowing spaces, dots, dashes and (0).
PHONE = re.compile(
    r"(?<![\w+])(?:(?:\+|00)\s?44\s?(?:\(0\)\s?)?|\(?0)(?:[\s.\-()]*\d){9,10}(?!\d)",
)


@dataclass(frozen=True)
class ScrubResult:
    text: str
    changed: bool


@lru_cache(maxsize=16)
def _name_pattern(names: tuple[str, ...]) -> tuple[re.Pattern[str] | None, re.Pattern[str] | None]:
    full = sorted({n.strip() for n in names if n and n.strip()}, key=len, reverse=True)
    parts = sorted(
        {
            part
            for name in full
            for word in name.split()
            for part in (word, *word.split("-"))  # "Sam-Lee" whole, and "Sam", "Lee"
            if len(part) >= 2 and part[0].isupper()
        },
        key=len,
        reverse=True,
    )
    full_pattern = (
        re.compile(r"(?<!\w)(?:" + "|".join(re.escape(n) for n in full) + r")(?!\w)", re.IGNORECASE)
        if full
        else None
    )
    part_pattern = (
        re.compile(r"(?<!\w)(?:" + "|".join(re.escape(p) for p in parts) + r")(?!\w)") if parts else None
    )
    return full_pattern, part_pattern


def scrub_comment(text: str, names: Iterable[str] = ()) -> ScrubResult:
    """Remove e-mail addresses, phone numbers and people's names; trim to the stored length."""
    cleaned = EMAIL.sub(EMAIL_PLACEHOLDER, text)
    cleaned = PHONE.sub(PHONE_PLACEHOLDER, cleaned)
    key = names if isinstance(names, tuple) else tuple(sorted(set(names)))
    full_pattern, part_pattern = _name_pattern(key)
    if full_pattern is not None:
        cleaned = full_pattern.sub(NAME_PLACEHOLDER, cleaned)
    if part_pattern is not None:
        cleaned = part_pattern.sub(NAME_PLACEHOLDER, cleaned)
    cleaned = cleaned.strip()[:MAX_COMMENT_LENGTH]
    return ScrubResult(text=cleaned, changed=cleaned != text.strip())
