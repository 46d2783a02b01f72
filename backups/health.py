"""``/healthz``, ``/readyz`` and ``/metrics``: for the load balancer and for Prometheus.

- ``/healthz``: the process answers (no database touched). 200 ``{"status": "ok"}``.
- ``/readyz``: the databases this process needs answer. The primary must answer ``SELECT 1`` (with
  the web process's bounded waits, so a frozen primary is a 503 in seconds). The replica, when one
  is configured, is reported as the router sees it (usable, lag, why not); reads fall back to the
  primary by themselves, so a lagging or absent replica leaves the process ready (taking every app
  server out of rotation at once for it would turn a slower read path into an outage), unless the
  probe asks ``?replica=required``: then an unusable replica is a 503 too.
- ``/metrics``: Prometheus text (``backups.metrics``), for the scraper only.
"""

import hmac
import ipaddress
import os

from django.conf import settings
from django.db import DatabaseError, connections
from django.http import HttpResponse, JsonResponse
from django.views.decorators.http import require_safe
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest

from .db.replica import replica_configured, replica_monitor

NO_STORE = {"Cache-Control": "no-store"}


@require_safe
def healthz(request):
    return JsonResponse({"status": "ok"}, headers=NO_STORE)


@require_safe
def readyz(request):
    body = {"primary": _primary_state()}
    ready = body["primary"] == "ok"
    if replica_configured():
        replica = replica_monitor().snapshot()
        body["replica"] = replica
        body["reads_on"] = "replica" if replica["usable"] else "primary"
        if request.GET.get("replica") == "required" and not replica["usable"]:
            ready = False
    body = {"status": "ready" if ready else "unavailable", **body}
    return JsonResponse(body, status=200 if ready else 503, headers=NO_STORE)


def _primary_state():
    connection = connections["default"]
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as error:
        connection.close()
        return f"unreachable ({error.__class__.__name__})"
    return "ok"


@require_safe
def metrics(request):
    if not _may_scrape(request):
        return HttpResponse("Forbidden\n", status=403, content_type="text/plain")
    registry = REGISTRY
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST, headers=NO_STORE)


def _may_scrape(request):
    token = settings.METRICS_TOKEN
    if token:
        sent = request.META.get("HTTP_AUTHORIZATION", "")
        return hmac.compare_digest(sent.encode(), f"Bearer {token}".encode())
    if "HTTP_X_FORWARDED_FOR" in request.META:
        return False  # came through a proxy: a public caller as far as we can tell
    try:
        return ipaddress.ip_address(request.META.get("REMOTE_ADDR", "")).is_loopback
    except ValueError:
        return False
