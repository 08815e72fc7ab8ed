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
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Any, TypeVar

import numpy as np
import pandas as pd
from scipy import stats
from sqlmodel import Session, col, select

from analytics.aggregates import (
    WORK_PATTERNS,
    OrgTree,
    comments_for,
    load_tree,
    organisation_tree,
    response_fingerprint,
    setting_rows,
    shift_week,
    team_pattern_sums,
    team_week_members,
    team_week_response_counts,
    team_week_sums,
    weeks_between,
)
from analytics.objectives import delivery_features
from analytics.outcomes import QuadrantPoint, quadrant_point
from models.access import AccessDenied, Viewer, descendant_unit_ids, require_team_access
from models.org_settings import get_org_setting
from models.outcomes import OrgSetting

FLOOR_MIN_GROUP_SIZE = 3
FLOOR_MIN_COMMENT_GROUP_SIZE = 5
EXACT_COUNT_FROM = 10
REASON_TOO_FEW = "too few responses"
MAX_EXACT_SLICE_CELLS = 1200  # the slice check's SVD stays well under a second up to this size
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
            default=getattr(defaults, "pooling_weeks", 4),
        )
    )
    return PrivacyRules(
        min_group_size=strictest("min_group_size", defaults.min_group_size, FLOOR_MIN_GROUP_SIZE),
        min_comment_group_size=strictest(
            "min_comment_group_size", defaults.min_comment_group_size, FLOOR_MIN_COMMENT_GROUP_SIZE
        ),
        pooling_weeks=min(13, max(1, pooling)),
    )


def thresholds_by_week(
    session: Session, *, organisation_id: int, weeks: Sequence[str], defaults: PrivacyRules
) -> dict[str, tuple[int, int]]:
    """(k, comment k) in force in each week: a change applies from its effective week only."""
    rows = session.exec(
        select(OrgSetting.key, OrgSetting.value, OrgSetting.effective_from)
        .where(
            OrgSetting.organisation_id == organisation_id,
            col(OrgSetting.key).in_(["min_group_size", "min_comment_group_size"]),
        )
        .order_by(col(OrgSetting.effective_from), col(OrgSetting.id))
    ).all()
    result: dict[str, tuple[int, int]] = {}
    for week in weeks:
        k, k_comments = defaults.min_group_size, defaults.min_comment_group_size
        for key, value, effective_from in rows:
            if effective_from <= week:
                if key == "min_group_size":
                    k = int(json.loads(value))
                else:
                    k_comments = int(json.loads(value))
        result[week] = (max(FLOOR_MIN_GROUP_SIZE, k), max(FLOOR_MIN_COMMENT_GROUP_SIZE, k_comments))
    return result


class _Thresholds:
    """The strictest threshold in force over any period's weeks."""

    def __init__(self, by_week: Mapping[str, tuple[int, int]], fallback: PrivacyRules) -> None:
        self.by_week, self.fallback = by_week, fallback

    def k(self, weeks: Sequence[str]) -> int:
        return max(
            (self.by_week.get(w, (self.fallback.min_group_size, 0))[0] for w in weeks),
            default=self.fallback.min_group_size,
        )

    def k_comments(self, weeks: Sequence[str]) -> int:
        default = self.fallback.min_comment_group_size
        return max((self.by_week.get(w, (0, default))[1] for w in weeks), default=default)


def _thresholds(
    session: Session, organisation_id: int, first_week: str, end_week: str, defaults: PrivacyRules
) -> _Thresholds:
    weeks = weeks_between(first_week, end_week)
    by_week = thresholds_by_week(
        session, organisation_id=organisation_id, weeks=weeks, defaults=defaults
    )
    return _Thresholds(by_week, defaults)


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
        if sum(vector) < k or not all(_component_ok(value, k) for value in vector):
            reasons[unit_id] = REASON_TOO_FEW
        elif unit_id in forced:
            reasons[unit_id] = forced[unit_id]
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
    """Gate runs keyed by their inputs: constructs answered by the same people share decisions.

    The key is the whole input (k, every non-empty count, forced units) and the tree is fixed,
    so an entry can never be stale; ``max_entries`` bounds one shared between calls."""

    def __init__(self, tree: OrgTree, max_entries: int | None = None) -> None:
        self.tree = tree
        self.max_entries = max_entries
        self._memo: dict[Hashable, dict[int, str | None]] = {}
        self._lock = threading.Lock()

    def __call__(
        self, own: Mapping[int, Vector], k: int, forced: Mapping[int, str] | None = None
    ) -> dict[int, str | None]:
        key = (k, frozenset((u, v) for u, v in own.items() if any(v)), frozenset((forced or {}).items()))
        found = self._memo.get(key)
        if found is None:
            found = decide(self.tree, own, k, forced)
            with self._lock:
                if self.max_entries is not None and len(self._memo) >= self.max_entries:
                    del self._memo[next(iter(self._memo))]  # oldest first
                self._memo[key] = found
        return found


def _structure(tree: OrgTree) -> tuple[tuple[int, int | None, str, str], ...]:
    """What a decision depends on in the tree: ids, parents, codes (tie-breaks) and kinds."""
    return tuple(sorted((u.id, u.parent_id, u.code, u.kind) for u in tree.units.values()))


_DECIDERS: OrderedDict[Hashable, _DecisionCache] = OrderedDict()
_DECIDERS_LOCK = threading.Lock()


def _shared_decider(tree: OrgTree) -> _DecisionCache:
    """One decision memo per tree shape, shared by the team-level functions, so the series, the
    response rate and the pattern mix reuse each other's runs over the same counts."""
    structure = _structure(tree)
    with _DECIDERS_LOCK:
        decider = _DECIDERS.get(structure)
        if decider is None:
            decider = _DECIDERS[structure] = _DecisionCache(tree, max_entries=256)
            while len(_DECIDERS) > 4:
                _DECIDERS.popitem(last=False)
        _DECIDERS.move_to_end(structure)
        return decider


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


@lru_cache(maxsize=4096)
def _t_quantile(probability: float, degrees_of_freedom: int) -> float:
    return float(stats.t.ppf(probability, degrees_of_freedom))


