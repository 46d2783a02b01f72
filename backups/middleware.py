"""Request ids: every response carries one, and every log line of the request names it.

The id is the caller's ``X-Request-Id`` when it sent a sane one (``req-`` followed by 1–64 of
``[A-Za-z0-9-]``, or a bare UUID, which gets the prefix), else a new ``req-<uuid4>``. It is sent
back as ``X-Request-Id`` (Huawei) and ``X-Openstack-Request-Id`` (OpenStack). Anything else the
caller put in the header is ignored, so nothing can be injected into headers or logs through it.

``DatabaseUnavailableMiddleware`` turns an unreachable database into a 503 page outside the API.

``MessageMiddleware`` is Django's, with its storage built when a request first uses it.
"""
import contextvars
import logging
import os
import re

from django.contrib.messages import middleware as messages_middleware
from django.contrib.messages.storage import default_storage
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils.functional import SimpleLazyObject, empty

_SANE = re.compile(r"req-[A-Za-z0-9-]{1,64}", re.ASCII)
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}", re.ASCII)

current_request_id = contextvars.ContextVar("request_id", default="-")


def new_request_id():
    """``req-`` and a random (version 4) UUID, written straight from 16 random bytes.

    The same text as ``f"req-{uuid.uuid4()}"``, for a tenth of its work: every request pays it.
    """
    digits = os.urandom(16).hex()
    variant = "89ab"[int(digits[16], 16) & 3]  # RFC 4122: the variant's two bits are 10
    return f"req-{digits[:8]}-{digits[8:12]}-4{digits[13:16]}-{variant}{digits[17:20]}-{digits[20:]}"


def request_id_from(header):
    if header:
        if _SANE.fullmatch(header):
            return header
        if _UUID.fullmatch(header):
            return f"req-{header.lower()}"
    return new_request_id()


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = request_id_from(request.META.get("HTTP_X_REQUEST_ID"))
        request.request_id = request_id
        token = current_request_id.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            current_request_id.reset(token)
        response["X-Request-Id"] = request_id
        response["X-Openstack-Request-Id"] = request_id
        return response


class RequestIdLogFilter(logging.Filter):
    """Adds ``request_id`` to every log record (``-`` outside a request)."""

    def filter(self, record):
        request = getattr(record, "request", None)  # django.request logs after the middleware ran
        record.request_id = getattr(request, "request_id", None) or current_request_id.get()
        return True


class DatabaseUnavailableMiddleware:
    """Pages outside the API: an unreachable database is a friendly 503 page, not a 500.

    The API answers its own CSBS 503 (``backups.api.errors``). Django drops the broken connection
    when the request ends, so the next request after the database is back succeeds. The page is
    rendered without the request's context: its processors (the user, messages) need the database.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if request.path.startswith("/v1/") or not isinstance(exception, (OperationalError, InterfaceError)):
            return None
        logging.getLogger("backups").error("database unavailable: %s", exception.__class__.__name__)
        body = render_to_string("errors/503.html", {"request_id": getattr(request, "request_id", "")})
        return HttpResponse(body, status=503, headers={"Retry-After": "30"})


class MessageMiddleware(messages_middleware.MessageMiddleware):
    """Django's ``MessageMiddleware``, whose storage is built when the request first uses it.

    Building it (a cookie storage with its signer, and a session storage) is most of what the
    middleware costs, and most requests never use messages: none of the API's, few pages. A
    storage that was never used has nothing to store when the response goes out (Django's
    ``update`` stores only used or added messages), so that step is skipped too; used, it is
    Django's as ever.
    """

    def process_request(self, request):
        request._messages = SimpleLazyObject(lambda: default_storage(request))

    def process_response(self, request, response):
        messages = getattr(request, "_messages", None)
        if isinstance(messages, SimpleLazyObject) and messages._wrapped is empty:
            return response
        return super().process_response(request, response)
