"""Translation of the interface: one place that says which catalogue is in force.

Pages call ``_("text")`` (and ``ngettext`` for plurals, ``pgettext`` where the same English words
need two translations); the catalogue for the reader's language is chosen with ``use_language``
at the start of each run (``app/language.py``). English is the source language: its "catalogue"
returns every message unchanged. Other languages are read from ``app/locales/<code>/LC_MESSAGES/
messages.po`` with Babel, once per process, so a translator edits a ``.po`` file and never code
(docs/LANGUAGES.md). Fuzzy and empty entries are left out: they show the English text.

Dates and numbers go through ``format_date``, ``format_decimal`` and ``format_percent`` so that they
follow the reader's locale too.
"""

from __future__ import annotations

import gettext
import io
from collections.abc import Mapping
from contextvars import ContextVar
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path

from models.language import DEFAULT_LANGUAGE, ENGLISH, LANGUAGES, N_

__all__ = [
    "N_",
    "_",
    "catalogue_for",
    "current_language",
    "format_date",
    "format_decimal",
    "format_percent",
    "label_from",
    "ngettext",
    "pgettext",
    "use_language",
]

LOCALES_DIR = Path(__file__).resolve().parent / "locales"
DOMAIN = "messages"
# The Babel locale of each interface language: British conventions for both.
BABEL_LOCALES: dict[str, str] = {"en": "en_GB", "cy": "cy_GB"}

_ENGLISH = gettext.NullTranslations()
_translations: ContextVar[gettext.NullTranslations | None] = ContextVar("translations", default=None)
_language: ContextVar[str] = ContextVar("language", default=DEFAULT_LANGUAGE)


def po_path(language: str) -> Path:
    """Where the catalogue of ``language`` lives (the file a translator edits)."""
    return LOCALES_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@lru_cache(maxsize=len(LANGUAGES))
def catalogue_for(language: str) -> gettext.NullTranslations:
    """The compiled catalogue of ``language``, read from its ``.po`` once per process; English (and
    a language without a catalogue) gives the source text unchanged."""
    path = po_path(language)
    if language == ENGLISH or not path.exists():
        return _ENGLISH
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with path.open("rb") as handle:
        catalog = read_po(handle, locale=language, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)  # fuzzy entries fall back to English
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def use_language(language: str, translations: gettext.NullTranslations | None = None) -> None:
    """Translate what follows in this context (one Streamlit run) into ``language``; an unknown
    code means English. ``translations`` overrides the shipped catalogue (tests)."""
    if language not in LANGUAGES:
        language = DEFAULT_LANGUAGE
    _language.set(language)
    _translations.set(translations if translations is not None else catalogue_for(language))


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


def label_from(labels: Mapping[str, str], key: str) -> str:
    """``labels[key]`` in the reader's language. ``partial(label_from, LABELS)`` is a widget's
    ``format_func`` that Streamlit can pickle (a function defined in a page file is not)."""
    return _(labels[key])


def _locale() -> str:
    return BABEL_LOCALES.get(current_language(), BABEL_LOCALES[DEFAULT_LANGUAGE])


def format_date(value: date | datetime, format: str = "medium") -> str:
    """A date as the reader's locale writes it ("3 Dec 2026", "3 Rhag 2026")."""
    from babel.dates import format_date as babel_format_date

    return babel_format_date(value, format=format, locale=_locale())


def format_decimal(value: float, format: str | None = None) -> str:
    """A number with the reader's locale's separators ("1,493", "3.5")."""
    from babel.numbers import format_decimal as babel_format_decimal

    return babel_format_decimal(value, format=format, locale=_locale())


def format_percent(value: float, format: str | None = None) -> str:
    """A fraction (0.42) as the reader's locale writes a percentage ("42%")."""
    from babel.numbers import format_percent as babel_format_percent

    return babel_format_percent(value, format=format, locale=_locale())
