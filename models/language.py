"""The interface languages and the marker for translatable text defined below ``app/``.

Layers under ``app/`` never translate (they know no request and no reader); they mark a string
with ``N_`` so that extraction finds it, and ``app/`` translates it when it is shown."""

from __future__ import annotations

ENGLISH = "en"
WELSH = "cy"
LANGUAGES: dict[str, str] = {ENGLISH: "English", WELSH: "Cymraeg"}
DEFAULT_LANGUAGE = ENGLISH


def N_(message: str) -> str:
    """Mark ``message`` for extraction without translating it (gettext's no-op marker)."""
    return message
