"""The demo organisation: a fictional UK council with six months of pulse answers and outcomes.

Deterministic by seed. ``plan_demo(seed, teams)`` decides the structure, the people and which
teams are planted as strained, without touching a database (tests and the strain evaluation read
the planted codes from it). ``seed_demo(engine, ...)`` writes the plan: the organisation through
the organisation CSV import, every pulse answer through ``surveys.submit.submit_pulse_in`` (one
transaction per week), and objectives, key results and weekly check-ins as plain rows.

The statistical shape follows the real data in data/external (bh1996): about 4% of the variance of
wellbeing lies between teams (a team effect plus a small drifting team component), the rest between
people and from week to week (autocorrelated, since WHO-5 asks about two weeks). Wellbeing dips in
winter and at Christmas; response is partial (about 70%) and lower in holiday weeks. Planted
strain and the weekly answers come from ``surveys.demo_strain`` (partial patterns with an onset
part-way through the weeks, distractors; the same generator the strain evaluation runs in memory).
Weeks end last week (or ``until``), so the current week is left for a demo user to answer.

Modules: ``content`` (names and titles), ``plan`` (what the seed decides), ``seed`` (writing it).
"""

from surveys.demo.plan import DemoError, DemoPlan, PlannedPerson, PlannedTeam, plan_demo
from surveys.demo.seed import DemoSummary, database_is_empty, demo_weeks, seed_demo

__all__ = [
    "DemoError",
    "DemoPlan",
    "DemoSummary",
    "PlannedPerson",
    "PlannedTeam",
    "database_is_empty",
    "demo_weeks",
    "plan_demo",
    "seed_demo",
]