def t_interval(n: int, total: float, total_sq: float, level: float = 0.95) -> tuple[float, float, float]:
    """Mean and t-interval of the mean from the additive sums (n, sum, sum of squares)."""
    mean = total / n
    if n < 2:
        return mean, math.nan, math.nan
    variance = max(0.0, (total_sq - total * total / n) / (n - 1))
    half = _t_quantile(0.5 + level / 2, n - 1) * math.sqrt(variance / n)
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
        row = {name: getattr(self, name) for name in FIGURE_COLUMNS}
        row.update(self.extra)
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
        constructs = frame["construct"].tolist() if "construct" in frame else [""] * len(frame)
        values = zip(*(frame[column].tolist() for column in value_columns), strict=True)
        for team_id, week, construct, row in zip(
            frame["team_id"].tolist(), frame["week"].tolist(), constructs, values, strict=True
        ):
            self.by_week.setdefault((week, construct), {})[team_id] = row
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
    thresholds: _Thresholds


def _org_context(
    session: Session, *, unit_id: int, rules: PrivacyRules, start_week: str, end_week: str
) -> _OrgContext:
    tree, root = _organisation_of(session, unit_id)
    return _context_for(session, tree, root, rules=rules, start_week=start_week, end_week=end_week)


def _organisation_of(session: Session, unit_id: int) -> tuple[OrgTree, int]:
    """The tree of the organisation ``unit_id`` belongs to, and its root (read fresh each call)."""
    whole = load_tree(session)
    if unit_id not in whole.units:
        raise LookupError(f"There is no unit with id {unit_id}.")
    root = whole.root_of(unit_id)
    return organisation_tree(whole, root), root


def _context_for(
    session: Session, tree: OrgTree, root: int, *, rules: PrivacyRules, start_week: str, end_week: str
) -> _OrgContext:
    effective = rules_in_force(
        session, organisation_id=root, start_week=start_week, end_week=end_week, defaults=rules
    )
    first = shift_week(start_week, -(effective.pooling_weeks - 1))
    thresholds = _thresholds(session, root, first, end_week, rules)
    return _OrgContext(tree=tree, rules=effective, decide=_shared_decider(tree), thresholds=thresholds)


def _window(week: str, pooling_weeks: int) -> list[str]:
    return weeks_between(shift_week(week, -(pooling_weeks - 1)), week)


class _WeekGate:
    """The weekly gate's decisions, to keep a pooled figure from exposing a single week.

    A figure over several weeks minus the same unit's figures released for single weeks of it
    leaves the other weeks' responses: those must be none or at least k, else the pooled figure
    is withheld too ("protects a neighbouring group"), like a neighbour within a parent."""

    def __init__(
        self,
        tree: OrgTree,
        decider: _DecisionCache,
        thresholds: _Thresholds,
        counts_for_week: Callable[[str], dict[int, Vector]],
    ) -> None:
        self.tree, self.decider, self.thresholds = tree, decider, thresholds
        self.counts_for_week = counts_for_week
        self._hidden: dict[str, dict[int, int]] = {}
        self._by_counts: dict[Hashable, dict[int, int]] = {}

    def hidden(self, week: str) -> dict[int, int]:
        """Per unit: its responses in ``week`` when its weekly figure is not released."""
        if week not in self._hidden:
            own = self.counts_for_week(week)
            k = self.thresholds.k([week])
            key = (k, frozenset(own.items()))
            if key not in self._by_counts:
                found: dict[int, int] = {}
                if own:
                    reasons = self.decider(own, k)
                    for unit_id, (n,) in _subtree_sums(self.tree, own).items():
                        if n and reasons.get(unit_id) is not None:
                            found[unit_id] = n
                self._by_counts[key] = found
            self._hidden[week] = self._by_counts[key]
        return self._hidden[week]

    def forced(self, weeks: Sequence[str]) -> dict[int, str]:
        """Units whose figure over ``weeks`` may not be released because of the weeks inside it."""
        if len(weeks) < 2:
            return {}
        k = self.thresholds.k(weeks)
        totals: dict[int, int] = {}
        for week in weeks:
            for unit_id, n in self.hidden(week).items():
                totals[unit_id] = totals.get(unit_id, 0) + n
        return {unit_id: REASON_NEIGHBOUR for unit_id, n in totals.items() if 0 < n < k}


def _sum_over(own: Mapping[int, tuple], unit_ids: set[int]) -> tuple:
    """The sums of the given units' own figures (a subtree's total)."""
    width = len(next(iter(own.values()))) if own else 3
    total = [0] * width
    for unit_id, values in own.items():
        if unit_id in unit_ids:
            for index, value in enumerate(values):
                total[index] += value
    return tuple(total)


@dataclass(frozen=True)
class _Choice:
    """Which figure a team's row shows: whose (``unit_id``), over which weeks, and why."""

    unit_id: int
    weeks: list[str]
    totals: tuple
    reason: str | None
    basis: str


_Decided = tuple[list[str], dict[int, tuple], dict[int, str | None]]  # weeks, team sums, reasons


def _decide_periods(
    context: _OrgContext,
    week: str,
    period_sums: Callable[[list[str]], dict[int, tuple]],
    week_gate: _WeekGate,
) -> list[_Decided]:
    """The organisation-wide decisions a row for ``week`` can draw on: the week itself, then the
    rolling window ending it. ``period_sums(weeks)`` gives every team's sums over those weeks."""
    pooling = context.rules.pooling_weeks
    periods = [[week]] if pooling == 1 else [[week], _window(week, pooling)]
    decided: list[_Decided] = []
    for weeks in periods:
        own = period_sums(weeks)
        k, forced = context.thresholds.k(weeks), week_gate.forced(weeks)
        decided.append((weeks, own, context.decide(_counts(own), k, forced)))
    return decided


def _choose(tree: OrgTree, team_id: int, decided: Sequence[_Decided]) -> _Choice:
    """The team's figure for a week: its own week, else its pooled window, else the nearest
    ancestor (week, then window) that the gate releases; else suppressed with the team's reason."""
    for unit_id in [team_id, *tree.ancestors(team_id)]:
        for weeks, own, reasons in decided:
            if reasons.get(unit_id, REASON_TOO_FEW) is not None:
                continue
            pooled = f"pooled over {len(weeks)} weeks" if len(weeks) > 1 else ""
            if unit_id == team_id:
                basis = pooled or BASIS_TEAM
            else:
                basis = ", ".join(filter(None, [f"rolled up into {tree.units[unit_id].name}", pooled]))
            totals = _sum_over(own, tree.subtree(unit_id))
            return _Choice(unit_id, weeks, totals, None, basis)
    weeks, _, reasons = decided[-1]
    return _Choice(team_id, weeks, (0, 0.0, 0.0), reasons.get(team_id) or REASON_TOO_FEW, BASIS_TEAM)


