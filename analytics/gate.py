"""The privacy gate: the one place that decides which aggregate figures may leave analytics.

Rules (DESIGN.md, "Privacy rules"), applied per period (a week or a window of weeks) and construct:

1. **k**: a unit's figure is released only if at least ``min_group_size`` responses lie behind it.
2. **Complementary suppression**: for every released unit, its responses not covered by released
   units below it (its *residual*: parent minus visible descendants, including people attached to
   the unit itself) must be none or at least k. Otherwise the smallest visible descendant is
   suppressed too ("protects a neighbouring group"), repeatedly. Checking the residual against
   the *maximal released descendants* (not only the direct children) also covers roll-up: a
   team hidden inside its parent can never be recovered as parent minus siblings.
3. **Small teams**: a team below k in a week is pooled over a rolling window of
   ``pooling_weeks``; if the window is still below k, its row shows the nearest released ancestor
   ("rolled up into <unit>"). Pooled and rolled-up figures pass the same gate in their own period.
4. **Slices** (unit x work pattern) are released all-or-nothing per unit: only when the unit's
   total is released, every pattern cell is none or at least k, and, per pattern, every residual
   within a parent is none or at least k (the same complementary rule on vectors).
5. **Counts** below 10 are released only as a band (``"5-9"``), never exactly.
6. **Comments** need ``min_comment_group_size`` responses, with the same residual rule.

Remaining risk (documented in README): differences between overlapping rolling windows and
between consecutive weeks when someone joins or leaves a small team can still narrow down a
change in one person's answers; banded counts and pooling blunt this but do not remove it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd
from scipy import stats
from sqlmodel import Session, select

from analytics.aggregates import (
    WORK_PATTERNS,
    OrgTree,
    comments_for,
    load_tree,
    shift_week,
    team_pattern_sums,
    team_week_members,
    team_week_response_counts,
    team_week_sums,
    weeks_between,
)
from models.access import AccessDenied, Viewer, descendant_unit_ids, require_team_access
from models.org_settings import get_org_setting
from models.outcomes import OrgSetting

FLOOR_MIN_GROUP_SIZE = 3
FLOOR_MIN_COMMENT_GROUP_SIZE = 5
EXACT_COUNT_FROM = 10
REASON_TOO_FEW = "too few responses"
REASON_NEIGHBOUR = "protects a neighbouring group"
BASIS_TEAM = "team"
FIGURE_COLUMNS: tuple[str, ...] = (
    "unit",
    "unit_name",
    "parent",
    "level",
    "period_start",
    "period_end",
    "construct",
    "mean",
    "ci_low",
    "ci_high",
    "n",
    "suppressed",
    "reason",
    "basis",
)

# A system export (CLI) acts as HR for the whole deployment; it is audited with actor "cli".
SYSTEM_VIEWER = Viewer(
    email="cli", display_name="Command line", person_id=None, team_id=None, roles=frozenset({"hr"})
)


@dataclass(frozen=True)
class PrivacyRules:
    """Thresholds in force; refuses anything looser than the floors in DESIGN.md."""

    min_group_size: int = 5
    min_comment_group_size: int = 10
    pooling_weeks: int = 4

    def __post_init__(self) -> None:
        if self.min_group_size < FLOOR_MIN_GROUP_SIZE:
            raise ValueError(f"min_group_size must be at least {FLOOR_MIN_GROUP_SIZE}")
        if self.min_comment_group_size < FLOOR_MIN_COMMENT_GROUP_SIZE:
            raise ValueError(f"min_comment_group_size must be at least {FLOOR_MIN_COMMENT_GROUP_SIZE}")
        if not 1 <= self.pooling_weeks <= 13:
            raise ValueError("pooling_weeks must be between 1 and 13")


def rules_in_force(
    session: Session, *, organisation_id: int, start_week: str, end_week: str, defaults: PrivacyRules
) -> PrivacyRules:
    """The organisation's thresholds for a range: the strictest k values in force in any of its
    weeks (a change applies from the next period), and the pooling window in force at its end."""

    def strictest(key: str, default: int, floor: int) -> int:
        values = [
            int(
                get_org_setting(
                    session, organisation_id=organisation_id, key=key, week=start_week, default=default
                )
            )
        ]
        changes = session.exec(
            select(OrgSetting.value).where(
                OrgSetting.organisation_id == organisation_id,
                OrgSetting.key == key,
                OrgSetting.effective_from > start_week,
                OrgSetting.effective_from <= end_week,
            )
        ).all()
        values.extend(int(json.loads(value)) for value in changes)
        return max(floor, *values)

    pooling = int(
        get_org_setting(
            session,
            organisation_id=organisation_id,
            key="pooling_weeks",
            week=end_week,
            default=defaults.pooling_weeks,
        )
    )
    return PrivacyRules(
        min_group_size=strictest("min_group_size", defaults.min_group_size, FLOOR_MIN_GROUP_SIZE),
        min_comment_group_size=strictest(
            "min_comment_group_size", defaults.min_comment_group_size, FLOOR_MIN_COMMENT_GROUP_SIZE
        ),
        pooling_weeks=min(13, max(1, pooling)),
    )


# ---------------------------------------------------------------------------------------------
# The core decision: which units of a tree may show a figure in one period
# ---------------------------------------------------------------------------------------------

Vector = tuple[int, ...]


def _component_ok(value: int, k: int) -> bool:
    return value == 0 or value >= k


def decide(
    tree: OrgTree,
    own: Mapping[int, Vector],
    k: int,
    forced: Mapping[int, str] | None = None,
) -> dict[int, str | None]:
    """For every unit: None if its figure may be released, else the reason it is suppressed.

    ``own`` holds the responses attached directly to each unit (a team's responses), as a vector
    (one component for totals; one per work pattern for slices). A unit is a candidate when its
    subtree has at least k responses and every component is none or at least k. Then, walking
    children before parents, every released unit's residual (subtree minus its maximal released
    descendants) must have every component none or at least k; if not, the smallest visible
    descendant is suppressed as well, until it does. ``forced`` units are never released.
    """
    forced = forced or {}
    width = len(next(iter(own.values()))) if own else 1
    zero: Vector = (0,) * width
    subtotal: dict[int, Vector] = {}
    reasons: dict[int, str | None] = {}
    tops: dict[
        int, list[int]
    ] = {}  # per unit: itself if released, else its maximal released descendants

    def below(unit_id: int) -> list[int]:
        return [top for child in tree.children[unit_id] for top in tops[child]]

    for unit_id in tree.postorder:
        vector = own.get(unit_id, zero)
        for child in tree.children[unit_id]:
            vector = tuple(a + b for a, b in zip(vector, subtotal[child], strict=True))
        subtotal[unit_id] = vector
        if unit_id in forced:
            reasons[unit_id] = forced[unit_id]
        elif sum(vector) < k or not all(_component_ok(value, k) for value in vector):
            reasons[unit_id] = REASON_TOO_FEW
        else:
            reasons[unit_id] = None
        if reasons[unit_id] is not None:
            tops[unit_id] = below(unit_id)
            continue
        visible = below(unit_id)
        residual = list(vector)
        for top in visible:
            residual = [a - b for a, b in zip(residual, subtotal[top], strict=True)]
        while not all(_component_ok(value, k) for value in residual):
            smallest = min(visible, key=lambda u: (sum(subtotal[u]), tree.units[u].code))
            visible.remove(smallest)
            reasons[smallest] = REASON_NEIGHBOUR
            uncovered = list(subtotal[smallest])
            for top in below(smallest):
                visible.append(top)
                uncovered = [a - b for a, b in zip(uncovered, subtotal[top], strict=True)]
            residual = [a + b for a, b in zip(residual, uncovered, strict=True)]
        tops[unit_id] = [unit_id]
    return reasons


class _DecisionCache:
    """Gate runs keyed by their inputs: constructs answered by the same people share decisions."""

    def __init__(self, tree: OrgTree) -> None:
        self.tree = tree
        self._memo: dict[Hashable, dict[int, str | None]] = {}

    def __call__(
        self, own: Mapping[int, Vector], k: int, forced: Mapping[int, str] | None = None
    ) -> dict[int, str | None]:
        key = (k, frozenset((u, v) for u, v in own.items() if any(v)), frozenset((forced or {}).items()))
        if key not in self._memo:
            self._memo[key] = decide(self.tree, own, k, forced)
        return self._memo[key]


# ---------------------------------------------------------------------------------------------
# Figures: what a released or suppressed cell looks like
# ---------------------------------------------------------------------------------------------


def band(n: int) -> int | str:
    """A released response count: exact from 10, otherwise the band it falls in ("5-9")."""
    if n >= EXACT_COUNT_FROM:
        return int(n)
    if n >= 5:
        return "5-9"
    return f"{FLOOR_MIN_GROUP_SIZE}-4"


def t_interval(n: int, total: float, total_sq: float, level: float = 0.95) -> tuple[float, float, float]:
    """Mean and t-interval of the mean from the additive sums (n, sum, sum of squares)."""
    mean = total / n
    if n < 2:
        return mean, math.nan, math.nan
    variance = max(0.0, (total_sq - total * total / n) / (n - 1))
    half = float(stats.t.ppf(0.5 + level / 2, n - 1)) * math.sqrt(variance / n)
    return mean, mean - half, mean + half


@dataclass
class ReleasedFigure:
    """One cell of any aggregate view or export, after the gate (export columns plus ``basis``)."""

    unit: str
    unit_name: str
    parent: str | None
    level: str
    period_start: str
    period_end: str
    construct: str
    mean: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    n: int | str | None = None
    suppressed: bool = True
    reason: str | None = REASON_TOO_FEW
    basis: str = BASIS_TEAM
    extra: dict[str, Any] = field(default_factory=dict, repr=False)

    def as_row(self) -> dict[str, Any]:
        row = asdict(self)
        extra = row.pop("extra")
        row.update(extra)
        return row


def _rounded(value: float) -> float | None:
    return None if math.isnan(value) else round(value, 3)


def make_figure(
    tree: OrgTree,
    unit_id: int,
    *,
    period: tuple[str, str],
    construct: str,
    sums: tuple[int, float, float],
    reason: str | None,
    basis: str = BASIS_TEAM,
    row_unit_id: int | None = None,
) -> ReleasedFigure:
    """A figure for ``unit_id``'s sums, or a suppressed cell carrying only its reason.

    ``row_unit_id`` names the row's unit when it shows another unit's figure (rolled up).
    """
    row_unit = tree.units[row_unit_id if row_unit_id is not None else unit_id]
    parent_id = tree.parent(row_unit.id)
    figure = ReleasedFigure(
        unit=row_unit.code,
        unit_name=row_unit.name,
        parent=tree.units[parent_id].code if parent_id is not None else None,
        level=row_unit.kind,
        period_start=period[0],
        period_end=period[1],
        construct=construct,
        basis=basis,
    )
    if reason is not None:
        figure.reason = reason
        return figure
    n, total, total_sq = sums
    mean, low, high = t_interval(n, total, total_sq)
    figure.mean, figure.ci_low, figure.ci_high = round(mean, 3), _rounded(low), _rounded(high)
    figure.n, figure.suppressed, figure.reason = band(n), False, None
    return figure


def figures_frame(figures: Sequence[ReleasedFigure], extra_columns: Sequence[str] = ()) -> pd.DataFrame:
    columns = [*extra_columns, *FIGURE_COLUMNS]
    frame = pd.DataFrame([figure.as_row() for figure in figures])
    if frame.empty:
        return pd.DataFrame(columns=columns)
    return frame[[*columns, *[c for c in frame.columns if c not in columns]]]


# ---------------------------------------------------------------------------------------------
# Period sums: team-level sums for one period, rolled up the tree
# ---------------------------------------------------------------------------------------------

Sums = tuple[int, float, float]


def _subtree_sums(tree: OrgTree, own: Mapping[int, tuple]) -> dict[int, tuple]:
    """Every unit's sums over its subtree (sums are additive: roll-up is addition)."""
    width = len(next(iter(own.values()))) if own else 3
    result: dict[int, tuple] = {}
    for unit_id in tree.postorder:
        values = list(own.get(unit_id, (0,) * width))
        for child in tree.children[unit_id]:
            values = [a + b for a, b in zip(values, result[child], strict=True)]
        result[unit_id] = tuple(values)
    return result


