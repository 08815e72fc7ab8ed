"""Translation of the interface: one place that says which catalogue is in force.

Pages call ``_("text")`` (and ``ngettext`` for plurals); the catalogue for the reader's language
is chosen with ``use_language``. Until a language other than English is chosen every call
returns its English text unchanged."""

from __future__ import annotations

import gettext
from contextvars import ContextVar

from models.language import DEFAULT_LANGUAGE, N_

__all__ = ["N_", "_", "ngettext", "pgettext", "current_language", "use_language"]

_ENGLISH = gettext.NullTranslations()
_translations: ContextVar[gettext.NullTranslations | None] = ContextVar("translations", default=None)
_language: ContextVar[str] = ContextVar("language", default=DEFAULT_LANGUAGE)


def use_language(language: str, translations: gettext.NullTranslations | None = None) -> None:
    """Translate what follows in this context (one Streamlit run) into ``language``."""
    _language.set(language)
    _translations.set(translations)


def current_language() -> str:
    """The language the interface is being shown in (an ISO 639-1 code)."""
    return _language.get()


def _catalogue() -> gettext.NullTranslations:
    return _translations.get() or _ENGLISH


def _(message: str) -> str:
    """``message`` in the reader's language."""
    return _catalogue().gettext(message)


def ngettext(singular: str, plural: str, count: int) -> str:
    """The singular or plural form for ``count`` in the reader's language."""
    return _catalogue().ngettext(singular, plural, count)


def pgettext(context: str, message: str) -> str:
    """``message`` in the reader's language, told apart from the same English words by ``context``."""
    return _catalogue().pgettext(context, message)
