"""Scoring of each shipped instrument against worked examples from the reference sources."""

from __future__ import annotations

import pytest

from surveys.composition import Composition, InvalidAnswers, get_composition
from surveys.instruments import get_instrument

# Warwick's SWEMWBS raw-to-metric table (reference/instruments_and_privacy.md, A1), typed in here
# independently of surveys/instruments/swemwbs.toml so a typo in either is caught.
SWEMWBS_TABLE = {
    7: 7.00, 8: 9.51, 9: 11.25, 10: 12.40, 11: 13.33, 12: 14.08, 13: 14.75, 14: 15.32, 15: 15.84,
    16: 16.36, 17: 16.88, 18: 17.43, 19: 17.98, 20: 18.59, 21: 19.25, 22: 19.98, 23: 20.73,
    24: 21.54, 25: 22.35, 26: 23.21, 27: 24.11, 28: 25.03, 29: 26.02, 30: 27.03, 31: 28.13,
    32: 29.31, 33: 30.70, 34: 32.55, 35: 35.00,
}  # fmt: skip


def _whole(instrument_id: str) -> Composition:
    return Composition.whole(get_instrument(instrument_id))


@pytest.mark.parametrize(
    ("values", "percentage"),
    [((0, 0, 0, 0, 0), 0.0), ((5, 5, 5, 5, 5), 100.0), ((3, 2, 4, 1, 2), 48.0), ((3, 3, 3, 3, 1), 52.0)],
)
def test_who5_percentage_is_raw_sum_times_four(values: tuple[int, ...], percentage: float) -> None:
    answers = {f"who5_{i}": v for i, v in enumerate(values, start=1)}
    scores = _whole("who5").score(answers)
    assert sum(values) * 4 == percentage  # the worked example itself: raw 0-25, x4
    assert scores == {"wellbeing": percentage}


def test_hse_domain_means_reverse_negative_items() -> None:
    composition = _whole("hse")
    # Everyone answers 4 ("Often"/"Agree") to everything: positively worded items score 4,
    # negatively worded ones (demands, relationships) score 6 - 4 = 2.
    scores = composition.score(dict.fromkeys(composition.item_ids, 4))
    assert scores["demands"] == 2.0
    assert scores["relationships"] == 2.0
    for domain in ("control", "manager_support", "peer_support", "role", "change"):
        assert scores[domain] == 4.0


def test_hse_demands_worked_example() -> None:
    composition = _whole("hse")
    answers = dict.fromkeys(composition.item_ids, 3)
    # Demands items 3, 6, 9, 12, 16, 18, 20, 22 (all reverse keyed): raw 5,5,4,4,3,3,2,1
    raw = dict(zip(("hse_03", "hse_06", "hse_09", "hse_12", "hse_16", "hse_18", "hse_20", "hse_22"),
                   (5, 5, 4, 4, 3, 3, 2, 1), strict=True))  # fmt: skip
    answers.update(raw)
    # reversed: 1,1,2,2,3,3,4,5 -> mean 21/8
    assert composition.score(answers)["demands"] == pytest.approx(21 / 8)
    # Control (2, 10, 15, 19, 25, 30; none reversed): 1,2,3,4,5,3 -> 18/6
    answers.update({"hse_02": 1, "hse_10": 2, "hse_15": 3, "hse_19": 4, "hse_25": 5, "hse_30": 3})
    assert composition.score(answers)["control"] == pytest.approx(3.0)


def test_hse_domains_have_the_reference_items() -> None:
    hse = get_instrument("hse")
    expected = {
        "demands": [3, 6, 9, 12, 16, 18, 20, 22],
        "control": [2, 10, 15, 19, 25, 30],
        "manager_support": [8, 23, 29, 33, 35],
        "peer_support": [7, 24, 27, 31],
        "relationships": [5, 14, 21, 34],
        "role": [1, 4, 11, 13, 17],
        "change": [26, 28, 32],
    }
    for domain, numbers in expected.items():
        assert [item.id for item in hse.items_of(domain)] == [f"hse_{n:02d}" for n in numbers]
    reversed_ids = {item.id for item in hse.items if item.reverse}
    assert reversed_ids == {f"hse_{n:02d}" for n in (3, 5, 6, 9, 12, 14, 16, 18, 20, 21, 22, 34)}


@pytest.mark.parametrize("raw_total", range(7, 36))
def test_swemwbs_conversion_for_every_raw_total(raw_total: int) -> None:
    # Spread the raw total over the seven 1-5 items.
    values = [1] * 7
    remaining = raw_total - 7
    for index in range(7):
        step = min(4, remaining)
        values[index] += step
        remaining -= step
    answers = {f"swemwbs_{i}": v for i, v in enumerate(values, start=1)}
    assert sum(values) == raw_total
    assert _whole("swemwbs").score(answers) == {"swemwbs": SWEMWBS_TABLE[raw_total]}


def test_ons4_items_are_their_own_scores() -> None:
    answers = {"ons4_life_satisfaction": 7, "ons4_worthwhile": 8, "ons4_happiness": 6, "ons4_anxiety": 3}
    assert _whole("ons4").score(answers) == {
        "life_satisfaction": 7.0,
        "worthwhile": 8.0,
        "happiness": 6.0,
        "anxiety": 3.0,
    }


def test_weekly_core_scores_wellbeing_and_four_hse_domains() -> None:
    composition = get_composition("weekly-core")
    answers = dict.fromkeys(composition.item_ids, 2)
    answers.update({"hse_06": 5, "hse_09": 4})  # demands, both reverse keyed: 1 and 2
    scores = composition.score(composition.validate(answers))
    assert scores == {
        "wellbeing": 40.0,
        "demands": 1.5,
        "control": 2.0,
        "manager_support": 2.0,
        "peer_support": 2.0,
    }


def test_validation_lists_every_problem() -> None:
    composition = get_composition("weekly-core")
    answers: dict[str, object] = dict.fromkeys(composition.item_ids, 3)
    answers["who5_1"] = 6
    answers["hse_06"] = 0
    answers["hse_07"] = "3"
    del answers["who5_2"]
    answers["made_up"] = 1
    with pytest.raises(InvalidAnswers) as caught:
        composition.validate(answers)
    problems = caught.value.problems
    assert "who5_1: 6 is outside 0-5" in problems
    assert "hse_06: 0 is outside 1-5" in problems
    assert "hse_07: '3' is not a whole number" in problems
    assert "who5_2: no answer given" in problems
    assert any("made_up" in problem for problem in problems)
