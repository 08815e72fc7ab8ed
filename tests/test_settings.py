"""Settings: defaults, floors and the production guard."""

from __future__ import annotations

import secrets

import pytest
from pydantic import ValidationError

from app import secret_strength
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
    key = secrets.token_urlsafe(48)
    settings = make(environment="production", auth_mode="oidc", participation_key=key)
    assert settings.environment == "production"


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        ("a" * 32, "repeated"),
        ("changeme" * 4, "repeated"),
        ("k" * 40, "repeated"),
        ("abcd" * 10, "repeated"),
        ("change-me-demo-participation-key", "published default"),
        ("short-but-random-4f9A", "at least 32"),
        ("password-secret-changeme-admin-123", "common words"),
        ("ThisIsMyVeryLongPassphraseForWellbeing", "estimated strength"),
        ("correct horse battery staple and then some", "estimated strength"),
        ("0123456789abcdef0123456789abcdeg", "estimated strength"),
    ],
)
def test_production_refuses_a_weak_key_and_says_how_to_make_one(
    key: str, reason: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WELLBEING_ENVIRONMENT", "production")
    monkeypatch.setenv("WELLBEING_AUTH_MODE", "oidc")
    monkeypatch.setenv("WELLBEING_PARTICIPATION_KEY", key)
    get_settings.cache_clear()
    try:
        with pytest.raises(SettingsError) as raised:
            get_settings()
    finally:
        get_settings.cache_clear()
    message = str(raised.value)
    assert "WELLBEING_PARTICIPATION_KEY is too weak" in message and reason in message
    assert 'python -c "import secrets; print(secrets.token_urlsafe(48))"' in message
    assert key not in message  # a secret is never echoed


@pytest.mark.parametrize("make_key", [lambda: secrets.token_urlsafe(48), lambda: secrets.token_hex(32)])
def test_generated_keys_pass(make_key) -> None:  # type: ignore[no-untyped-def]
    for _ in range(10):
        assert secret_strength.secret_problems(make_key()) == []


def test_demo_environment_keeps_the_default_key() -> None:
    assert make().participation_key.get_secret_value() == "change-me-demo-participation-key"


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
