"""What-if settings of ours for the bench: psycopg 3 with server-side binding (``--ours-settings``).

    /path/to/venv-with-psycopg3/bin/python bench/run.py --quick --ours-settings bench.settings_psycopg3

Django uses psycopg 3 when it is installed (the service pins psycopg2); with server-side binding
the parameters travel apart from the SQL and psycopg 3 prepares a statement on the server once the
same query has run ``prepare_threshold`` times (5) on a connection, so PostgreSQL plans it once.
Used only to measure what that would change; not a setting of the service.
"""
from project.settings import *  # noqa: F403

DATABASES["default"]["OPTIONS"]["server_side_binding"] = True  # noqa: F405
