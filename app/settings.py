"""Settings from the environment and ``.env`` (prefix ``WELLBEING_``), read once at the edges.

Lower layers never read settings: the app passes thresholds and keys down as arguments.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv import dotenv_values
from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from app import secret_strength

if TYPE_CHECKING:
    from analytics.privacy import PrivacyRules, ReleaseSchedule

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = f"sqlite:///{PROJECT_ROOT / 'data' / 'wellbeing.db'}"
DEFAULT_PARTICIPATION_KEY = "change-me-demo-participation-key"
# Secrets the deployment generates itself, checked for strength at a production start
# (``app.secret_strength``); secrets issued by others (an OIDC client secret) are not.
GENERATED_SECRETS: tuple[str, ...] = ("participation_key",)


class SettingsError(ValueError):
    """The settings cannot be used as they are (e.g. a production start with a default secret)."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="WELLBEING_", env_file=".env", env_ignore_empty=True, extra="ignore"
    )

    database_url: str = DEFAULT_DATABASE_URL
    environment: Literal["demo", "production"] = "demo"
    auth_mode: Literal["demo", "oidc"] = "demo"
    participation_key: SecretStr = SecretStr(DEFAULT_PARTICIPATION_KEY)
    # Privacy thresholds: an organisation may be stricter, never below the floor.
    min_group_size: int = Field(5, ge=3)
    min_comment_group_size: int = Field(10, ge=5)
    # Small teams are pooled into this aligned period (never a rolling window), then rolled up.
    pooling_period: Literal["month", "quarter"] = "month"
    # A period is released (computed once, frozen) this many days after it closes, in this zone.
    release_grace_days: int = Field(2, ge=0, le=28)
    time_zone: str = "Europe/London"
    # Recompute the team dashboards' shared gate results in the background, and keep the
    # comment-scrubbing name index built (app/warmup.py).
    warm_dashboards: bool = True
    # Pulse invitations and reminders (``wellbeing remind``). SMTP credentials and webhook URLs
    # come from here only, never from the database. Security when unset: by port (465 tls,
    # 587 starttls, otherwise none).
    smtp_host: str | None = None
    smtp_port: int = Field(587, ge=1, le=65535)
    smtp_security: Literal["none", "starttls", "tls"] | None = None
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    mail_from: str = "wellbeing@localhost"
    public_url: str = "http://localhost:8501"  # the address staff open; the pulse link is built on it
    webhook_url: SecretStr | None = None  # Teams Workflows / Slack incoming webhook, every organisation
    webhook_urls: dict[str, SecretStr] = {}  # per organisation code, as JSON: {"WVC": "https://..."}
    # Longest a sign-in lasts before the person must sign in again (OIDC; models/identity.py).
    session_max_hours: float = Field(8, gt=0, le=24 * 30)

    def privacy_rules(self) -> PrivacyRules:
        """The deployment's thresholds for the gate (which also applies stricter organisation rules)."""
        from analytics.privacy import PrivacyRules  # deferred: reading settings stays light

        return PrivacyRules(
            min_group_size=self.min_group_size,
            min_comment_group_size=self.min_comment_group_size,
            pooling_period=self.pooling_period,
        )

    def release_schedule(self) -> ReleaseSchedule:
        """When closed periods are released: after the grace days, in the organisation's zone."""
        from analytics.privacy import ReleaseSchedule

        return ReleaseSchedule(grace_days=self.release_grace_days, time_zone=self.time_zone)

    @field_validator("smtp_security", mode="before")
    @classmethod
    def _security_in_lower_case(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _time_zone_is_known(self) -> Settings:
        try:
            ZoneInfo(self.time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{self.time_zone!r} is not a time zone such as Europe/London") from None
        return self

    @model_validator(mode="after")
    def _production_is_locked_down(self) -> Settings:
        if self.environment == "production":
            problems = []
            if self.auth_mode == "demo":
                problems.append("WELLBEING_AUTH_MODE is 'demo' (set it to 'oidc')")
            for name in GENERATED_SECRETS:
                value = getattr(self, name).get_secret_value()
                weak = secret_strength.describe(
                    f"WELLBEING_{name.upper()}", value, known_weak=(DEFAULT_PARTICIPATION_KEY,)
                )
                if weak:
                    problems.append(weak)
            if problems:
                raise ValueError("Refusing a production start: " + "; ".join(problems) + ".")
        return self


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings; tests call ``get_settings.cache_clear()`` after changing env.

    Raises SettingsError with one readable line per problem instead of pydantic's dump.
    """
    _refuse_retired_settings()
    try:
        return Settings()
    except ValidationError as error:
        lines = [
            f"WELLBEING_{'_'.join(str(part) for part in problem['loc']).upper() or 'SETTINGS'}: "
            f"{problem['msg'].removeprefix('Value error, ')}"
            for problem in error.errors()
        ]
        raise SettingsError("Invalid settings:\n" + "\n".join(lines)) from None


# Settings that no longer exist, with what replaces them: a start that still sets one is refused
# with this message rather than silently running with a different privacy rule.
RETIRED_SETTINGS = {
    "WELLBEING_POOLING_WEEKS": (
        "WELLBEING_POOLING_WEEKS is no longer used: figures exist only for aligned calendar "
        "periods, and a small team is pooled into its month or quarter, never a rolling window. "
        "Remove it and set WELLBEING_POOLING_PERIOD=month (the default) or quarter."
    ),
}


def _refuse_retired_settings() -> None:
    found = {**dotenv_values(".env"), **os.environ}
    problems = [message for name, message in RETIRED_SETTINGS.items() if found.get(name)]
    if problems:
        raise SettingsError("Invalid settings:\n" + "\n".join(problems))
