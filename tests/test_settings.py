"""Settings read from the environment: development defaults, production refusals, DATABASE_URL parsing."""

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import REPO_DIR

# Imports the settings module in a fresh interpreter and prints what the tests look at.
PROBE = """
import json
import project.settings as s
db = s.DATABASES["default"]
print(json.dumps({
    "DEBUG": s.DEBUG,
    "ALLOWED_HOSTS": s.ALLOWED_HOSTS,
    "TIME_ZONE": s.TIME_ZONE,
    "USE_TZ": s.USE_TZ,
    "SECRET_KEY_SET": bool(s.SECRET_KEY),
    "SECURE_SSL_REDIRECT": getattr(s, "SECURE_SSL_REDIRECT", False),
    "ENGINE": db["ENGINE"],
    "NAME": str(db["NAME"]),
    "USER": db.get("USER", ""),
    "PASSWORD": db.get("PASSWORD", ""),
    "HOST": db.get("HOST", ""),
    "PORT": db.get("PORT", ""),
    "OPTIONS": db.get("OPTIONS", {}),
}))
"""


def load_settings(**env):
    """Run the probe with exactly ``env`` (plus PATH) and return the completed process."""
    return subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=REPO_DIR,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def settings_under(**env):
    result = load_settings(**env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_no_environment_gives_local_development_defaults():
    assert settings_under() == {
        "DEBUG": True,
        "ALLOWED_HOSTS": ["localhost", "127.0.0.1", "[::1]"],
        "TIME_ZONE": "UTC",
        "USE_TZ": True,
        "SECRET_KEY_SET": True,
        "SECURE_SSL_REDIRECT": False,
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(REPO_DIR / "var" / "db.sqlite3"),
        "USER": "",
        "PASSWORD": "",
        "HOST": "",
        "PORT": "",
        "OPTIONS": {
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
        },
    }


@pytest.mark.parametrize(
    "env, message",
    [
        ({"DEBUG": "0"}, "SECRET_KEY is required when DEBUG=0"),
        ({"DEBUG": "0", "ALLOWED_HOSTS": "api.example.org"}, "SECRET_KEY is required when DEBUG=0"),
        ({"DEBUG": "0", "SECRET_KEY": "s3cret"}, "ALLOWED_HOSTS is required when DEBUG=0"),
        (
            {"DEBUG": "false", "SECRET_KEY": "s3", "ALLOWED_HOSTS": " , "},
            "ALLOWED_HOSTS is required when DEBUG=0",
        ),
        ({"DEBUG": "maybe"}, "DEBUG must be a boolean (1/0, true/false), got 'maybe'"),
    ],
)
def test_production_refuses_to_start_without_what_it_needs(env, message):
    result = load_settings(**env)
    assert result.returncode != 0
    assert f"django.core.exceptions.ImproperlyConfigured: {message}" in result.stderr.splitlines()


def test_production_with_secret_key_and_allowed_hosts_starts():
    loaded = settings_under(DEBUG="0", SECRET_KEY="s3cret", ALLOWED_HOSTS="api.example.org, 10.0.0.5")
    assert (loaded["DEBUG"], loaded["ALLOWED_HOSTS"], loaded["SECURE_SSL_REDIRECT"], loaded["TIME_ZONE"]) == (
        False,
        ["api.example.org", "10.0.0.5"],
        True,
        "UTC",
    )


@pytest.mark.parametrize(
    "url, expected",
    [
        (
            "postgres://backup:pa%40ss@db.internal:6543/csbs",
            {
                "ENGINE": "django.db.backends.postgresql",
                "NAME": "csbs",
                "USER": "backup",
                "PASSWORD": "pa@ss",
                "HOST": "db.internal",
                "PORT": 6543,
                "OPTIONS": {"connect_timeout": 2, "keepalives": 1, "keepalives_idle": 5, "keepalives_interval": 1, "keepalives_count": 3},
            },
        ),
        (
            "postgresql://postgres@127.0.0.1:5432/postgres",
            {
                "ENGINE": "django.db.backends.postgresql",
                "NAME": "postgres",
                "USER": "postgres",
                "PASSWORD": "",
                "HOST": "127.0.0.1",
                "PORT": 5432,
                "OPTIONS": {"connect_timeout": 2, "keepalives": 1, "keepalives_idle": 5, "keepalives_interval": 1, "keepalives_count": 3},
            },
        ),
    ],
)
def test_database_url_for_postgresql_is_parsed(url, expected):
    loaded = settings_under(DATABASE_URL=url)
    assert {key: loaded[key] for key in expected} == expected


def test_database_url_for_sqlite_uses_the_given_file(tmp_path):
    path = tmp_path / "nested" / "service.sqlite3"
    loaded = settings_under(DATABASE_URL=f"sqlite:///{path}")
    assert (loaded["ENGINE"], loaded["NAME"]) == ("django.db.backends.sqlite3", str(path))
    assert path.parent.is_dir(), "the folder of the SQLite file is created on start"


def test_db_connect_timeout_reaches_postgresql_options():
    loaded = settings_under(DATABASE_URL="postgres://u@h:1/n", DB_CONNECT_TIMEOUT="7")
    assert loaded["OPTIONS"]["connect_timeout"] == 7