class _WeeklySums:
    """Team sums per (week, construct) with window sums on demand (pooling is a sum of weeks)."""

    def __init__(self, frame: pd.DataFrame, value_columns: Sequence[str] = ("n", "total", "total_sq")):
        self.by_week: dict[tuple[str, str], dict[int, tuple]] = {}
        for row in frame.itertuples(index=False):
            key = (row.week, getattr(row, "construct", ""))
            self.by_week.setdefault(key, {})[row.team_id] = tuple(getattr(row, c) for c in value_columns)
        self.width = len(value_columns)

    def period(self, weeks: Sequence[str], construct: str = "") -> dict[int, tuple]:
        if len(weeks) == 1:
            return dict(self.by_week.get((weeks[0], construct), {}))
        pooled: dict[int, list] = {}
        for week in weeks:
            for team_id, values in self.by_week.get((week, construct), {}).items():
                current = pooled.setdefault(team_id, [0] * self.width)
                for index, value in enumerate(values):
                    current[index] += value
        return {team_id: tuple(values) for team_id, values in pooled.items()}


def _counts(sums: Mapping[int, tuple]) -> dict[int, Vector]:
    return {unit_id: (int(values[0]),) for unit_id, values in sums.items()}


# ---------------------------------------------------------------------------------------------
# Access
# ---------------------------------------------------------------------------------------------