# ---------------------------------------------------------------------------------------------
# Organisation-wide results, computed once and shared by every team of the organisation
# ---------------------------------------------------------------------------------------------

_T = TypeVar("_T")


class _OrgResultCache:
    """Organisation-wide gate results shared by the team-level calls of this process.

    Exact complementary suppression needs the whole organisation, so a team's figures are sliced
    from one organisation-wide result. Entries are keyed by what was asked (organisation, range,
    constructs, rules) *and* by a fingerprint of everything a decision depends on (``_fingerprint``):
    a new answer, a changed tree or a changed setting is a different key, never a stale hit. Kept
    per engine (dropped with it, so two databases never share an entry), least recently used
    first out, bounded in entries and in weight (decided unit-periods) so memory stays small."""

    def __init__(self, max_entries: int = 32, max_weight: int = 600_000) -> None:
        self.max_entries, self.max_weight = max_entries, max_weight
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple[int, Hashable], tuple[Any, int]] = OrderedDict()
        self._engines: set[int] = set()
        self.hits = self.misses = 0

    def get_or_compute(self, engine: Any, key: Hashable, compute: Callable[[], tuple[_T, int]]) -> _T:
        """The cached value for ``key``, or ``compute()``'s (value, weight), remembered."""
        full_key = (id(engine), key)
        with self._lock:
            entry = self._entries.get(full_key)
            if entry is not None:
                self._entries.move_to_end(full_key)
                self.hits += 1
                return entry[0]
            self.misses += 1
        value, weight = compute()  # outside the lock: other teams' pages are not held up
        if weight > self.max_weight:
            return value
        with self._lock:
            if id(engine) not in self._engines:
                self._engines.add(id(engine))
                weakref.finalize(engine, self._forget_engine, id(engine))
            self._entries[full_key] = (value, weight)
            self._entries.move_to_end(full_key)
            total = sum(w for _, w in self._entries.values())
            while len(self._entries) > self.max_entries or total > self.max_weight:
                _, (_, dropped) = self._entries.popitem(last=False)
                total -= dropped
        return value

    def _forget_engine(self, engine_id: int) -> None:
        with self._lock:
            for full_key in [k for k in self._entries if k[0] == engine_id]:
                del self._entries[full_key]
            self._engines.discard(engine_id)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.hits = self.misses = 0

    def stats(self) -> dict[str, int]:
        with self._lock:
            return {"hits": self.hits, "misses": self.misses, "entries": len(self._entries)}


_ORG_RESULTS = _OrgResultCache()


def clear_decision_cache() -> None:
    """Forget every shared organisation-wide result and decision memo (tests; after editing data
    by hand)."""
    _ORG_RESULTS.clear()
    with _DECIDERS_LOCK:
        _DECIDERS.clear()


def decision_cache_stats() -> dict[str, int]:
    """Hits, misses and entries of the shared organisation-wide results (tests, benchmark)."""
    return _ORG_RESULTS.stats()


def _fingerprint(
    session: Session, tree: OrgTree, root: int, start_week: str, end_week: str
) -> tuple[Hashable, ...]:
    """Everything an organisation's decisions over the range depend on, read cheaply: the tree
    (ids, parents, codes, kinds), the organisation's settings rows, and the responses in the
    range widened by the longest pooling window (13 weeks). People are not in it: membership
    only feeds response rates, which are read fresh on every call."""
    structure = _structure(tree)
    responses = response_fingerprint(session, start_week=shift_week(start_week, -13), end_week=end_week)
    return structure, setting_rows(session, organisation_id=root), responses


def _shared(
    session: Session,
    tree: OrgTree,
    root: int,
    key: tuple[Hashable, ...],
    compute: Callable[[], tuple[_T, int]],
    fingerprint: Hashable | None = None,
) -> _T:
    """``compute()``'s organisation-wide result, shared while nothing it depends on changes.

    The fingerprint is read *before* computing: if data changes in between, the entry holds newer
    data under the older key (harmless: the next call sees a new key), never the reverse. A
    caller asking for several results of one range may pass the range's fingerprint, read once."""
    start_week, end_week = str(key[1]), str(key[2])
    if fingerprint is None:
        fingerprint = _fingerprint(session, tree, root, start_week, end_week)
    bind = session.get_bind()
    engine = getattr(bind, "engine", bind)
    return _ORG_RESULTS.get_or_compute(engine, (*key, root, fingerprint), compute)


def _weight(decided: Mapping[Hashable, Sequence[_Decided]]) -> int:
    return sum(len(own) + len(reasons) for rows in decided.values() for _, own, reasons in rows)


@dataclass(frozen=True)
class _OrgSeries:
    """Every week x construct's decisions for an organisation (what any team's series is cut from)."""

    wanted: tuple[str, ...]
    decided: dict[tuple[str, str], list[_Decided]]


