"""The privacy gate: the one place that decides which figures may leave analytics.

- ``rules``: every threshold, band, precision and reason (one place).
- ``inputs``: people vectors (receipts, weekly responses, headcounts) and sums for one period.
- ``suppression``: k and complementary suppression across units and across periods.
- ``slices``: work-pattern slices, checked exactly.
- ``release``: freezing closed periods into the store of releases, once.
- ``views``: reading the store, with access checked on every call.
"""

from analytics.privacy.release import ReleaseSchedule, release_due, release_period
from analytics.privacy.rules import (
    EXACT_COUNT_FROM,
    FLOOR_MIN_COMMENT_GROUP_SIZE,
    FLOOR_MIN_GROUP_SIZE,
    PARTICIPATION,
    REASON_NEIGHBOUR,
    REASON_PERIOD,
    REASON_TOO_FEW,
    SYSTEM_VIEWER,
    PrivacyRules,
    band,
)
from analytics.privacy.views import (
    BASIS_TEAM,
    RECORD_COLUMNS,
    organisation_figures,
    released_comments,
    released_periods,
    require_hr,
    require_team_view,
    require_unit_view,
    team_series,
)

__all__ = [
    "BASIS_TEAM",
    "EXACT_COUNT_FROM",
    "FLOOR_MIN_COMMENT_GROUP_SIZE",
    "FLOOR_MIN_GROUP_SIZE",
    "PARTICIPATION",
    "REASON_NEIGHBOUR",
    "REASON_PERIOD",
    "REASON_TOO_FEW",
    "RECORD_COLUMNS",
    "SYSTEM_VIEWER",
    "PrivacyRules",
    "ReleaseSchedule",
    "band",
    "organisation_figures",
    "release_due",
    "release_period",
    "released_comments",
    "released_periods",
    "require_hr",
    "require_team_view",
    "require_unit_view",
    "team_series",
]
