"""The demo council's weekly answers and its planted strain: a fair test for strain detection.

One generator serves both the database seed (``surveys.demo.seed_demo`` submits what it yields)
and the in-memory evaluation (``analytics.strain_evaluate``), so the evaluation scores exactly the
council a user sees.

Why it looks like this:

- **Realistic between-team variance.** Team effects are drawn so that about 4% of wellbeing variance
  lies between teams (bh1996: ICC(1) 0.043) and about 13% of the work-condition scores (bh1996 hours
  and leadership: 0.13); the rest is people and weeks (autocorrelated, since WHO-5 asks about two
  weeks). Teams of 3 to 25 people, about 74% response, a winter and Christmas dip for everyone.
- **Partial strain patterns** with an onset part-way through the weeks (6 to 10 weeks before the
  end, reaching full size over three weeks): only wellbeing falls; only demands rise; managers'
  support and control fall (unsupported); wellbeing falls with rising demands (overloaded); fewer
  answers and lower wellbeing (disengaged); only delivery slips (invisible in the pulse).
- **Distractors**: small noisy teams, the seasonal dip, and one large team with a mild but real
  decline (a sustained-drop alert should catch it; the level flag need not): it is not planted.

The detector never reads this module's choices; only the evaluation does, to score it.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

from surveys.composition import Composition
from surveys.scoring import construct_score

#: Effects at full strength: WHO-5 points, HSE 1-5 score points, response propensity factor, and
#: delivery pace after onset (1 = on plan).
EFFECTS: dict[str, dict[str, float]] = {
    "wellbeing": {"wellbeing": -18.0},
    "demands": {"demands": -0.8},
    "unsupported": {"manager_support": -0.9, "peer_support": -0.5, "control": -0.5},
    "overloaded": {"wellbeing": -12.0, "demands": -0.6},
    "disengaged": {"wellbeing": -12.0, "response": 0.5},
    "delivery": {"delivery": 0.2},
    "mild decline": {"wellbeing": -6.0},
}
PULSE_KINDS = ("wellbeing", "demands", "unsupported", "overloaded", "disengaged")
STRAIN_KINDS = (*PULSE_KINDS, "delivery")
DISTRACTOR = "mild decline"
RAMP_WEEKS = 3
MILD_DECLINE_WEEKS = 12  # the distractor's decline runs linearly over this many weeks
ONSET_RANGE = (6, 10)  # planted onset, in weeks before the end (inclusive)
PLANTED_SHARE = 0.09  # about one team in eleven is planted
MIN_PLANTED_SIZE = 8

# Between-team and within-team spreads (WHO-5 points; HSE score points).
TEAM_SD = {"wellbeing": 3.5, "demands": 0.2, "control": 0.15, "support": 0.2}
PERSON_SD = {"wellbeing": 13.0, "demands": 0.4, "control": 0.4, "support": 0.4}
WEEK_SD_WELLBEING = 11.0
WEEK_AR1 = 0.5
ITEM_NOISE = 0.55


@dataclass(frozen=True)
class Plant:
    """What the generator does to one team: ``kind`` (see ``EFFECTS``, or "none") and the onset in
    weeks before the end of the seeded weeks."""

    team: str
    kind: str = "none"
    onset_weeks_before_end: int | None = None

    @property
    def planted(self) -> bool:
        return self.kind in STRAIN_KINDS

    @property
    def in_pulse(self) -> bool:
        return self.kind in PULSE_KINDS

    def strength(self, index: int, weeks: int) -> float:
        """0 before onset, rising to 1 over ``RAMP_WEEKS`` (the distractor: linear over
        ``MILD_DECLINE_WEEKS``)."""
        if self.onset_weeks_before_end is None:
            return 0.0
        start = weeks - self.onset_weeks_before_end
        if index < start:
            return 0.0
        ramp = MILD_DECLINE_WEEKS if self.kind == DISTRACTOR else RAMP_WEEKS
        return min(1.0, (index - start + 1) / ramp)

    def effect(self, name: str, index: int, weeks: int) -> float:
        """The shift of ``name`` in week ``index`` (0 when the kind does not move it)."""
        size = EFFECTS.get(self.kind, {}).get(name)
        if size is None:
            return 1.0 if name in ("response", "delivery") else 0.0
        strength = self.strength(index, weeks)
        if name in ("response", "delivery"):
            return 1.0 - (1.0 - size) * strength
        return size * strength


def choose_plants(
    rng: np.random.Generator,
    teams: Sequence[tuple[str, int]],
    *,
    exclude: set[str],
    no_strain: bool,
) -> tuple[Plant, ...]:
    """One ``Plant`` per team (code, size): about ``PLANTED_SHARE`` of the teams with at least
    ``MIN_PLANTED_SIZE`` people get a strain kind (every kind before any repeats, in a seeded
    order), one large team gets the mild decline; none of it with ``no_strain``."""
    plants = {code: Plant(code) for code, _ in teams}
    if no_strain:
        return tuple(plants.values())
    candidates = [code for code, size in teams if size >= MIN_PLANTED_SIZE and code not in exclude]
    count = min(len(candidates), max(3, round(PLANTED_SHARE * len(teams))))
    chosen = rng.choice(candidates, size=count, replace=False).tolist() if count else []
    kinds = list(rng.permutation(STRAIN_KINDS))
    for position, code in enumerate(sorted(chosen)):
        onset = int(rng.integers(ONSET_RANGE[0], ONSET_RANGE[1] + 1))
        plants[code] = Plant(code, str(kinds[position % len(kinds)]), onset)
    large = [code for code, size in teams if size >= 17 and code not in chosen and code not in exclude]
    if large:
        code = str(large[int(rng.integers(len(large)))])
        plants[code] = Plant(code, DISTRACTOR, MILD_DECLINE_WEEKS)
    return tuple(plants[code] for code, _ in teams)


@dataclass
class SimMember:
    """One person's lasting traits and their autocorrelated weekly wellbeing noise."""

    key: str  # email
    team: str
    wellbeing: float
    demands: float
    control: float
    support: float
    propensity: float
    frontline: bool
    days: int
    noise: float = 0.0