def require_team_view(session: Session, viewer: Viewer, team_id: int) -> None:
    """A team's released figures: its managers, HR/admin, and its own members (what others see)."""
    if viewer.team_id == team_id and viewer.is_staff:
        return
    require_team_access(session, viewer, team_id)


def require_unit_view(session: Session, viewer: Viewer, unit_id: int) -> None:
    """A unit's released figures: HR/admin anywhere; a manager within the units they manage;
    staff only their own team."""
    if viewer.is_hr or viewer.is_admin:
        return
    if viewer.team_id == unit_id and viewer.is_staff:
        return
    if viewer.is_manager and unit_id in descendant_unit_ids(session, viewer.managed_unit_ids):
        return
    raise AccessDenied("You can only see units you manage or your own team.")


def require_hr(viewer: Viewer) -> None:
    if not (viewer.is_hr or viewer.is_admin):
        raise AccessDenied("Organisation-wide figures are for HR only.")


# ---------------------------------------------------------------------------------------------
# Team data functions (team dashboard, "What others can see", strain detection)
# ---------------------------------------------------------------------------------------------


@dataclass
class _OrgContext:
    tree: OrgTree
    rules: PrivacyRules
    decide: _DecisionCache


def _org_context(
    session: Session, *, unit_id: int, rules: PrivacyRules, start_week: str, end_week: str
) -> _OrgContext:
    whole = load_tree(session)
    if unit_id not in whole.units:
        raise LookupError(f"There is no unit with id {unit_id}.")
    root = whole.root_of(unit_id)
    tree = load_tree(session, root)
    effective = rules_in_force(
        session, organisation_id=root, start_week=start_week, end_week=end_week, defaults=rules
    )
    return _OrgContext(tree=tree, rules=effective, decide=_DecisionCache(tree))


