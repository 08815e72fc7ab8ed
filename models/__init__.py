"""Storage: SQLModel tables, the engine and sessions. Knows nothing of Streamlit.

Importing this package registers every table on ``SQLModel.metadata`` (Alembic relies on it).
"""

from models.base import iso_week, utcnow, week_monday
from models.identity import IdentityLink, SignInSession
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
)

__all__ = [
    "ROLES",
    "Action",
    "AuditEntry",
    "CheckIn",
    "CheckInCreate",
    "IdentityLink",
    "KeyResult",
    "KeyResultCreate",
    "Objective",
    "ObjectiveCreate",
    "ObjectiveTeam",
    "OrgSetting",
    "ParticipationReceipt",
    "PeopleChanges",
    "Person",
    "PersonCreate",
    "PulsePeriod",
    "PulseResponse",
    "RoleGrant",
    "SignInSession",
    "TeamWeekResponses",
    "TeamWeekScore",
    "Unit",
    "UnitCreate",
    "iso_week",
    "utcnow",
    "week_monday",
]