@dataclass(frozen=True)
class SimAnswer:
    """One answer of one person in one week: item answers and the construct scores they give."""

    member: SimMember
    answers: dict[str, int]
    scores: dict[str, float]
    strained: float  # the team's strain strength this week (for comments)


@dataclass
class SimTeams:
    """Team-level draws: lasting effects per construct and the drifting wellbeing component."""

    effect: dict[str, dict[str, float]] = field(default_factory=dict)
    drift: dict[str, float] = field(default_factory=dict)


def season(week: str) -> float:
    """Common wellbeing shift in WHO-5 points: lower in winter, a Christmas dip, higher in summer."""
    number = int(week.split("-W")[1])
    shift = 3.0 * math.cos(2 * math.pi * (number - 29) / 52)
    if number in (51, 52, 53, 1, 2):
        shift -= 2.0
    return shift


def holiday_factor(week: str) -> float:
    """Fewer answers in school summer holidays and at Christmas."""
    number = int(week.split("-W")[1])
    return 0.8 if number in (31, 32, 33, 34, 52, 53, 1) else 1.0


def _unit(hse_score: float) -> float:
    """An HSE 1-5 score as a level in [0, 1]."""
    return min(1.0, max(0.0, (hse_score - 1.0) / 4.0))


def item_answers(
    composition: Composition, levels: dict[str, float], rng: np.random.Generator
) -> dict[str, int]:
    """Item answers for construct levels in [0, 1] (1 = best), on each item's scale and keying."""
    answers: dict[str, int] = {}
    for _, item in composition.items:
        level = levels.get(item.construct, levels["wellbeing"])
        low, high = item.scale.min, item.scale.max
        value = low + level * (high - low) + rng.normal(0, ITEM_NOISE)
        value = int(min(high, max(low, round(value))))
        answers[item.id] = (high + low - value) if item.reverse else value
    return answers


def scores_of(composition: Composition, answers: dict[str, int]) -> dict[str, float]:
    """Construct scores of one answer set, as each instrument scores them."""
    by_construct: dict[tuple[str, str], list] = {}
    instruments = {}
    for instrument, item in composition.items:
        by_construct.setdefault((instrument.id, item.construct), []).append(item)
        instruments[instrument.id] = instrument
    return {
        construct: construct_score(instruments[instrument_id].construct(construct), items, answers)
        for (instrument_id, construct), items in by_construct.items()
    }


