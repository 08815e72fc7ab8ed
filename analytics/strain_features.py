"""Team strain from the database: the measures over a trailing window, the clustering verdict and
the sustained-drop alerts, for the teams the assessment rule admits
(``analytics.strain_released.assessed_teams``), and the viewer-checked entry points (HR's report,
a manager's one-team status).

Everything is read from released figures (``analytics.strain_released``), a handful of queries
for all teams at once, so the cost depends on teams x weeks. The measures themselves are
``analytics.strain_measures``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import date

import pandas as pd
from sqlmodel import Session

from analytics.aggregates import (
    load_tree,
    shift_week,
)
from analytics.alerts import AlertRules, sustained_drop_alerts
from analytics.privacy import PrivacyRules, require_hr
from analytics.strain import NOT_ASSESSED, Reason, StrainResult, TeamStrain
from analytics.strain_measures import detect_from_measures, strain_measures, weekly_wellbeing
from analytics.strain_released import (
    DEFAULT_WINDOW_WEEKS,
    latest_week,
    strain_inputs_from_database,
)
from models.access import Viewer, require_team_access

DEFAULT_ALERT_WEEKS = 26


def strain_features(
    *,
    session: Session,
    rules: PrivacyRules,
    end_week: str,
    window_weeks: int = DEFAULT_WINDOW_WEEKS,
    today: date | None = None,
) -> pd.DataFrame:
    """One row per team that passes the privacy gate over the window (index ``team_id``): ``n``
    and the ``FEATURES`` columns. Internal: callers check the viewer."""
    inputs = strain_inputs_from_database(
        session=session, rules=rules, end_week=end_week, window_weeks=window_weeks, today=today
    )
    return strain_measures(inputs)[0]


@dataclass(frozen=True)
class StrainReport:
    """Strain detection over an organisation's eligible teams, with the alerts beside it."""

    start_week: str
    end_week: str
    window_weeks: int
    result: StrainResult
    alerts: pd.DataFrame  # one row per eligible team, ``ALERT_COLUMNS`` with ``team`` = team id
    units: Mapping[int, tuple[str, str, str]]  # team id -> (code, name, parent name)
    features: pd.DataFrame
    alert_rules: AlertRules
    alerts_start_week: str = ""  # first week the alerts looked at (baseline included)

    @property
    def eligible(self) -> list[int]:
        return list(self.features.index)

    def team_code(self, team_id: int) -> str:
        return self.units.get(team_id, (str(team_id), "", ""))[0]

    def alert_for(self, team_id: int) -> dict[str, object] | None:
        rows = self.alerts[self.alerts["team"] == team_id]
        return None if rows.empty else rows.iloc[0].to_dict()

    def table(self) -> pd.DataFrame:
        """One row per eligible team for the HR page: flagged first, then by score."""
        rows = []
        for record in self.result.teams:
            code, name, parent = self.units.get(record.team, (str(record.team), "", ""))
            alert = self.alert_for(record.team) or {}
            rows.append(
                {
                    "team_id": record.team,
                    "team": code,
                    "name": name,
                    "parent": parent,
                    "flagged": record.flagged,
                    "cluster": record.cluster,
                    "score": None if record.score is None else round(record.score, 2),
                    "alert": bool(alert.get("alarm", False)),
                    "alert_since": alert.get("first_alarm_week"),
                    "drop": None if not alert.get("alarm") else round(float(alert.get("drop", 0.0)), 1),
                    "reasons": "; ".join(reason.text for reason in record.reasons)
                    if record.flagged
                    else "",
                }
            )
        frame = pd.DataFrame(
            rows,
            columns=[
                "team_id",
                "team",
                "name",
                "parent",
                "flagged",
                "cluster",
                "score",
                "alert",
                "alert_since",
                "drop",
                "reasons",
            ],
        )
        return frame.sort_values(
            ["flagged", "alert", "score"], ascending=[False, False, False], na_position="last"
        )

    def records(self) -> list[dict[str, object]]:
        """JSON records (team code, flagged, cluster, score, reasons) plus the alert verdict."""
        out = []
        for record in self.result.teams:
            item = record.to_dict()
            item["team"] = self.team_code(record.team)
            alert = self.alert_for(record.team) or {}
            item["alert"] = bool(alert.get("alarm", False))
            item["alert_since"] = alert.get("first_alarm_week")
            out.append(item)
        return out


def with_suppressed(result: StrainResult, suppressed: list[int]) -> StrainResult:
    """The result with one 'not assessed' record per team the assessment rule leaves out
    (``analytics.strain_released.assessed_teams``): such a team is seen only within its parent
    unit's figures, never imputed."""
    reason = Reason(
        "n",
        "n",
        math.nan,
        math.nan,
        math.nan,
        "not assessed: the team's own figures are released for fewer than half of this window's "
        "weeks, or for none of the latest four (too few answers); it counts only within its parent "
        "unit",
    )
    extra = tuple(TeamStrain(team, False, NOT_ASSESSED, None, (reason,)) for team in suppressed)
    return replace(result, teams=(*result.teams, *extra))


