"""The project's settings, with the peer's URLs: ``DJANGO_SETTINGS_MODULE=bench.peer.settings``."""

from project.settings import *  # noqa: F401,F403
from project.settings import REST_FRAMEWORK

ROOT_URLCONF = "bench.peer.urls"
# The seed's timestamp format (UTC, no offset, six fraction digits), as a peer would configure it.
REST_FRAMEWORK = {**REST_FRAMEWORK, "DATETIME_FORMAT": "%Y-%m-%dT%H:%M:%S.%f"}
