"""The router's rules, table-driven, without servers (the live pair is in test_replica_routing.py).

The replica's health and the connections are stand-ins here, so that every rule is checked alone;
whether the rules hold on a real primary and replica is what the live tests check.
"""

import time
from types import SimpleNamespace

import pytest
from django.contrib.sessions.models import Session
from django.http import HttpResponse
from django.test import RequestFactory

from backups.db import router as routing
from backups.models import CheckpointItem

CACHE_ENTRY = SimpleNamespace(_meta=SimpleNamespace(app_label="django_cache"))  # DatabaseCache's model


class Monitor:
    def __init__(self, usable=True):
        self._usable = usable
        self.downs = []

    def usable(self):
        return self._usable

    def mark_down(self, reason):
        self._usable = False
        self.downs.append(reason)


@pytest.fixture
def world(monkeypatch):
    world = SimpleNamespace(
        monitor=Monitor(),
        connections={
            "default": SimpleNamespace(in_atomic_block=False),
            "replica": SimpleNamespace(connection=object(), errors_occurred=False, closed=0),
        },
    )
    world.connections["replica"].close = lambda: setattr(world.connections["replica"], "closed", 1)
    monkeypatch.setattr(routing, "replica_monitor", lambda: world.monitor)
    monkeypatch.setattr(routing, "connections", world.connections)
    return world


def serve(method="GET", cookies=None, view=None):
    """Run a request through the middleware; ``view(router)`` returns what it wants to record."""
    request = getattr(RequestFactory(), method.lower())("/v1/p/checkpoint_items")
    request.COOKIES.update(cookies or {})
    seen = []

    def get_response(request):
        seen.append(view(routing.PrimaryReplicaRouter()))
        return HttpResponse("ok")

    response = routing.ReplicaRoutingMiddleware(get_response)(request)
    return seen, response


def read(router, model=CheckpointItem):
    return router.db_for_read(model)


def test_outside_a_request_every_read_is_on_the_primary(world):
    assert routing.PrimaryReplicaRouter().db_for_read(CheckpointItem) == "default"


@pytest.mark.parametrize(
    "method, usable, model, expected",
    [
        ("GET", True, CheckpointItem, "replica"),
        ("HEAD", True, CheckpointItem, "replica"),
        ("GET", True, Session, "replica"),
        ("GET", False, CheckpointItem, "default"),  # replica down or lagging
        ("POST", True, CheckpointItem, "default"),  # an unsafe method reads its own writes
        ("DELETE", True, CheckpointItem, "default"),
        ("GET", True, CACHE_ENTRY, "default"),  # the throttle's read-modify-write
    ],
)
def test_where_a_read_goes(world, method, usable, model, expected):
    world.monitor._usable = usable
    seen, _ = serve(method, view=lambda router: read(router, model))
    assert seen == [expected]


def test_a_read_inside_a_transaction_on_the_primary_stays_there(world):
    world.connections["default"].in_atomic_block = True
    assert serve(view=read)[0] == ["default"]


def test_after_a_write_the_request_reads_on_the_primary_and_the_client_is_pinned(world):
    def view(router):
        before = read(router)
        assert router.db_for_write(CheckpointItem) == "default"
        return before, read(router)

    seen, response = serve(view=view)
    assert seen == [("replica", "default")]
    pin = response.cookies[routing.PIN_COOKIE]
    assert int(pin["max-age"]) == 7 and pin["httponly"] and pin["samesite"] == "Lax"
    assert int(pin.value) == pytest.approx(time.time() + 7, abs=2)


def test_a_cache_write_neither_pins_nor_moves_the_reads(world):
    def view(router):
        router.db_for_write(CACHE_ENTRY)
        return read(router)

    seen, response = serve(view=view)
    assert seen == ["replica"] and routing.PIN_COOKIE not in response.cookies


@pytest.mark.parametrize(
    "pin, expected",
    [
        (lambda now: now + 5, "default"),  # pinned by a recent write
        (lambda now: now - 1, "replica"),  # expired
        (lambda now: now + 3600, "replica"),  # forged: later than any pin we set
        (lambda now: "soon", "replica"),  # not a number
    ],
)
def test_the_pin_cookie(world, pin, expected):
    value = pin(time.time())
    seen, _ = serve(cookies={routing.PIN_COOKIE: str(int(value) if not isinstance(value, str) else value)}, view=read)
    assert seen == [expected]


def test_a_get_whose_replica_failed_is_served_again_from_the_primary(world):
    def view(router):
        where = read(router)
        if where == "replica":
            world.connections["replica"].errors_occurred = True  # as Django records a failed query
        return where

    seen, response = serve(view=view)
    assert seen == ["replica", "default"] and response.status_code == 200
    assert world.monitor.downs == ["a request's query failed"] and world.connections["replica"].closed


def test_a_replica_that_cannot_be_connected_to_is_marked_down_and_the_read_goes_to_the_primary(world):
    def refuse():
        raise OSError("connection refused")

    world.connections["replica"].connection = None
    world.connections["replica"].ensure_connection = refuse
    assert serve(view=read)[0] == ["default"]
    assert world.monitor.downs == ["connect failed: OSError"]


def test_the_router_never_migrates_the_replica():
    router = routing.PrimaryReplicaRouter()
    assert (router.allow_migrate("default", "backups"), router.allow_migrate("replica", "backups")) == (True, False)
