"""The interface languages, the rule for who reads which, and the marker for translatable text
defined below ``app/``.

Layers under ``app/`` never translate (they know no request and no reader); they mark a string
with ``N_`` so that extraction finds it, and ``app/`` translates it when it is shown.

A person reads the interface in the language they chose; until they choose, in their
organisation's default; failing both, in English (``choose_language``; stored by
``models/org_language.py``). This module imports nothing, so any layer can mark strings.
"""

from __future__ import annotations

ENGLISH = "en"
WELSH = "cy"
LANGUAGES: dict[str, str] = {ENGLISH: "English", WELSH: "Cymraeg"}
DEFAULT_LANGUAGE = ENGLISH


def N_(message: str) -> str:
    """Mark ``message`` for extraction without translating it (gettext's no-op marker)."""
    return message


def choose_language(person_choice: str | None, organisation_default: str | None) -> str:
    """The person's own choice, else the organisation's default, else English; a code that is no
    longer offered (a catalogue withdrawn) counts as no choice."""
    for language in (person_choice, organisation_default):
        if language in LANGUAGES:
            return language  # type: ignore[return-value]
    return DEFAULT_LANGUAGE
