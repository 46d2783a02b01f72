"""The project's settings without middleware, with the framework floor's URLs."""

from project.settings import *  # noqa: F401,F403

MIDDLEWARE = []
ROOT_URLCONF = "bench.framework_floor.views"