def _org_series(
    session: Session,
    tree: OrgTree,
    root: int,
    *,
    rules: PrivacyRules,
    start_week: str,
    end_week: str,
    constructs: Sequence[str] | None,
) -> tuple[_OrgSeries, int]:
    context = _context_for(session, tree, root, rules=rules, start_week=start_week, end_week=end_week)
    first = shift_week(start_week, -(context.rules.pooling_weeks - 1))
    frame = team_week_sums(
        session, team_ids=list(tree.units), start_week=first, end_week=end_week, constructs=constructs
    )
    sums = _WeeklySums(frame)
    wanted = tuple(sorted(set(frame["construct"]))) if constructs is None else tuple(constructs)
    gates = {
        construct: _WeekGate(
            tree, context.decide, context.thresholds, lambda w, c=construct: _counts(sums.period([w], c))
        )
        for construct in wanted
    }
    decided = {
        (week, construct): _decide_periods(
            context, week, lambda w, c=construct: sums.period(w, c), gates[construct]
        )
        for week in weeks_between(start_week, end_week)
        for construct in wanted
    }
    return _OrgSeries(wanted=wanted, decided=decided), _weight(decided)


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
    rolling window, else rolled up into the nearest released ancestor (``basis`` says which).

    Cut from the organisation-wide decisions (shared between calls until the data changes)."""
    require_team_view(session, viewer, team_id)
    tree, root = _organisation_of(session, team_id)
    state = _shared_series(session, tree, root, rules, start_week, end_week, constructs)
    return _series_rows(tree, team_id, state, start_week, end_week)


def _series_rows(
    tree: OrgTree, team_id: int, state: _OrgSeries, start_week: str, end_week: str
) -> pd.DataFrame:
    figures: list[ReleasedFigure] = []
    for week in weeks_between(start_week, end_week):
        for construct in state.wanted:
            choice = _choose(tree, team_id, state.decided[(week, construct)])
            figure = make_figure(
                tree,
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
    decider: _DecisionCache,
    vectors: Mapping[int, Vector],
    k: int,
    withheld: Mapping[int, str] | None = None,
) -> dict[int, str | None]:
    """Slices (unit x work pattern) released all-or-nothing per unit: the unit's total must be
    released, per pattern the same k and residual rules hold, and no released slice may combine
    with released unit totals to expose a small cell (checked exactly, see ``_unsafe_slice``)."""
    totals = decider({unit_id: (sum(vector),) for unit_id, vector in vectors.items()}, k, withheld)
    forced = {unit_id: reason for unit_id, reason in totals.items() if reason is not None}
    while True:
        reasons = decider(vectors, k, forced)
        unsafe = _unsafe_slice(decider.tree, vectors, totals, reasons, k)
        if unsafe is None:
            return reasons
        forced[unsafe] = REASON_NEIGHBOUR


def _unsafe_slice(
    tree: OrgTree,
    own: Mapping[int, Vector],
    totals: Mapping[int, str | None],
    slices: Mapping[int, str | None],
    k: int,
) -> int | None:
    """The lowest released slice whose cells, with the released unit totals inside it, determine
    some unit's cell or total that has 1..k-1 responses; None when every slice is safe.

    Why this is exact: a released slice ``u`` fixes, per pattern, the sum over its *block* (its
    subtree minus released slices below it). The released totals inside the block fix the row
    sums of their residual regions. So the block is a table (rows = those regions, columns =
    patterns, empty cells known to be empty) with known margins. A group is recoverable iff its
    vector over the table's cells lies in the row space of the margin equations, i.e. is
    orthogonal to their null space. Blocks of different slices are disjoint, and outside them only
    unit totals are released (safe by the residual rule), so checking each block suffices.
    """
    released_totals = {u for u, reason in totals.items() if reason is None}
    released_slices = {u for u, reason in slices.items() if reason is None}
    width = len(next(iter(own.values()))) if own else 0
    subtotal: dict[int, Vector] = {}
    for unit_id in tree.postorder:
        vector = own.get(unit_id, (0,) * width)
        for child in tree.children[unit_id]:
            vector = tuple(a + b for a, b in zip(vector, subtotal[child], strict=True))
        subtotal[unit_id] = vector
    for block_root in tree.postorder:
        if block_root not in released_slices:
            continue
        cells: dict[tuple[int, int], int] = {}
        owners: dict[tuple[int, int], list[int]] = {}
        members: list[int] = []
        parent_in_block: dict[int, int | None] = {block_root: None}
        stack: list[tuple[int, int]] = [(block_root, block_root)]
        while stack:
            unit_id, row = stack.pop()
            members.append(unit_id)
            if unit_id in released_totals:
                row = unit_id
            for index, value in enumerate(own.get(unit_id, ())):
                if value:
                    cells[(row, index)] = cells.get((row, index), 0) + value
                    owners.setdefault((row, index), []).append(unit_id)
            for child in tree.children[unit_id]:
                if child not in released_slices:
                    parent_in_block[child] = unit_id
                    stack.append((child, row))
        variables = sorted(cells)
        if not variables:
            continue
        rows = sorted({row for row, _ in variables})
        if len(variables) > MAX_EXACT_SLICE_CELLS:
            # Too large to check exactly in reasonable time: release only a block whose one row
            # is the slice's own residual (its cells then equal the per-pattern residuals, which
            # the residual rule keeps at none or at least k).
            if len(rows) > 1:
                return block_root
            continue
        columns = sorted({column for _, column in variables})
        equations = np.zeros((len(rows) + len(columns), len(variables)))
        for position, (row, column) in enumerate(variables):
            equations[rows.index(row), position] = 1.0
            equations[len(rows) + columns.index(column), position] = 1.0
        _, singular, vt = np.linalg.svd(equations)
        rank = int((singular > 1e-9).sum())
        null_space = vt[rank:].T  # variables x null dimension
        # For each unit in the block: which cells it holds entirely, and whether it splits any.
        chain: dict[int, list[int]] = {}
        for unit_id in members:
            path, current = [], unit_id
            while current is not None:
                path.append(current)
                current = parent_in_block[current]
            chain[unit_id] = path
        index_of = {unit_id: i for i, unit_id in enumerate(members)}
        holds = np.zeros((len(members), len(variables)))
        splits = np.zeros((len(members), width), dtype=bool)
        for position, variable in enumerate(variables):
            sets = [set(chain[owner]) for owner in owners[variable]]
            whole = set.intersection(*sets)
            for unit_id in whole:
                holds[index_of[unit_id], position] = 1.0
            for unit_id in set.union(*sets) - whole:
                splits[index_of[unit_id], variable[1]] = True
        for unit_id in members:
            row_index = index_of[unit_id]
            groups = [[p] for p in range(width)] + [list(range(width))]
            for patterns in groups:
                n = sum(subtotal[unit_id][p] for p in patterns)
                if not 0 < n < k or splits[row_index, patterns].any():
                    continue
                vector = holds[row_index] * np.isin([c for _, c in variables], patterns)
                if not vector.any():
                    continue
                if null_space.size == 0 or np.abs(vector @ null_space).max() < 1e-9:
                    return block_root
    return None


def decide_slices(tree: OrgTree, vectors: Mapping[int, Vector], k: int) -> dict[int, str | None]:
    """Slice decisions for a tree (None = the unit's whole slice may be released)."""
    return _slice_decisions(_DecisionCache(tree), vectors, k)


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
    only as a whole slice; a small team shows its nearest released ancestor's mix.

    Cut from the organisation-wide slice decisions (shared between calls until the data changes)."""
    require_team_view(session, viewer, team_id)
    tree, root = _organisation_of(session, team_id)
    mix = _shared_mix(session, tree, root, rules, start_week, end_week)
    return _mix_rows(tree, team_id, mix, start_week, end_week)


def _mix_rows(
    tree: OrgTree,
    team_id: int,
    mix: tuple[dict[int, str | None], dict[int, Vector]],
    start_week: str,
    end_week: str,
) -> pd.DataFrame:
    reasons, subtotal = mix
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
            vector = subtotal.get(unit_id, ())
            total = sum(vector)
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
                for pattern, count in zip(WORK_PATTERNS, vector, strict=True)
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


def _org_pattern_mix(
    session: Session, tree: OrgTree, root: int, *, rules: PrivacyRules, start_week: str, end_week: str
) -> tuple[tuple[dict[int, str | None], dict[int, Vector]], int]:
    """Every unit's slice decision over the range and its responses per work pattern."""
    context = _context_for(session, tree, root, rules=rules, start_week=start_week, end_week=end_week)
    k = context.thresholds.k(weeks_between(start_week, end_week))
    frame = team_pattern_sums(
        session, team_ids=list(tree.units), start_week=start_week, end_week=end_week
    )
    vectors = _pattern_vectors(frame)
    weekly = _WeeklySums(
        team_week_response_counts(
            session, team_ids=list(tree.units), start_week=start_week, end_week=end_week
        ),
        value_columns=("n",),
    )
    week_gate = _WeekGate(
        tree, context.decide, context.thresholds, lambda w: _counts(weekly.period([w]))
    )
    withheld = week_gate.forced(weeks_between(start_week, end_week))
    reasons = _slice_decisions(context.decide, vectors, k, withheld)
    zero: Vector = (0,) * len(WORK_PATTERNS)
    subtotal: dict[int, Vector] = {}
    for unit_id in tree.postorder:
        vector = vectors.get(unit_id, zero)
        for child in tree.children[unit_id]:
            vector = tuple(a + b for a, b in zip(vector, subtotal[child], strict=True))
        subtotal[unit_id] = vector
    return (reasons, subtotal), len(reasons) + len(subtotal)


RATE_COLUMNS: tuple[str, ...] = (
    "unit",
    "unit_name",
    "parent",
    "level",
    "period_start",
    "period_end",
    "responses",
    "members",
    "response_rate",
    "rate_label",
    "suppressed",
    "reason",
    "basis",
)


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

    ``response_rate`` (0-1) is exact only from 10 responses; ``rate_label`` always has the text.
    The decisions are cut from the organisation-wide ones (shared until the responses, tree or
    settings change); the active members behind each rate are read fresh on every call."""
    require_team_view(session, viewer, team_id)
    tree, root = _organisation_of(session, team_id)
    state = _shared_rates(session, tree, root, rules, start_week, end_week)
    return _rate_rows(session, tree, team_id, state, end_week)


def _rate_rows(
    session: Session, tree: OrgTree, team_id: int, state: _OrgRates, end_week: str
) -> pd.DataFrame:
    """The team's rows, with active members read fresh (membership is not in the fingerprint)."""
    choices = [(week, _choose(tree, team_id, state.decided[week])) for week in state.weeks]
    needed = sorted({u for _, choice in choices for u in tree.subtree(choice.unit_id)})
    members = _WeeklySums(
        team_week_members(session, team_ids=needed, start_week=state.first, end_week=end_week),
        value_columns=("members",),
    )
    rows = []
    for week, choice in choices:
        member_sums = members.period(choice.weeks)
        member_weeks = sum(member_sums.get(u, (0,))[0] for u in tree.subtree(choice.unit_id))
        rows.append(_rate_row(tree, team_id, choice, member_weeks, week))
    return pd.DataFrame(rows, columns=["week", *RATE_COLUMNS])


@dataclass(frozen=True)
class _OrgRates:
    """Every week's response-count decisions for an organisation."""

    first: str
    weeks: tuple[str, ...]
    decided: dict[str, list[_Decided]]


def _org_rates(
    session: Session, tree: OrgTree, root: int, *, rules: PrivacyRules, start_week: str, end_week: str
) -> tuple[_OrgRates, int]:
    context = _context_for(session, tree, root, rules=rules, start_week=start_week, end_week=end_week)
    first = shift_week(start_week, -(context.rules.pooling_weeks - 1))
    responses = _WeeklySums(
        team_week_response_counts(
            session, team_ids=list(tree.units), start_week=first, end_week=end_week
        ),
        value_columns=("n",),
    )
    week_gate = _WeekGate(
        tree, context.decide, context.thresholds, lambda w: _counts(responses.period([w]))
    )
    weeks = tuple(weeks_between(start_week, end_week))
    decided = {week: _decide_periods(context, week, responses.period, week_gate) for week in weeks}
    return _OrgRates(first=first, weeks=weeks, decided=decided), _weight(decided)


def _shared_series(
    session: Session,
    tree: OrgTree,
    root: int,
    rules: PrivacyRules,
    start_week: str,
    end_week: str,
    constructs: Sequence[str] | None,
    fingerprint: Hashable | None = None,
) -> _OrgSeries:
    asked = None if constructs is None else tuple(constructs)
    return _shared(
        session,
        tree,
        root,
        ("series", start_week, end_week, asked, rules),
        lambda: _org_series(
            session,
            tree,
            root,
            rules=rules,
            start_week=start_week,
            end_week=end_week,
            constructs=asked,
        ),
        fingerprint,
    )


def _shared_mix(
    session: Session,
    tree: OrgTree,
    root: int,
    rules: PrivacyRules,
    start_week: str,
    end_week: str,
    fingerprint: Hashable | None = None,
) -> tuple[dict[int, str | None], dict[int, Vector]]:
    return _shared(
        session,
        tree,
        root,
        ("mix", start_week, end_week, None, rules),
        lambda: _org_pattern_mix(
            session, tree, root, rules=rules, start_week=start_week, end_week=end_week
        ),
        fingerprint,
    )


def _shared_rates(
    session: Session,
    tree: OrgTree,
    root: int,
    rules: PrivacyRules,
    start_week: str,
    end_week: str,
    fingerprint: Hashable | None = None,
) -> _OrgRates:
    return _shared(
        session,
        tree,
        root,
        ("rate", start_week, end_week, None, rules),
        lambda: _org_rates(session, tree, root, rules=rules, start_week=start_week, end_week=end_week),
        fingerprint,
    )


@dataclass(frozen=True)
class TeamFigures:
    """What a team page shows from the gate: ``team_series``, ``team_pattern_mix`` and
    ``team_response_rate`` of one team over one range."""

    series: pd.DataFrame
    mix: pd.DataFrame
    rates: pd.DataFrame


def team_figures(
    *,
    session: Session,
    viewer: Viewer,
    rules: PrivacyRules,
    team_id: int,
    start_week: str,
    end_week: str,
    constructs: Sequence[str] | None = None,
) -> TeamFigures:
    """The three team functions' rows in one call, equal to calling each: the access check, the
    organisation's tree and the fingerprint of its data are read once instead of three times
    (about half of a warm team dashboard's time at 1,000 teams)."""
    require_team_view(session, viewer, team_id)
    tree, root = _organisation_of(session, team_id)
    series, mix, rates = _shared_team_results(
        session, tree, root, rules, start_week, end_week, constructs
    )
    return TeamFigures(
        series=_series_rows(tree, team_id, series, start_week, end_week),
        mix=_mix_rows(tree, team_id, mix, start_week, end_week),
        rates=_rate_rows(session, tree, team_id, rates, end_week),
    )


def _shared_team_results(
    session: Session,
    tree: OrgTree,
    root: int,
    rules: PrivacyRules,
    start_week: str,
    end_week: str,
    constructs: Sequence[str] | None,
) -> tuple[_OrgSeries, tuple[dict[int, str | None], dict[int, Vector]], _OrgRates]:
    """The organisation's series, mix and rate results for one range, its fingerprint read once."""
    fingerprint = _fingerprint(session, tree, root, start_week, end_week)
    span = (start_week, end_week)
    return (
        _shared_series(session, tree, root, rules, *span, constructs, fingerprint),
        _shared_mix(session, tree, root, rules, *span, fingerprint),
        _shared_rates(session, tree, root, rules, *span, fingerprint),
    )


def warm_team_results(
    *,
    session: Session,
    rules: PrivacyRules,
    start_week: str,
    end_week: str,
    constructs: Sequence[str] | None,
) -> int:
    """Compute, unless already shared, every organisation's results that ``team_series`` (for
    ``constructs``), ``team_pattern_mix`` and ``team_response_rate`` cut a team's rows from.

    For a background warmer: the first manager to open a dashboard after a restart, a new week or
    a change then finds them ready instead of waiting for the whole organisation to be decided.
    Releases nothing and needs no viewer: the results stay inside the gate until a team function,
    which checks access, cuts a team's rows from them. Returns how many results were computed
    (approximate when other threads compute results at the same time)."""
    whole = load_tree(session)
    before = _ORG_RESULTS.stats()["misses"]
    for root in whole.roots:
        tree = organisation_tree(whole, root)
        _shared_team_results(session, tree, root, rules, start_week, end_week, constructs)
    return _ORG_RESULTS.stats()["misses"] - before


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
        thresholds = _thresholds(session, root, first, end_week, rules)
        candidates = {u for u in subtree if tree.units[u].kind == "team"} | set(counts["team_id"])
        for week in weeks_between(start_week, end_week):
            weeks = _window(week, effective.pooling_weeks)
            window, k = weekly.period(weeks), thresholds.k(weeks)
            candidates = {u for u in candidates if window.get(u, (0,))[0] >= k}
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
    k_comments = context.thresholds.k_comments(weeks_between(start_week, end_week))
    reasons = context.decide(_counts(own), k_comments)
    reason = reasons.get(unit_id, REASON_TOO_FEW)
    if reason is not None:
        return CommentRelease(comments=[], released=False, reason=reason, responses=None)
    subtree = sorted(tree.subtree(unit_id))
    responses = _subtree_sums(tree, {u: (v[0], 0.0, 0.0) for u, v in own.items()})[unit_id][0]
    texts = comments_for(session, team_ids=subtree, start_week=start_week, end_week=end_week)
    return CommentRelease(comments=texts, released=True, reason=None, responses=band(responses))


# ---------------------------------------------------------------------------------------------
# Organisation-wide data functions (HR "Organisation trends", exports)
# ---------------------------------------------------------------------------------------------

By = str  # "week" (one figure per week), "rolling" (window ending each week), "window" (whole range)
BY_OPTIONS: tuple[str, ...] = ("week", "rolling", "window")


@dataclass(frozen=True)
class Period:
    start: str
    end: str
    weeks: tuple[str, ...]


def periods_for(start_week: str, end_week: str, by: By, pooling_weeks: int) -> list[Period]:
    """The periods a view releases: each week, the rolling window ending each week, or the range."""
    if by not in BY_OPTIONS:
        raise ValueError(f"by must be one of {', '.join(BY_OPTIONS)}, not {by!r}")
    weeks = weeks_between(start_week, end_week)
    if by == "window":
        return [Period(weeks[0], weeks[-1], tuple(weeks))] if weeks else []
    if by == "week":
        return [Period(week, week, (week,)) for week in weeks]
    windows = [tuple(_window(week, pooling_weeks)) for week in weeks]
    return [Period(window[0], window[-1], window) for window in windows]


def _basis(tree: OrgTree, unit_id: int, period: Period) -> str:
    if len(period.weeks) > 1:
        return f"pooled over {len(period.weeks)} weeks"
    return BASIS_TEAM if tree.units[unit_id].kind == "team" else "unit"


def _roots_for(tree: OrgTree, organisation_id: int | None) -> list[int]:
    if organisation_id is None:
        return list(tree.roots)
    if organisation_id not in tree.units:
        raise LookupError(f"There is no unit with id {organisation_id}.")
    return [tree.root_of(organisation_id)]


def _unit_figures(
    tree: OrgTree, frame: pd.DataFrame, periods: Sequence[Period], thresholds: _Thresholds
) -> pd.DataFrame:
    """Every unit's figure per period and construct, vectorised: team sums are pooled into periods
    and rolled up the tree with pandas (sums are additive); the gate decides per period and
    construct (decisions shared between constructs answered by the same people)."""
    if frame.empty:
        return figures_frame([])
    membership = pd.DataFrame(
        [(week, index) for index, period in enumerate(periods) for week in period.weeks],
        columns=["week", "period"],
    )
    teams = (
        frame.merge(membership, on="week")
        .groupby(["period", "construct", "team_id"], as_index=False)[["n", "total", "total_sq"]]
        .sum()
    )
    teams = teams[teams["n"] > 0]
    if teams.empty:
        return figures_frame([])
    decider = _DecisionCache(tree)
    pooled = any(len(period.weeks) > 1 for period in periods)
    weekly = _WeeklySums(frame) if pooled else None  # single weeks need no weekly check
    gates: dict[str, _WeekGate] = {}
    decision_rows: list[tuple[int, str, int, str | None]] = []
    for (period_index, construct), group in teams.groupby(["period", "construct"], sort=False):
        if construct not in gates and weekly is not None:
            gates[construct] = _WeekGate(
                tree, decider, thresholds, lambda w, c=construct, s=weekly: _counts(s.period([w], c))
            )
        own = {
            int(t): (int(n),)
            for t, n in zip(group["team_id"].tolist(), group["n"].tolist(), strict=True)
        }
        weeks = periods[period_index].weeks
        forced = gates[construct].forced(weeks) if construct in gates else {}
        reasons = decider(own, thresholds.k(weeks), forced)
        decision_rows.extend(
            (period_index, construct, unit_id, reason) for unit_id, reason in reasons.items()
        )
    decisions = pd.DataFrame(decision_rows, columns=["period", "construct", "unit_id", "reason"])
    closure = pd.DataFrame(
        [(team_id, unit_id) for unit_id in tree.units for team_id in tree.subtree(unit_id)],
        columns=["team_id", "unit_id"],
    )
    units = (
        teams.merge(closure, on="team_id")
        .groupby(["period", "construct", "unit_id"], as_index=False)[["n", "total", "total_sq"]]
        .sum()
        .merge(decisions, on=["period", "construct", "unit_id"], how="left")
    )
    units["reason"] = units["reason"].astype(object).where(units["reason"].notna(), None)
    released = units["reason"].isna().to_numpy()
    n = units["n"].to_numpy(dtype=float)
    mean = units["total"].to_numpy(dtype=float) / n
    with np.errstate(invalid="ignore", divide="ignore"):
        variance = np.clip(
            (units["total_sq"].to_numpy() - units["total"].to_numpy() ** 2 / n) / (n - 1), 0, None
        )
        half = stats.t.ppf(0.975, np.maximum(n - 1, 1)) * np.sqrt(variance / n)
    half = np.where(n >= 2, half, np.nan)
    info = {unit_id: tree.units[unit_id] for unit_id in tree.units}
    unit_ids = units["unit_id"].tolist()
    period_of = units["period"].tolist()
    result = pd.DataFrame(
        {
            "unit": [info[u].code for u in unit_ids],
            "unit_name": [info[u].name for u in unit_ids],
            "parent": [
                info[info[u].parent_id].code if info[u].parent_id in info else None for u in unit_ids
            ],
            "level": [info[u].kind for u in unit_ids],
            "period_start": [periods[p].start for p in period_of],
            "period_end": [periods[p].end for p in period_of],
            "construct": units["construct"].tolist(),
            "mean": _masked(np.round(mean, 3), released),
            "ci_low": _masked(np.round(mean - half, 3), released),
            "ci_high": _masked(np.round(mean + half, 3), released),
            "n": [band(int(count)) if ok else None for count, ok in zip(n, released, strict=True)],
            "suppressed": ~released,
            "reason": units["reason"].tolist(),
            "basis": [_basis(tree, u, periods[p]) for u, p in zip(unit_ids, period_of, strict=True)],
        }
    )
    return result.sort_values(["construct", "period_end", "unit"], ignore_index=True)


def _masked(values: np.ndarray, keep: np.ndarray) -> list[float | None]:
    return [float(v) if k and not math.isnan(v) else None for v, k in zip(values, keep, strict=True)]


def organisation_figures(
    *,
    session: Session,
    viewer: Viewer,
    rules: PrivacyRules,
    start_week: str,
    end_week: str,
    by: By = "week",
    constructs: Sequence[str] | None = None,
    organisation_id: int | None = None,
) -> pd.DataFrame:
    """Every unit's gated figure per period and construct (HR only): the heatmap, the trends and
    the open-data export all read this, so they release the same cells."""
    require_hr(viewer)
    whole = load_tree(session)
    frames: list[pd.DataFrame] = []
    for root in _roots_for(whole, organisation_id):
        tree = load_tree(session, root)
        effective = rules_in_force(
            session, organisation_id=root, start_week=start_week, end_week=end_week, defaults=rules
        )
        periods = periods_for(start_week, end_week, by, effective.pooling_weeks)
        if not periods:
            continue
        frame = team_week_sums(
            session,
            team_ids=list(tree.units),
            start_week=min(p.start for p in periods),
            end_week=end_week,
            constructs=constructs,
        )
        thresholds = _thresholds(session, root, min(p.start for p in periods), end_week, rules)
        frames.append(_unit_figures(tree, frame, periods, thresholds))
    frames = [f for f in frames if not f.empty]
    return pd.concat(frames, ignore_index=True) if frames else figures_frame([])


def organisation_response_rates(
    *,
    session: Session,
    viewer: Viewer,
    rules: PrivacyRules,
    start_week: str,
    end_week: str,
    by: By = "window",
    organisation_id: int | None = None,
) -> pd.DataFrame:
    """Participation per unit and period: responses over active member-weeks, gated on responses."""
    require_hr(viewer)
    whole = load_tree(session)
    rows: list[dict[str, Any]] = []
    for root in _roots_for(whole, organisation_id):
        tree = load_tree(session, root)
        effective = rules_in_force(
            session, organisation_id=root, start_week=start_week, end_week=end_week, defaults=rules
        )
        periods = periods_for(start_week, end_week, by, effective.pooling_weeks)
        if not periods:
            continue
        first = min(p.start for p in periods)
        team_ids = list(tree.units)
        responses = _WeeklySums(
            team_week_response_counts(session, team_ids=team_ids, start_week=first, end_week=end_week),
            value_columns=("n",),
        )
        members = _WeeklySums(
            team_week_members(session, team_ids=team_ids, start_week=first, end_week=end_week),
            value_columns=("members",),
        )
        decider = _DecisionCache(tree)
        thresholds = _thresholds(session, root, first, end_week, rules)
        week_gate = _WeekGate(
            tree, decider, thresholds, lambda w, sums=responses: _counts(sums.period([w]))
        )
        for period in periods:
            own = responses.period(list(period.weeks))
            reasons = decider(_counts(own), thresholds.k(period.weeks), week_gate.forced(period.weeks))
            counted = _subtree_sums(tree, own) if own else {}
            member_weeks = _subtree_sums(tree, members.period(list(period.weeks)) or {0: (0,)})
            for unit_id in tree.postorder:
                people = member_weeks.get(unit_id, (0,))[0]
                if people == 0 and counted.get(unit_id, (0,))[0] == 0:
                    continue
                choice = _Choice(
                    unit_id,
                    list(period.weeks),
                    counted.get(unit_id, (0,)),
                    reasons.get(unit_id, REASON_TOO_FEW),
                    _basis(tree, unit_id, period),
                )
                rows.append(_rate_row(tree, unit_id, choice, people, None))
    return pd.DataFrame(rows, columns=list(RATE_COLUMNS))


def organisation_pattern_figures(
    *,
    session: Session,
    viewer: Viewer,
    rules: PrivacyRules,
    start_week: str,
    end_week: str,
    construct: str = "wellbeing",
    organisation_id: int | None = None,
) -> pd.DataFrame:
    """``construct`` by work pattern per unit over the range (HR only): a unit's slice is released
    whole or not at all, so no pattern cell can be had by subtraction."""
    require_hr(viewer)
    whole = load_tree(session)
    figures: list[ReleasedFigure] = []
    for root in _roots_for(whole, organisation_id):
        tree = load_tree(session, root)
        effective = rules_in_force(
            session, organisation_id=root, start_week=start_week, end_week=end_week, defaults=rules
        )
        frame = team_pattern_sums(
            session,
            team_ids=list(tree.units),
            start_week=start_week,
            end_week=end_week,
            constructs=[construct],
        )
        if frame.empty:
            continue
        cells: dict[str, dict[int, tuple]] = {pattern: {} for pattern in WORK_PATTERNS}
        for row in frame.itertuples(index=False):
            cells[row.work_pattern][row.team_id] = (row.n, row.total, row.total_sq)
        vectors: dict[int, Vector] = {}
        for index, pattern in enumerate(WORK_PATTERNS):
            for team_id, (n, _, _) in cells[pattern].items():
                vector = list(vectors.get(team_id, (0,) * len(WORK_PATTERNS)))
                vector[index] = int(n)
                vectors[team_id] = tuple(vector)
        decider = _DecisionCache(tree)
        weekly = _WeeklySums(
            team_week_sums(
                session,
                team_ids=list(tree.units),
                start_week=start_week,
                end_week=end_week,
                constructs=[construct],
            )
        )
        thresholds = _thresholds(session, root, start_week, end_week, rules)
        week_gate = _WeekGate(
            tree, decider, thresholds, lambda w, c=construct, s=weekly: _counts(s.period([w], c))
        )
        withheld = week_gate.forced(weeks_between(start_week, end_week))
        reasons = _slice_decisions(decider, vectors, effective.min_group_size, withheld)
        period = Period(start_week, end_week, tuple(weeks_between(start_week, end_week)))
        for pattern in WORK_PATTERNS:
            if not cells[pattern]:
                continue
            totals = _subtree_sums(tree, cells[pattern])
            for unit_id in tree.postorder:
                if totals[unit_id][0] == 0:
                    continue
                figure = make_figure(
                    tree,
                    unit_id,
                    period=(period.start, period.end),
                    construct=construct,
                    sums=totals[unit_id],
                    reason=reasons[unit_id],
                    basis=_basis(tree, unit_id, period),
                )
                figure.extra["work_pattern"] = pattern
                figures.append(figure)
    return figures_frame(figures, extra_columns=("work_pattern",))


def organisation_quadrant(
    *,
    session: Session,
    viewer: Viewer,
    rules: PrivacyRules,
    end_week: str,
    today: date,
    organisation_id: int | None = None,
    window_weeks: int = 12,
) -> list[QuadrantPoint]:
    """Every team on outcome delivery against wellbeing (HR only). Wellbeing is the team's own
    figure the gate released for the rolling window ending ``end_week`` (never its parent's);
    a team without one is listed as suppressed, not plotted."""
    require_hr(viewer)
    figures = organisation_figures(
        session=session,
        viewer=viewer,
        rules=rules,
        start_week=end_week,
        end_week=end_week,
        by="rolling",
        constructs=["wellbeing"],
        organisation_id=organisation_id,
    )
    tree = load_tree(session)
    roots = _roots_for(tree, organisation_id)
    teams = [
        unit_id
        for root in roots
        for unit_id in sorted(tree.subtree(root))
        if tree.units[unit_id].kind == "team"
    ]
    delivery = delivery_features(session=session, team_ids=teams, today=today, window_weeks=window_weeks)
    gaps = dict(zip(delivery["team_id"].tolist(), delivery["delivery_gap"].tolist(), strict=True))
    rows_by_unit: dict[str, list[dict[str, Any]]] = {}
    for row in figures.to_dict("records"):
        rows_by_unit.setdefault(row["unit"], []).append(row)
    points = []
    for team_id in teams:
        unit = tree.units[team_id]
        gap = gaps.get(team_id, math.nan)
        points.append(
            quadrant_point(unit.name, None if pd.isna(gap) else -gap, rows_by_unit.get(unit.code, []))
        )
    return points
