"""Settings: defaults, floors and the production guard."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from app.settings import Settings, SettingsError, get_settings


def make(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def test_defaults_are_the_documented_privacy_rules() -> None:
    settings = make()
    assert (settings.min_group_size, settings.min_comment_group_size, settings.pooling_period) == (
        5,
        10,
        "month",
    )
    assert (settings.release_grace_days, settings.time_zone) == (2, "Europe/London")
    assert settings.database_url.startswith("sqlite:///")


@pytest.mark.parametrize(("field", "value"), [("min_group_size", 2), ("min_comment_group_size", 4)])
def test_thresholds_cannot_go_below_the_floor(field: str, value: int) -> None:
    with pytest.raises(ValidationError):
        make(**{field: value})


def test_production_refuses_demo_auth_and_default_key() -> None:
    with pytest.raises(ValidationError, match="AUTH_MODE.*PARTICIPATION_KEY"):
        make(environment="production")


def test_get_settings_explains_a_refused_production_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WELLBEING_ENVIRONMENT", "production")
    get_settings.cache_clear()
    try:
        with pytest.raises(SettingsError, match="Refusing a production start"):
            get_settings()
    finally:
        get_settings.cache_clear()


def test_production_accepts_oidc_with_a_real_key() -> None:
    settings = make(environment="production", auth_mode="oidc", participation_key="k" * 40)
    assert settings.environment == "production"


def test_environment_variables_use_the_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WELLBEING_MIN_GROUP_SIZE", "7")
    assert make().min_group_size == 7


def test_privacy_rules_carry_the_configured_thresholds() -> None:
    rules = make(min_group_size=7, min_comment_group_size=12, pooling_period="quarter").privacy_rules()
    assert (rules.min_group_size, rules.min_comment_group_size, rules.pooling_period) == (
        7,
        12,
        "quarter",
    )


def test_the_retired_rolling_window_setting_is_refused_with_what_replaces_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    """An old .env that still pools over a rolling window must not start with another rule."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("WELLBEING_POOLING_WEEKS=4\n")
    get_settings.cache_clear()
    try:
        with pytest.raises(SettingsError, match="POOLING_WEEKS is no longer used.*POOLING_PERIOD"):
            get_settings()
    finally:
        get_settings.cache_clear()


def test_an_unknown_time_zone_is_refused() -> None:
    with pytest.raises(ValidationError, match="not a time zone"):
        make(time_zone="Mars/Olympus")
