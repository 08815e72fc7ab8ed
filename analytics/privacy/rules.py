"""Every privacy rule and constant of the gate, in one place (DESIGN.md, "Privacy rules").

- **k** (``min_group_size``, default 5, floor 3): the fewest distinct *people* behind any released
  figure, counted from participation receipts, never from responses.
- **comment k** (``min_comment_group_size``, default 10, floor 5): the same for released comments.
- **Pooling period** (``pooling_period``, month or quarter): the aligned block a small team's figure
  is pooled into when its weeks are below k; beyond that it is rolled up into its parent unit.
- **Counts** below ``EXACT_COUNT_FROM`` are released only as a band, and the band is used as every
  denominator (response rates).
- **Precision**: means of 0-100 composites as whole numbers; short scales (1-5, 0-10) to one decimal;
  no interval, SD, minimum, maximum or distribution from a cell's own answers.
- A settings change applies from the next period and is audited (``models.org_settings``).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Literal, get_args

from sqlmodel import Session, col, select

from models import calendar
from models.access import Viewer
from models.outcomes import OrgSetting

FLOOR_MIN_GROUP_SIZE = 3
FLOOR_MIN_COMMENT_GROUP_SIZE = 5
EXACT_COUNT_FROM = 10
DEFAULT_RELEASE_GRACE_DAYS = 2
DEFAULT_TIME_ZONE = "Europe/London"

PoolingPeriod = Literal["month", "quarter"]
POOLING_PERIODS: tuple[PoolingPeriod, ...] = get_args(PoolingPeriod)

REASON_TOO_FEW = "too few people"
REASON_NEIGHBOUR = "protects a neighbouring group"
REASON_PERIOD = "protects a neighbouring period"
REASON_HEADCOUNT = "team smaller than the minimum group"

# The cell that carries participation (people and response rate) beside the construct cells.
PARTICIPATION = "responses"
# Work-pattern slices are released for weeks only: a week's slices are checked exactly against
# that week's unit totals, and a longer period's totals then hold them whole (nested). A slice
# over a quarter beside weekly totals is a two-way table with both margins known, where one
# person's week can be the only link between two groups and so be solved for.
SLICE_PERIOD: calendar.PeriodKind = "week"
# Comments are released for one period kind only, for the same reason.
COMMENT_PERIOD: calendar.PeriodKind = "month"

# Constructs scored on 0-100 (or a long raw range) are released as whole numbers; short scales to
# one decimal. One decimal on a 1-5 scale is 2.5 points on 0-100: coarser than a whole number.
WHOLE_NUMBER_CONSTRUCTS = frozenset({"wellbeing", "swemwbs"})

# A system export (CLI) acts as HR for the whole deployment; it is audited with actor "cli".
SYSTEM_VIEWER = Viewer(
    email="cli", display_name="Command line", person_id=None, team_id=None, roles=frozenset({"hr"})
)


@dataclass(frozen=True)
class PrivacyRules:
    """Thresholds in force; refuses anything looser than the floors in DESIGN.md."""

    min_group_size: int = 5
    min_comment_group_size: int = 10
    pooling_period: PoolingPeriod = "month"

    def __post_init__(self) -> None:
        if self.min_group_size < FLOOR_MIN_GROUP_SIZE:
            raise ValueError(f"min_group_size must be at least {FLOOR_MIN_GROUP_SIZE}")
        if self.min_comment_group_size < FLOOR_MIN_COMMENT_GROUP_SIZE:
            raise ValueError(f"min_comment_group_size must be at least {FLOOR_MIN_COMMENT_GROUP_SIZE}")
        if self.pooling_period not in POOLING_PERIODS:
            raise ValueError(f"pooling_period must be one of {', '.join(POOLING_PERIODS)}")


def standing_kinds(pooling_period: PoolingPeriod) -> tuple[calendar.PeriodKind, ...]:
    """The periods that may stand for a team's week, finest first: its own week, then the block
    it is pooled into (month, then quarter; or the quarter only)."""
    return ("week", "month", "quarter") if pooling_period == "month" else ("week", "quarter")


def band(n: int) -> str:
    """A released count of people: exact from 10, otherwise the band it falls in ("5-9")."""
    if n >= EXACT_COUNT_FROM:
        return str(int(n))
    if n >= 5:
        return "5-9"
    return f"{FLOOR_MIN_GROUP_SIZE}-4"


def band_bounds(label: str) -> tuple[int, int]:
    """The smallest and largest count a released ``n`` allows (exact counts: both the same)."""
    if "-" in label:
        low, high = label.split("-")
        return int(low), int(high)
    return int(label), int(label)


def rate_text(people: int, headcount: int) -> str | None:
    """A response rate from the *released* count: exact from 10 people, else the range the band
    allows (so the rate never undoes the band). None when the headcount is unknown."""
    if headcount <= 0:
        return None
    low, high = band_bounds(band(people))
    low_pct, high_pct = (min(100, round(100 * value / headcount)) for value in (low, high))
    return f"{low_pct}%" if low_pct == high_pct else f"{low_pct}-{high_pct}%"


def rate_bounds(text: str) -> tuple[float, float]:
    """The lowest and highest share a released rate text allows ("50-90%" -> 0.5, 0.9)."""
    low, _, high = text.rstrip("%").partition("-")
    return float(low) / 100, float(high or low) / 100


def release_decimals(construct: str) -> int:
    return 0 if construct in WHOLE_NUMBER_CONSTRUCTS else 1


def released_mean(construct: str, total: float, n: int) -> float | None:
    """A released mean at the release precision (None when there is nothing to average)."""
    if n <= 0 or math.isnan(total):
        return None
    decimals = release_decimals(construct)
    value = round(total / n, decimals)
    return float(int(value)) if decimals == 0 else float(value)


def rules_for_period(
    session: Session, *, organisation_id: int, period: str, defaults: PrivacyRules
) -> PrivacyRules:
    """The organisation's rules for a period: the strictest k values in force in any of its weeks
    (a change applies from its effective week), and the pooling period in force at its start."""
    weeks = calendar.weeks_in(period)
    rows = session.exec(
        select(OrgSetting.key, OrgSetting.value, OrgSetting.effective_from)
        .where(
            OrgSetting.organisation_id == organisation_id,
            col(OrgSetting.key).in_(["min_group_size", "min_comment_group_size", "pooling_period"]),
        )
        .order_by(col(OrgSetting.effective_from), col(OrgSetting.id))
    ).all()

    def in_force(key: str, week: str, default: object) -> object:
        value = default
        for row_key, row_value, effective_from in rows:
            if row_key == key and effective_from <= week:
                value = json.loads(row_value)
        return value

    k = max(int(in_force("min_group_size", w, defaults.min_group_size)) for w in weeks)  # type: ignore[call-overload]
    k_comments = max(
        int(in_force("min_comment_group_size", w, defaults.min_comment_group_size))  # type: ignore[call-overload]
        for w in weeks
    )
    pooling = str(in_force("pooling_period", weeks[0], defaults.pooling_period))
    return PrivacyRules(
        min_group_size=max(FLOOR_MIN_GROUP_SIZE, k),
        min_comment_group_size=max(FLOOR_MIN_COMMENT_GROUP_SIZE, k_comments),
        pooling_period=pooling if pooling in POOLING_PERIODS else defaults.pooling_period,  # type: ignore[arg-type]
    )
