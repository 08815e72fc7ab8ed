"""The translation catalogues: the template holds every message the code marks, the Welsh
catalogue translates every one of them, and no translation loses or invents a placeholder."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from app.i18n import LOCALES_DIR, po_path
from models.language import ENGLISH, LANGUAGES

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = LOCALES_DIR / "messages.pot"
PLACEHOLDER = re.compile(r"\{[^{}]*\}")
TRANSLATED = [code for code in LANGUAGES if code != ENGLISH]


def _key(message_id: str | tuple[str, ...], context: str | None) -> tuple[str | None, str]:
    singular = message_id[0] if isinstance(message_id, tuple) else message_id
    return context, singular


def _read(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=locale)


def _in_code() -> set[tuple[str | None, str]]:
    """Every message the code marks, extracted now as `pybabel extract -F babel.cfg` would."""
    with (ROOT / "babel.cfg").open() as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    return {
        _key(message_id, context)
        for _file, _line, message_id, _comments, context in extract_from_dir(
            ROOT, method_map, options_map
        )
    }


def _messages(catalog: Catalog) -> dict[tuple[str | None, str], object]:
    return {_key(m.id, m.context): m for m in catalog if m.id}


def test_template_is_up_to_date_with_the_code() -> None:
    in_code = _in_code()
    in_template = set(_messages(_read(TEMPLATE)))
    assert len(in_code) > 250  # the extraction found the interface (not an empty walk)
    missing, stale = sorted(in_code - in_template), sorted(in_template - in_code)
    assert not missing and not stale, (
        f"app/locales/messages.pot is out of date (docs/LANGUAGES.md says how to update it): "
        f"not in it {missing}; no longer in the code {stale}"
    )


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_message_is_translated_and_none_is_fuzzy(language: str) -> None:
    template = _messages(_read(TEMPLATE))
    catalogue = _messages(_read(po_path(language), locale=language))
    assert sorted(set(template) - set(catalogue)) == [], "run pybabel update (docs/LANGUAGES.md)"
    assert sorted(set(catalogue) - set(template)) == [], "obsolete entries: run pybabel update"
    untranslated = [key for key, m in catalogue.items() if not m.string or not all(m.string)]  # type: ignore[attr-defined]
    fuzzy = [key for key, m in catalogue.items() if m.fuzzy]  # type: ignore[attr-defined]
    assert untranslated == [] and fuzzy == []


@pytest.mark.parametrize("language", TRANSLATED)
def test_translations_keep_every_placeholder_and_line_shape(language: str) -> None:
    """``{team}`` must come through unchanged (``str.format`` would fail or show the wrong thing),
    and a message that starts or ends with a new line keeps it (Markdown blocks). Babel's own
    check is for %-formats, which the interface does not use: it takes "95% from" for one."""
    problems = []
    for message in _read(po_path(language), locale=language):
        if not message.id or not message.string:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = sorted(PLACEHOLDER.findall(ids[0]))
        for string in strings:
            if sorted(PLACEHOLDER.findall(string)) != wanted:
                problems.append(f"{ids[0]!r}: placeholders {wanted} became {string!r}")
            if string.startswith("\n") != ids[0].startswith("\n") or (
                string.endswith("\n") != ids[0].endswith("\n")
            ):
                problems.append(f"{ids[0][:40]!r}: leading or trailing new line differs")
    assert problems == []
