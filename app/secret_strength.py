"""How strong a secret the deployment generated is, checked at a production start.

A secret is refused when it is shorter than ``MIN_LENGTH``, is a short piece repeated (``'a' * 32``,
``'changeme' * 4``), is built mostly from well-known weak words, or has an estimated strength under
``MIN_BITS``. The estimate is the smallest of zxcvbn's (Dropbox's estimator: it knows dictionary
words, common passwords, names, keyboard patterns, sequences and dates, and counts 10 guesses per
unmatched character, so it is pessimistic about random text), the length times log2 of the size
of the character classes used, and the length times the Shannon entropy of the characters used.
``secrets.token_urlsafe(48)`` (64 characters) scores about 210 bits and ``secrets.token_hex(32)``
about 200; a passphrase of English words typed by a person scores about 90.
"""

from __future__ import annotations

import math
import re
import string
from collections import Counter

from zxcvbn import zxcvbn

MIN_LENGTH = 32
MIN_BITS = 128
ESTIMATE_CHARACTERS = 128  # zxcvbn's time grows with length; a longer secret is judged by its start
GENERATE = 'python -c "import secrets; print(secrets.token_urlsafe(48))"'
# Words that weak secrets are made of; a secret that is mostly these is refused.
WEAK_WORDS = (
    "change",
    "changeme",
    "changethis",
    "password",
    "passw0rd",
    "secret",
    "default",
    "example",
    "sample",
    "demo",
    "test",
    "admin",
    "letmein",
    "qwerty",
    "welcome",
    "wellbeing",
    "participation",
    "key",
    "me",
    "abc",
    "123",
    "1234567890",
)
_WEAK = re.compile("|".join(sorted(map(re.escape, WEAK_WORDS), key=len, reverse=True)), re.IGNORECASE)
_CLASSES = (string.ascii_lowercase, string.ascii_uppercase, string.digits, string.punctuation)


def repeating_unit(value: str) -> str | None:
    """The shortest piece that the value is a repetition of (at least twice), or None."""
    for size in range(1, len(value) // 2 + 1):
        if len(value) % size == 0 and value[:size] * (len(value) // size) == value:
            return value[:size]
    return None


def estimated_bits(value: str) -> float:
    """A pessimistic estimate of the secret's strength in bits (see the module docstring)."""
    if not value:
        return 0.0
    pool = sum(len(chars) for chars in _CLASSES if any(c in chars for c in value))
    pool += len({c for c in value if not any(c in chars for chars in _CLASSES)})
    counts = Counter(value)
    shannon = -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())
    guessing = zxcvbn(value[:ESTIMATE_CHARACTERS])["guesses_log10"] * math.log2(10)
    return min(guessing, len(value) * min(math.log2(max(pool, 2)), shannon))


def secret_problems(value: str, *, known_weak: tuple[str, ...] = ()) -> list[str]:
    """Why this secret is too weak for production (empty when it is strong enough)."""
    if value in known_weak or value.lower() in WEAK_WORDS:
        return ["it is a published default"]
    problems: list[str] = []
    if len(value) < MIN_LENGTH:
        problems.append(f"it has {len(value)} characters; at least {MIN_LENGTH} are needed")
    unit = repeating_unit(value)
    if unit is not None:
        problems.append(f"it is a piece of {len(unit)} character(s) repeated")
    leftover = re.sub(r"[\W_]", "", _WEAK.sub("", value))
    if len(leftover) < MIN_LENGTH // 2:
        problems.append("it is made mostly of common words such as 'changeme' or 'secret'")
    bits = estimated_bits(value)
    if bits < MIN_BITS:
        problems.append(f"its estimated strength is {bits:.0f} bits; at least {MIN_BITS} are needed")
    return problems


def describe(setting: str, value: str, *, known_weak: tuple[str, ...] = ()) -> str | None:
    """One line for a refused production start, or None when the secret is strong enough."""
    problems = secret_problems(value, known_weak=known_weak)
    if not problems:
        return None
    return f"{setting} is too weak ({'; '.join(problems)}); generate one with: {GENERATE}"