def _window(week: str, pooling_weeks: int) -> list[str]:
    return weeks_between(shift_week(week, -(pooling_weeks - 1)), week)


@dataclass(frozen=True)
class _Choice:
    """Which figure a team's row shows: whose (``unit_id``), over which weeks, and why."""

    unit_id: int
    weeks: list[str]
    totals: tuple
    reason: str | None
    basis: str


def _release_chain(
    context: _OrgContext,
    team_id: int,
    week: str,
    period_sums: Callable[[list[str]], dict[int, tuple]],
    k: int,
) -> _Choice:
    """The team's figure for ``week``: its own week, else its pooled window, else the nearest
    ancestor (week, then window) that the gate releases; else suppressed with the team's reason.

    ``period_sums(weeks)`` gives every team's additive sums over those weeks (n first).
    """
    tree, pooling = context.tree, context.rules.pooling_weeks
    periods = [[week]] if pooling == 1 else [[week], _window(week, pooling)]
    decided = []
    for weeks in periods:
        own = period_sums(weeks)
        decided.append((weeks, own, context.decide(_counts(own), k)))
    for unit_id in [team_id, *tree.ancestors(team_id)]:
        for weeks, own, reasons in decided:
            if reasons.get(unit_id, REASON_TOO_FEW) is not None:
                continue
            pooled = f"pooled over {len(weeks)} weeks" if len(weeks) > 1 else ""
            if unit_id == team_id:
                basis = pooled or BASIS_TEAM
            else:
                basis = ", ".join(filter(None, [f"rolled up into {tree.units[unit_id].name}", pooled]))
            totals = _subtree_sums(tree, own)[unit_id]
            return _Choice(unit_id, weeks, totals, None, basis)
    weeks, _, reasons = decided[-1]
    return _Choice(team_id, weeks, (0, 0.0, 0.0), reasons.get(team_id) or REASON_TOO_FEW, BASIS_TEAM)


