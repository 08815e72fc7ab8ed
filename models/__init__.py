"""Storage: SQLModel tables, the engine and sessions. Knows nothing of Streamlit.

Importing this package registers every table on ``SQLModel.metadata`` (Alembic relies on it).
"""

from models.base import iso_week, utcnow, week_monday
from models.identity import IdentityLink, SignInSession
from models.imports import ImportedFile
from models.org import ROLES, PeopleChanges, Person, PersonCreate, RoleGrant, Unit, UnitCreate
from models.outcomes import (
    Action,
    AuditEntry,
    CheckIn,
    CheckInCreate,
    KeyResult,
    KeyResultCreate,
    Objective,
    ObjectiveCreate,
    ObjectiveTeam,
    OrgSetting,
)
from models.pulse import (
    ParticipationReceipt,
    PulsePeriod,
    PulseResponse,
    TeamWeekResponses,
    TeamWeekScore,
    UnsealedWeek,
)
from models.releases import PeriodRelease, ReleasedComment, ReleasedFigure
from models.reminders import (
    ChannelPost,
    ChannelWebhook,
    ReminderCount,
    ReminderOptOut,
    ReminderRun,
    ReminderSent,
)

__all__ = [
    "ROLES",
    "Action",
    "AuditEntry",
    "CheckIn",
    "ChannelPost",
    "ChannelWebhook",
    "CheckInCreate",
    "IdentityLink",
    "ImportedFile",
    "KeyResult",
    "KeyResultCreate",
    "Objective",
    "ObjectiveCreate",
    "ObjectiveTeam",
    "OrgSetting",
    "ParticipationReceipt",
    "PeriodRelease",
    "PeopleChanges",
    "Person",
    "PersonCreate",
    "PulsePeriod",
    "PulseResponse",
    "ReleasedComment",
    "ReleasedFigure",
    "ReminderCount",
    "ReminderOptOut",
    "ReminderRun",
    "ReminderSent",
    "RoleGrant",
    "SignInSession",
    "TeamWeekResponses",
    "TeamWeekScore",
    "Unit",
    "UnitCreate",
    "UnsealedWeek",
    "iso_week",
    "utcnow",
    "week_monday",
]