def simulate_pulse(
    *,
    seed: int,
    people: Sequence[tuple[str, str, float]],
    plants: Sequence[Plant],
    week_labels: Sequence[str],
    composition: Composition,
) -> Iterator[tuple[int, str, list[SimAnswer]]]:
    """Yield (week index, week, answers) for every week. ``people``: (email, team code, the team's
    frontline share) for everyone in a team. Deterministic by ``seed``."""
    rng = np.random.default_rng([seed, 1])
    plant_of = {plant.team: plant for plant in plants}
    codes = list(dict.fromkeys(team for _, team, _ in people))
    teams = SimTeams(
        effect={
            code: {name: float(rng.normal(0, sd)) for name, sd in TEAM_SD.items()} for code in codes
        },
        drift=dict.fromkeys(codes, 0.0),
    )
    members = [
        SimMember(
            key=email,
            team=team,
            wellbeing=float(rng.normal(0, PERSON_SD["wellbeing"])),
            demands=float(rng.normal(0, PERSON_SD["demands"])),
            control=float(rng.normal(0, PERSON_SD["control"])),
            support=float(rng.normal(0, PERSON_SD["support"])),
            propensity=float(np.clip(rng.normal(0.74, 0.16), 0.2, 0.98)),
            frontline=bool(rng.random() < frontline),
            days=int(rng.choice([5, 5, 5, 5, 4, 3])),
            noise=float(rng.normal(0, WEEK_SD_WELLBEING)),
        )
        for email, team, frontline in people
    ]
    weeks = len(week_labels)
    innovation = WEEK_SD_WELLBEING * math.sqrt(1 - WEEK_AR1**2)
    for index, week in enumerate(week_labels):
        for code in codes:
            teams.drift[code] = 0.8 * teams.drift[code] + float(rng.normal(0, 1.0))
        answers: list[SimAnswer] = []
        for member in members:
            plant = plant_of.get(member.team, Plant(member.team))
            member.noise = WEEK_AR1 * member.noise + float(rng.normal(0, innovation))
            propensity = (
                member.propensity * holiday_factor(week) * plant.effect("response", index, weeks)
            )
            if rng.random() > propensity:
                continue
            team = teams.effect[member.team]
            wellbeing = (
                60.0
                + team["wellbeing"]
                + teams.drift[member.team]
                + season(week)
                + member.wellbeing
                + member.noise
                + plant.effect("wellbeing", index, weeks)
            )
            demands = 3.3 + team["demands"] + member.demands + plant.effect("demands", index, weeks)
            demands += 0.01 * (wellbeing - 60.0) + rng.normal(0, 0.3)
            control = 3.6 + team["control"] + member.control + plant.effect("control", index, weeks)
            control += 0.008 * (wellbeing - 60.0) + rng.normal(0, 0.3)
            manager = (
                3.8 + team["support"] + member.support + plant.effect("manager_support", index, weeks)
            )
            levels = {
                "wellbeing": min(1.0, max(0.0, wellbeing / 100.0)),
                "demands": _unit(demands),
                "control": _unit(control),
                "manager_support": _unit(manager + rng.normal(0, 0.3)),
                "peer_support": _unit(
                    3.9
                    + team["support"]
                    + member.support
                    + plant.effect("peer_support", index, weeks)
                    + rng.normal(0, 0.3)
                ),
            }
            item = item_answers(composition, levels, rng)
            answers.append(
                SimAnswer(
                    member,
                    item,
                    scores_of(composition, item),
                    plant.strength(index, weeks) if plant.planted else 0.0,
                )
            )
        yield index, week, answers


def check_in_series(
    starts_on: date,
    ends_on: date,
    until: date,
    *,
    pace: float,
    stall_from: date | None,
    rng: np.random.Generator,
) -> list[tuple[date, float, int]]:
    """Weekly (Friday) check-ins of one key result: (day, progress 0-1, confidence 0-10).
    Progress follows elapsed time times the team's pace; after ``stall_from`` a team gains a
    fifth of that and its confidence falls week by week."""
    span = (ends_on - starts_on).days
    day = starts_on + timedelta(days=(4 - starts_on.weekday()) % 7)
    progress, confidence_base, stalled_weeks = 0.0, float(rng.normal(7.0, 0.8)), 0
    previous_elapsed = 0.0
    series: list[tuple[date, float, int]] = []
    while day <= until:
        elapsed = min(1.0, (day - starts_on).days / span)
        step = (elapsed - previous_elapsed) * pace
        previous_elapsed = elapsed
        if stall_from is not None and day >= stall_from:
            step *= EFFECTS["delivery"]["delivery"]
            stalled_weeks += 1
        progress = max(0.0, progress + step + float(rng.normal(0, 0.015)))
        behind = max(0.0, elapsed - progress)
        confidence = confidence_base - 8.0 * behind - 0.5 * stalled_weeks + float(rng.normal(0, 0.6))
        series.append((day, progress, int(min(10, max(0, round(confidence))))))
        day += timedelta(days=7)
    return series
