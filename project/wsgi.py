"""WSGI entry point: ``gunicorn project.wsgi``.

A web process bounds its database waits (``backups.db.timeouts``): ``DB_QUERY_TIMEOUT`` defaults to
3 seconds here (statements cancelled by the server past it, a silent server given up 1 s later),
whereas management commands are unbounded.
"""
import os

from django.conf import settings
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
os.environ.setdefault("DB_QUERY_TIMEOUT", "3")

application = get_wsgi_application()

from backups.db import timeouts  # noqa: E402 - after Django's setup

timeouts.install(settings.DB_CONNECT_TIMEOUT, settings.DB_QUERY_TIMEOUT)
