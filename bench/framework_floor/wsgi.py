"""``gunicorn bench.framework_floor.wsgi``: the framework floor, the project's settings without middleware."""

import os

from django.core.wsgi import get_wsgi_application

os.environ["DJANGO_SETTINGS_MODULE"] = "bench.framework_floor.settings"

application = get_wsgi_application()
