"""Persistent connections are checked by a look at the socket (project.db_health), not by a SELECT 1 round trip.

On PostgreSQL: a healthy idle connection is kept and no statement is sent to check it (the
backend's last statement, in ``pg_stat_activity``, is still the request's own); a connection the
server ended (``pg_terminate_backend``) is replaced before the next request's first query, so
that request succeeds; without the check it would fail, which the last test shows.
"""
import select
import time

import psycopg2
import pytest
from django.core.signals import request_started
from django.db import connection
from django.test import Client

from backups.models import ApiToken
from project.db_health import close_broken_connections
from tests.factories import create_items, item_dict

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

P = "proj-a"
URL = f"/v1/{P}/checkpoint_items"


@pytest.fixture
def api(django_user_model):
    create_items(P, item_dict(id="only-item"))
    user = django_user_model.objects.create(username="alice")
    return Client(headers={"X-Auth-Token": ApiToken.issue(user=user, project_id=P)[1]})


@pytest.fixture
def other_session():
    """A second connection to the same database, to watch and to end our backend."""
    session = psycopg2.connect(**connection.get_connection_params())
    session.autocommit = True
    yield session.cursor()
    session.close()


def last_statement(cursor, pid):
    cursor.execute("SELECT query FROM pg_stat_activity WHERE pid = %s", [pid])
    return cursor.fetchone()[0]


def end_backend(cursor, pid):
    """``pg_terminate_backend`` our backend, then wait until its FATAL notice reaches our socket."""
    raw = connection.connection
    cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    assert select.select([raw.fileno()], [], [], 5)[0], "the server's goodbye never arrived"
    time.sleep(0.05)  # the notice and the close may come in two segments


def test_django_sends_no_select_1_before_a_request_on_postgresql(settings):
    assert settings.DATABASES["default"]["CONN_HEALTH_CHECKS"] is False


def test_a_healthy_idle_connection_is_kept_and_checked_without_a_statement(api, other_session):
    assert api.get(URL, {"limit": 1}).status_code == 200
    raw, pid = connection.connection, connection.connection.info.backend_pid
    page_query = last_statement(other_session, pid)
    assert "backups_checkpointitem" in page_query

    close_broken_connections()

    assert connection.connection is raw
    assert last_statement(other_session, pid) == page_query
    connection.is_usable()  # what Django's own check would have sent
    assert last_statement(other_session, pid) == "SELECT 1"


def test_a_connection_the_server_ended_is_replaced_before_the_next_request(api, other_session):
    assert api.get(URL, {"limit": 1}).status_code == 200
    pid = connection.connection.info.backend_pid
    end_backend(other_session, pid)

    response = api.get(URL, {"limit": 1})

    assert response.status_code == 200, response.content
    assert connection.connection.info.backend_pid != pid


def test_without_the_check_a_request_after_the_server_ended_the_connection_fails(api, other_session):
    assert api.get(URL, {"limit": 1}).status_code == 200
    end_backend(other_session, connection.connection.info.backend_pid)
    request_started.disconnect(close_broken_connections, dispatch_uid="backups.close_broken_connections")
    try:
        response = api.get(URL, {"limit": 1})
    finally:
        request_started.connect(close_broken_connections, dispatch_uid="backups.close_broken_connections")
        connection.close()  # the broken one, before the test database is flushed
    assert (response.status_code, response.json()["error_code"]) == (503, "CSBS.9503")