def team_series(
    *,
    session: Session,
    viewer: Viewer,
    rules: PrivacyRules,
    team_id: int,
    start_week: str,
    end_week: str,
    constructs: Sequence[str] | None = None,
) -> pd.DataFrame:
    """One row per week and construct for a team: its own mean if released, else pooled over the
    rolling window, else rolled up into the nearest released ancestor (``basis`` says which)."""
    require_team_view(session, viewer, team_id)
    context = _org_context(
        session, unit_id=team_id, rules=rules, start_week=start_week, end_week=end_week
    )
    first = shift_week(start_week, -(context.rules.pooling_weeks - 1))
    frame = team_week_sums(
        session,
        team_ids=list(context.tree.units),
        start_week=first,
        end_week=end_week,
        constructs=constructs,
    )
    sums = _WeeklySums(frame)
    wanted = sorted(set(frame["construct"])) if constructs is None else list(constructs)
    figures: list[ReleasedFigure] = []
    k = context.rules.min_group_size
    for week in weeks_between(start_week, end_week):
        for construct in wanted:
            choice = _release_chain(context, team_id, week, lambda w, c=construct: sums.period(w, c), k)
            figure = make_figure(
                context.tree,
                choice.unit_id,
                period=(choice.weeks[0], choice.weeks[-1]),
                construct=construct,
                sums=choice.totals,
                reason=choice.reason,
                basis=choice.basis,
                row_unit_id=team_id,
            )
            figure.extra["week"] = week
            figures.append(figure)
    return figures_frame(figures, extra_columns=("week",))


def _slice_decisions(
    decider: _DecisionCache, vectors: Mapping[int, Vector], k: int
) -> dict[int, str | None]:
    """Slices (unit x work pattern) released all-or-nothing per unit: the unit's total must be
    released, and per pattern the same k and residual rules hold."""
    totals = decider({unit_id: (sum(vector),) for unit_id, vector in vectors.items()}, k)
    forced = {unit_id: reason for unit_id, reason in totals.items() if reason is not None}
    return decider(vectors, k, forced)


def _pattern_vectors(frame: pd.DataFrame) -> dict[int, Vector]:
    """Responses per team and work pattern: the most answered construct's count per pattern."""
    if frame.empty:
        return {}
    counts = frame.groupby(["team_id", "work_pattern"])["n"].max().unstack(fill_value=0)
    counts = counts.reindex(columns=list(WORK_PATTERNS), fill_value=0)
    return {int(team_id): tuple(int(v) for v in row) for team_id, row in counts.iterrows()}


