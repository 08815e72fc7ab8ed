"""Objectives, key results, check-ins and actions: validated writes and access-checked reads.

Every function takes the ``Viewer`` and checks access itself, so a page cannot reach another
manager's team whatever it asks. Writes need the viewer to manage the team (HR and admins may
read); they validate in Python first with messages safe to show (the DB CHECKs are the backstop),
add to the caller's session and flush, and never commit: callers wrap them in
``models.db.write_session`` so a failure changes nothing. The scoring comes from
``analytics.outcomes`` (the one place the rules live).

The package, one job per module: ``views`` (what pages read), ``checks`` (access and validation),
``writes``, ``reading`` (reads and delivery measures) and ``export``. Import from the package.
"""

from analytics.objectives.checks import WRITE_DENIED
from analytics.objectives.export import EXPORT_COLUMNS, export_document, export_rows, outcomes_export
from analytics.objectives.reading import (
    delivery_by_team,
    delivery_features,
    delivery_history,
    key_results_due_update,
    objective_view,
    team_actions,
    team_delivery,
    team_objectives,
)
from analytics.objectives.views import (
    ACTION_STATUSES,
    HISTORY_COLUMNS,
    ActionView,
    KeyResultView,
    ObjectiveView,
    TeamDelivery,
)
from analytics.objectives.writes import (
    add_key_result,
    create_objective,
    override_status,
    record_action,
    record_check_in,
    set_action_status,
    set_objective_closed,
    update_key_result,
    update_objective,
)

__all__ = [
    "ACTION_STATUSES",
    "EXPORT_COLUMNS",
    "HISTORY_COLUMNS",
    "WRITE_DENIED",
    "ActionView",
    "KeyResultView",
    "ObjectiveView",
    "TeamDelivery",
    "add_key_result",
    "create_objective",
    "delivery_by_team",
    "delivery_features",
    "delivery_history",
    "export_document",
    "export_rows",
    "key_results_due_update",
    "objective_view",
    "outcomes_export",
    "override_status",
    "record_action",
    "record_check_in",
    "set_action_status",
    "set_objective_closed",
    "team_actions",
    "team_delivery",
    "team_objectives",
    "update_key_result",
    "update_objective",
]
