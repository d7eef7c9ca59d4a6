"""Unsafe or incomplete configuration is refused at start-up with a message naming the variable."""

import pytest

from taskapi.settings import SettingsError, load_settings

GOOD_SECRET = "k" * 40
AUTH_VARIABLES = ("BETTER_AUTH_URL", "BETTER_AUTH_SECRET", "JWT_JWKS_URL", "JWT_ISSUER", "JWT_AUDIENCE")


@pytest.fixture
def env(monkeypatch):
    for name in ("DATABASE_URL", "DATABASE_URL_REPLICAS", "CURSOR_SECRET", "CURSOR_SECRET_PREVIOUS", *AUTH_VARIABLES):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:p@ep-x-pooler.neon.tech/db?sslmode=require")
    monkeypatch.setenv("DATABASE_URL_DIRECT", "postgresql://u:p@ep-x.neon.tech/db?sslmode=require")
    return monkeypatch


def test_database_without_auth_is_refused(env):
    with pytest.raises(SettingsError, match=r"set BETTER_AUTH_URL .* or BETTER_AUTH_SECRET"):
        load_settings()


def test_missing_database_url_is_named(env):
    env.delenv("DATABASE_URL")
    env.setenv("BETTER_AUTH_SECRET", GOOD_SECRET)
    with pytest.raises(SettingsError, match=r"^DATABASE_URL: "):
        load_settings()


def test_non_postgres_url_is_refused(env):
    env.setenv("DATABASE_URL", "mysql://u@localhost/db")
    env.setenv("BETTER_AUTH_SECRET", GOOD_SECRET)
    with pytest.raises(SettingsError, match=r"^DATABASE_URL: must be a postgresql:// URL"):
        load_settings()


def test_read_replica_urls_are_a_comma_separated_list_of_postgres_urls(env):
    env.setenv("BETTER_AUTH_SECRET", GOOD_SECRET)
    first, second = "postgresql://u:p@ep-r1.neon.tech/db?sslmode=require", "postgres://u:p@ep-r2.neon.tech/db"
    env.setenv("DATABASE_URL_REPLICAS", f" {first}, {second} ,")
    assert load_settings().replica_urls == [first, second]
    env.setenv("DATABASE_URL_REPLICAS", f"{first},mysql://u:p@replica/db")
    with pytest.raises(SettingsError, match=r"^DATABASE_URL_REPLICAS: must be a postgresql:// URL"):
        load_settings()
    env.delenv("DATABASE_URL_REPLICAS")
    assert load_settings().replica_urls == []


@pytest.mark.parametrize("secret", ["changeme", "short", "x" * 31])
def test_weak_secret_is_refused(env, secret):
    env.setenv("BETTER_AUTH_SECRET", secret)
    with pytest.raises(SettingsError, match=r"^BETTER_AUTH_SECRET: must be a random string of at least 32"):
        load_settings()


def test_plain_http_jwks_off_loopback_is_refused(env):
    env.setenv("BETTER_AUTH_URL", "http://app.example.com")
    with pytest.raises(SettingsError, match=r"must use https://"):
        load_settings()


@pytest.mark.parametrize("url", ["https://app.example.com", "http://localhost:3000", "http://127.0.0.1:3000"])
def test_better_auth_url_sets_jwks_issuer_and_audience(env, url):
    env.setenv("BETTER_AUTH_URL", url + "/")
    env.setenv("CURSOR_SECRET", GOOD_SECRET)
    settings = load_settings()
    assert settings.jwks_url == url + "/api/auth/jwks"
    assert settings.issuer == settings.audience == url + "/"


def test_overrides_win(env):
    env.setenv("BETTER_AUTH_URL", "https://app.example.com")
    env.setenv("JWT_JWKS_URL", "https://keys.example.com/jwks")
    env.setenv("JWT_ISSUER", "https://issuer.example.com")
    env.setenv("JWT_AUDIENCE", "task-api")
    env.setenv("CURSOR_SECRET", GOOD_SECRET)
    settings = load_settings()
    assert (settings.jwks_url, settings.issuer, settings.audience) == (
        "https://keys.example.com/jwks",
        "https://issuer.example.com",
        "task-api",
    )


def test_secret_is_not_in_the_repr(env):
    env.setenv("BETTER_AUTH_SECRET", GOOD_SECRET)
    assert GOOD_SECRET not in repr(load_settings())


def test_jwks_mode_without_a_cursor_secret_is_refused(env):
    """Issue 18, item 5: positions must not be signed with a key derived from DATABASE_URL, whose password
    rotates."""
    env.setenv("BETTER_AUTH_URL", "https://app.example.com")
    with pytest.raises(SettingsError, match=r"CURSOR_SECRET"):
        load_settings()
    env.setenv("CURSOR_SECRET", GOOD_SECRET)
    assert load_settings().cursor_keys[0] == GOOD_SECRET.encode()


def test_cursor_secrets_sign_with_the_first_and_verify_with_both(env):
    env.setenv("BETTER_AUTH_SECRET", GOOD_SECRET)
    assert load_settings().cursor_keys == (GOOD_SECRET.encode(),)
    env.setenv("CURSOR_SECRET", "n" * 40)
    env.setenv("CURSOR_SECRET_PREVIOUS", "o" * 40)
    assert load_settings().cursor_keys == (b"n" * 40, b"o" * 40)


def test_a_short_cursor_secret_is_refused(env):
    env.setenv("BETTER_AUTH_SECRET", GOOD_SECRET)
    env.setenv("CURSOR_SECRET", "short")
    with pytest.raises(SettingsError, match=r"^CURSOR_SECRET: must be a random string"):
        load_settings()


def test_listening_through_neons_pooler_is_refused(env):
    """Issue 18, item 10: PgBouncer in transaction mode cannot LISTEN; notifications would be lost."""
    env.setenv("BETTER_AUTH_SECRET", GOOD_SECRET)
    env.delenv("DATABASE_URL_DIRECT")
    with pytest.raises(SettingsError, match=r"set DATABASE_URL_DIRECT"):
        load_settings()
    env.setenv("DATABASE_URL_DIRECT", "postgresql://u:p@ep-x-pooler.neon.tech/db")
    with pytest.raises(SettingsError, match=r"-pooler"):
        load_settings()
