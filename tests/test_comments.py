"""Name scrubbing in comments by word lookup: whole names in any case, capitalised parts, several
words, never part of a longer word (no database: ``scrub_comment`` is pure)."""

from __future__ import annotations

import pytest

from surveys.comments import NAME_PLACEHOLDER, build_name_index, scrub_comment

PEOPLE = ("Art Vandelay", "Mary Ann de la Cruz", "Siobhan O'Brien", "Li Wei", "Sam-Lee Jones")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a part of a name is removed when capitalised, whatever the case after the capital
        ("Art was great", "[name removed] was great"),
        ("ART was great", "[name removed] was great"),
        # ...but never as part of another word, capitalised or not
        ("The article was about Artificial art", None),
        ("Articles by Vandelays", None),
        ("Cruzing along", None),
        # whole names in any case, one placeholder for the whole name
        ("thanks to art vandelay", "thanks to [name removed]"),
        ("ART VANDELAY helped", "[name removed] helped"),
        ("mary ann de la cruz covered", "[name removed] covered"),
        ("Mary Ann de la Cruz covered", "[name removed] covered"),
        # first and last word of a longer name, in any case
        ("ask mary cruz", "ask [name removed]"),
        # apostrophes and hyphens inside a name, and a possessive after it
        ("Siobhan O'Brien's rota", "[name removed]'s rota"),
        ("O'Brien said", "[name removed] said"),
        ("sam-lee jones and Jones", "[name removed] and [name removed]"),
        # a name of two letters is still a name; lower-case single words are left alone
        ("Wei said li was fine", "[name removed] said li was fine"),
        ("the de la cruz thing", None),
    ],
)
def test_names_are_found_as_whole_words(text: str, expected: str | None) -> None:
    result = scrub_comment(text, build_name_index(PEOPLE))
    assert result.text == (text if expected is None else expected)
    assert result.changed == (expected is not None)


def test_names_given_as_strings_and_as_an_index_scrub_alike() -> None:
    text = "Mary and Siobhan O'Brien met art vandelay about the Article"
    by_index = scrub_comment(text, build_name_index(PEOPLE))
    assert scrub_comment(text, PEOPLE) == by_index
    assert scrub_comment(text, list(PEOPLE)) == by_index
    assert by_index.text.count(NAME_PLACEHOLDER) == 3
    assert "Article" in by_index.text


def test_no_names_removes_only_contact_details() -> None:
    result = scrub_comment("Art: art@council.test", ())
    assert result.text == "Art: [email removed]"
    assert build_name_index(["", "   "]).longest == 0