def team_pattern_mix(
    *,
    session: Session,
    viewer: Viewer,
    rules: PrivacyRules,
    team_id: int,
    start_week: str,
    end_week: str,
) -> pd.DataFrame:
    """Share of the team's responses per work pattern over the range (one row per pattern), released
    only as a whole slice; a small team shows its nearest released ancestor's mix."""
    require_team_view(session, viewer, team_id)
    context = _org_context(
        session, unit_id=team_id, rules=rules, start_week=start_week, end_week=end_week
    )
    tree, k = context.tree, context.rules.min_group_size
    frame = team_pattern_sums(
        session, team_ids=list(tree.units), start_week=start_week, end_week=end_week
    )
    vectors = _pattern_vectors(frame)
    reasons = _slice_decisions(context.decide, vectors, k)
    zero: Vector = (0,) * len(WORK_PATTERNS)
    subtotal: dict[int, Vector] = {}
    for unit_id in tree.postorder:
        vector = vectors.get(unit_id, zero)
        for child in tree.children[unit_id]:
            vector = tuple(a + b for a, b in zip(vector, subtotal[child], strict=True))
        subtotal[unit_id] = vector
    team = tree.units[team_id]
    base = {
        "unit": team.code,
        "unit_name": team.name,
        "period_start": start_week,
        "period_end": end_week,
    }
    for unit_id in [team_id, *tree.ancestors(team_id)]:
        if reasons.get(unit_id) is None:
            basis = BASIS_TEAM if unit_id == team_id else f"rolled up into {tree.units[unit_id].name}"
            total = sum(subtotal[unit_id])
            rows = [
                {
                    **base,
                    "work_pattern": pattern,
                    "share": round(count / total, 2),
                    "n": band(count),
                    "suppressed": False,
                    "reason": None,
                    "basis": basis,
                }
                for pattern, count in zip(WORK_PATTERNS, subtotal[unit_id], strict=True)
                if count > 0
            ]
            return pd.DataFrame(rows)
    reason = reasons.get(team_id) or REASON_TOO_FEW
    rows = [
        {
            **base,
            "work_pattern": pattern,
            "share": None,
            "n": None,
            "suppressed": True,
            "reason": reason,
            "basis": BASIS_TEAM,
        }
        for pattern in WORK_PATTERNS
    ]
    return pd.DataFrame(rows)


def rate_label(responses: int, member_weeks: int) -> str:
    """The response rate as text: exact when 10+ responses, else the range the band allows."""
    if member_weeks <= 0:
        return "no active members"
    if responses >= EXACT_COUNT_FROM:
        return f"{min(100, round(100 * responses / member_weeks))}%"
    low, high = (5, 9) if responses >= 5 else (FLOOR_MIN_GROUP_SIZE, 4)
    high = min(high, member_weeks)
    return f"{min(100, round(100 * low / member_weeks))}-{min(100, round(100 * high / member_weeks))}%"


def _rate_row(
    tree: OrgTree, row_unit_id: int, choice: _Choice, member_weeks: int, week: str | None
) -> dict[str, Any]:
    unit = tree.units[row_unit_id]
    parent_id = tree.parent(row_unit_id)
    row: dict[str, Any] = {} if week is None else {"week": week}
    row.update(
        unit=unit.code,
        unit_name=unit.name,
        parent=tree.units[parent_id].code if parent_id is not None else None,
        level=unit.kind,
        period_start=choice.weeks[0],
        period_end=choice.weeks[-1],
    )
    responses = int(choice.totals[0])
    released = choice.reason is None
    members = round(member_weeks / len(choice.weeks)) if choice.weeks else 0
    row.update(
        responses=band(responses) if released else None,
        members=members,
        response_rate=(
            round(responses / member_weeks, 3)
            if released and responses >= EXACT_COUNT_FROM and member_weeks
            else None
        ),
        rate_label=rate_label(responses, member_weeks) if released else "suppressed",
        suppressed=not released,
        reason=choice.reason,
        basis=choice.basis,
    )
    return row


