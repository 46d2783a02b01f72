"""The KEYSTONE_* settings: off by default, read from the environment, refused when incomplete."""
import json
import os
import subprocess
import sys

import pytest

from tests.conftest import REPO_DIR

SETTINGS_PROBE = """
import json
import project.settings as s
print(json.dumps({name: getattr(s, name) for name in dir(s) if name.startswith("KEYSTONE_")}
                 | {"classes": s.REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"]}))
"""


def keystone_settings(**env):
    result = subprocess.run(
        [sys.executable, "-c", SETTINGS_PROBE], cwd=REPO_DIR, capture_output=True, text=True, timeout=60,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **env},
    )
    return result.returncode, json.loads(result.stdout) if result.returncode == 0 else result.stderr


def test_keystone_settings_default_to_off_with_the_backend_inert_after_the_local_tokens():
    assert keystone_settings() == (0, {
        "KEYSTONE_AUTH_URL": "", "KEYSTONE_USERNAME": "", "KEYSTONE_PASSWORD": "", "KEYSTONE_PROJECT_NAME": "",
        "KEYSTONE_USER_DOMAIN_NAME": "Default", "KEYSTONE_PROJECT_DOMAIN_NAME": "Default",
        "KEYSTONE_ADMIN_ROLES": ["admin"], "KEYSTONE_CACHE_TTL": 300, "KEYSTONE_TIMEOUT": 2.0,
        "KEYSTONE_AUTHENTICATION": "backups.keystone.authentication.KeystoneAuthentication",
        "classes": [
            "backups.api.authentication.TokenAuthentication",
            "backups.keystone.authentication.KeystoneAuthentication",
            "rest_framework.authentication.SessionAuthentication",
        ],
    })


def test_keystone_settings_are_read_from_the_environment():
    code, values = keystone_settings(
        KEYSTONE_AUTH_URL="https://iam.example.org/v3/", KEYSTONE_USERNAME="svc", KEYSTONE_PASSWORD="pw",
        KEYSTONE_PROJECT_NAME="ops", KEYSTONE_USER_DOMAIN_NAME="acme", KEYSTONE_PROJECT_DOMAIN_NAME="acme",
        KEYSTONE_ADMIN_ROLES="te_admin, backup_admin", KEYSTONE_CACHE_TTL="60", KEYSTONE_TIMEOUT="1.5",
    )
    assert code == 0, values
    assert {name: values[name] for name in ("KEYSTONE_AUTH_URL", "KEYSTONE_ADMIN_ROLES", "KEYSTONE_CACHE_TTL", "KEYSTONE_TIMEOUT")} == {
        "KEYSTONE_AUTH_URL": "https://iam.example.org/v3",  # no trailing slash: /auth/tokens is appended
        "KEYSTONE_ADMIN_ROLES": ["te_admin", "backup_admin"],
        "KEYSTONE_CACHE_TTL": 60,
        "KEYSTONE_TIMEOUT": 1.5,
    }


@pytest.mark.parametrize(
    "env, message",
    [
        ({"KEYSTONE_AUTH_URL": "https://iam.example.org/v3"}, "KEYSTONE_AUTH_URL is set: KEYSTONE_USERNAME and KEYSTONE_PASSWORD (the service's own Keystone user, allowed to validate tokens) are required too"),
        ({"KEYSTONE_AUTH_URL": "iam.example.org/v3", "KEYSTONE_USERNAME": "svc", "KEYSTONE_PASSWORD": "pw"}, "KEYSTONE_AUTH_URL must be an http(s) URL, got 'iam.example.org/v3'"),
        ({"KEYSTONE_CACHE_TTL": "86400"}, "KEYSTONE_CACHE_TTL must be 0 to 3600 seconds, not 86400"),
        ({"KEYSTONE_TIMEOUT": "0"}, "KEYSTONE_TIMEOUT must be over 0 and at most 30, not 0.0"),
    ],
)
def test_keystone_settings_refuse_to_start_when_incomplete_or_out_of_bounds(env, message):
    code, stderr = keystone_settings(**env)
    assert code != 0 and f"ImproperlyConfigured: {message}" in stderr, stderr