def compute_strain_report(
    *,
    session: Session,
    rules: PrivacyRules,
    window_weeks: int = DEFAULT_WINDOW_WEEKS,
    end_week: str | None = None,
    today: date | None = None,
    seed: int = 0,
    alert_rules: AlertRules | None = None,
    alert_weeks: int = DEFAULT_ALERT_WEEKS,
) -> StrainReport | None:
    """The report for all eligible teams, or None when there are no responses yet. No viewer:
    the viewer-checked entry points are ``strain_report`` and ``team_strain_status``."""
    latest = latest_week(session, today)
    if latest is None:
        return None
    # Only released weeks enter: a later end is brought back to the latest released week.
    end_week = latest if end_week is None else min(end_week, latest)
    alert_rules = alert_rules or AlertRules()
    alert_start = shift_week(end_week, -(max(alert_weeks, alert_rules.baseline_weeks + 1) - 1))
    window_start = shift_week(end_week, -(window_weeks - 1))
    inputs = strain_inputs_from_database(
        session=session,
        rules=rules,
        end_week=end_week,
        window_weeks=window_weeks,
        today=today,
        history_from=min(alert_start, window_start),
    )
    weekly = inputs.history
    features, variances = strain_measures(inputs)
    result = with_suppressed(detect_from_measures(features, variances, seed), inputs.suppressed)
    eligible = list(features.index)
    alerts = sustained_drop_alerts(weekly_wellbeing(weekly, eligible), alert_rules)
    tree = load_tree(session)
    units = {}
    for team_id in [*eligible, *inputs.suppressed]:
        info = tree.units.get(team_id)
        if info is None:
            continue
        parent = tree.parent(team_id)
        units[team_id] = (info.code, info.name, tree.units[parent].name if parent is not None else "")
    return StrainReport(
        start_week=shift_week(end_week, -(window_weeks - 1)),
        end_week=end_week,
        window_weeks=window_weeks,
        result=result,
        alerts=alerts,
        units=units,
        features=features,
        alert_rules=alert_rules,
        alerts_start_week=alert_start,
    )


def strain_report(
    *,
    session: Session,
    viewer: Viewer,
    rules: PrivacyRules,
    window_weeks: int = DEFAULT_WINDOW_WEEKS,
    end_week: str | None = None,
    today: date | None = None,
    seed: int = 0,
) -> StrainReport | None:
    """All teams' strain verdicts: HR only."""
    require_hr(viewer)
    return compute_strain_report(
        session=session,
        rules=rules,
        window_weeks=window_weeks,
        end_week=end_week,
        today=today,
        seed=seed,
    )


@dataclass(frozen=True)
class TeamStrainStatus:
    """What a manager sees about one team: whether it was assessed, its flag, reasons and alert."""

    team_id: int
    assessed: bool
    record: TeamStrain | None
    alert: Mapping[str, object] | None
    start_week: str | None
    end_week: str | None
    message: str


def team_strain_status(
    *,
    session: Session,
    viewer: Viewer,
    rules: PrivacyRules,
    team_id: int,
    window_weeks: int = DEFAULT_WINDOW_WEEKS,
    end_week: str | None = None,
    today: date | None = None,
    seed: int = 0,
) -> TeamStrainStatus:
    """One team's flag and reasons, for its manager (or HR). Other teams' values never leave."""
    return team_status_in(
        lambda: compute_strain_report(
            session=session,
            rules=rules,
            window_weeks=window_weeks,
            end_week=end_week,
            today=today,
            seed=seed,
        ),
        session=session,
        viewer=viewer,
        team_id=team_id,
    )


def team_status_in(
    load_report: Callable[[], StrainReport | None], *, session: Session, viewer: Viewer, team_id: int
) -> TeamStrainStatus:
    """One team's status from an organisation-wide report shared between viewers (the app keeps
    one per release; ``load_report`` returns it): access is checked first, as
    ``team_strain_status`` checks it, and only this team's verdict leaves."""
    require_team_access(session, viewer, team_id)
    return status_from_report(load_report(), team_id)


def status_from_report(report: StrainReport | None, team_id: int) -> TeamStrainStatus:
    """The one-team view of a computed report (no access check: callers have done it)."""
    if report is None:
        return TeamStrainStatus(team_id, False, None, None, None, None, "No pulse answers yet.")
    record = report.result.for_team(team_id)
    if record is None:
        return TeamStrainStatus(
            team_id,
            False,
            None,
            None,
            report.start_week,
            report.end_week,
            "Not assessed: the team's own figures (weekly, or pooled into a month or quarter) "
            f"passed the privacy threshold in fewer than half of the weeks {report.start_week} to "
            f"{report.end_week}, or in none of the latest four.",
        )
    if record.score is None and record.reasons:
        message = record.reasons[0].text.capitalize() + "."
        return TeamStrainStatus(
            team_id, False, record, None, report.start_week, report.end_week, message
        )
    if record.score is None:
        message = "Not assessed: " + (
            "; ".join(report.result.notes) or "not enough comparable teams in this window."
        )
        return TeamStrainStatus(
            team_id, False, record, None, report.start_week, report.end_week, message
        )
    alert = report.alert_for(team_id)
    message = (
        "Flagged as under strain." if record.flagged else f"Not flagged (profile: {record.cluster})."
    )
    return TeamStrainStatus(team_id, True, record, alert, report.start_week, report.end_week, message)
