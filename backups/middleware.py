"""Request ids: every response carries one, and every log line of the request names it.

The id is the caller's ``X-Request-Id`` when it sent a sane one (``req-`` followed by 1–64 of
``[A-Za-z0-9-]``, or a bare UUID, which gets the prefix), else a new ``req-<uuid4>``. It is sent
back as ``X-Request-Id`` (Huawei) and ``X-Openstack-Request-Id`` (OpenStack). Anything else the
caller put in the header is ignored, so nothing can be injected into headers or logs through it.
"""
import contextvars
import logging
import re
import uuid

_SANE = re.compile(r"req-[A-Za-z0-9-]{1,64}", re.ASCII)
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}", re.ASCII)

current_request_id = contextvars.ContextVar("request_id", default="-")


def request_id_from(header):
    if header:
        if _SANE.fullmatch(header):
            return header
        if _UUID.fullmatch(header):
            return f"req-{header.lower()}"
    return f"req-{uuid.uuid4()}"


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