def team_response_rate(
    *,
    session: Session,
    viewer: Viewer,
    rules: PrivacyRules,
    team_id: int,
    start_week: str,
    end_week: str,
) -> pd.DataFrame:
    """Per week: responses (banded below 10) over active members, gated like the figures.

    ``response_rate`` (0-1) is exact only from 10 responses; ``rate_label`` always has the text."""
    require_team_view(session, viewer, team_id)
    context = _org_context(
        session, unit_id=team_id, rules=rules, start_week=start_week, end_week=end_week
    )
    tree = context.tree
    first = shift_week(start_week, -(context.rules.pooling_weeks - 1))
    team_ids = list(tree.units)
    responses = _WeeklySums(
        team_week_response_counts(session, team_ids=team_ids, start_week=first, end_week=end_week),
        value_columns=("n",),
    )
    members = _WeeklySums(
        team_week_members(session, team_ids=team_ids, start_week=first, end_week=end_week),
        value_columns=("members",),
    )
    rows = []
    for week in weeks_between(start_week, end_week):
        choice = _release_chain(context, team_id, week, responses.period, context.rules.min_group_size)
        member_sums = members.period(choice.weeks)
        member_weeks = sum(member_sums.get(u, (0,))[0] for u in tree.subtree(choice.unit_id))
        rows.append(_rate_row(tree, team_id, choice, member_weeks, week))
    return pd.DataFrame(rows)


def eligible_teams(*, session: Session, rules: PrivacyRules, start_week: str, end_week: str) -> set[int]:
    """Teams whose own responses reach k in every pooled window of the range (their organisation's
    thresholds in force); strain detection uses only these, so no figure rests on a small group."""
    tree = load_tree(session)
    eligible: set[int] = set()
    for root in tree.roots:
        effective = rules_in_force(
            session, organisation_id=root, start_week=start_week, end_week=end_week, defaults=rules
        )
        first = shift_week(start_week, -(effective.pooling_weeks - 1))
        subtree = tree.subtree(root)
        counts = team_week_response_counts(
            session, team_ids=sorted(subtree), start_week=first, end_week=end_week
        )
        weekly = _WeeklySums(counts, value_columns=("n",))
        candidates = {u for u in subtree if tree.units[u].kind == "team"} | set(counts["team_id"])
        for week in weeks_between(start_week, end_week):
            window = weekly.period(_window(week, effective.pooling_weeks))
            candidates = {u for u in candidates if window.get(u, (0,))[0] >= effective.min_group_size}
        eligible |= candidates
    return eligible


@dataclass(frozen=True)
class CommentRelease:
    """Comments of a unit over a range, released only when enough responses lie behind them."""

    comments: list[str]
    released: bool
    reason: str | None
    responses: int | str | None


def released_comments(
    *,
    session: Session,
    viewer: Viewer,
    rules: PrivacyRules,
    unit_id: int,
    start_week: str,
    end_week: str,
) -> CommentRelease:
    """The unit's comments (text only, alphabetical, no week) if its responses over the range reach
    the comment threshold and the residual rule holds at that threshold; else none, with why."""
    require_unit_view(session, viewer, unit_id)
    context = _org_context(
        session, unit_id=unit_id, rules=rules, start_week=start_week, end_week=end_week
    )
    tree = context.tree
    counts = team_week_response_counts(
        session, team_ids=list(tree.units), start_week=start_week, end_week=end_week
    )
    own = _WeeklySums(counts, value_columns=("n",)).period(weeks_between(start_week, end_week))
    reasons = context.decide(_counts(own), context.rules.min_comment_group_size)
    reason = reasons.get(unit_id, REASON_TOO_FEW)
    if reason is not None:
        return CommentRelease(comments=[], released=False, reason=reason, responses=None)
    subtree = sorted(tree.subtree(unit_id))
    responses = _subtree_sums(tree, {u: (v[0], 0.0, 0.0) for u, v in own.items()})[unit_id][0]
    texts = comments_for(session, team_ids=subtree, start_week=start_week, end_week=end_week)
    return CommentRelease(comments=texts, released=True, reason=None, responses=band(responses))
