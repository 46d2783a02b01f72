"""Every API error as CSBS writes it: ``{"error_code": "CSBS.xxxx", "error_msg": "..."}``.

``exception_handler`` (DRF's ``EXCEPTION_HANDLER``) turns every exception raised while serving a
request under ``/v1/`` into that body with ``Content-Type: application/json`` — including the
unexpected ones (500, logged with the stack trace but never sent) and an unreachable database
(503: Django reconnects on the next request, so the service recovers by itself).
``not_found`` answers unknown paths under ``/v1/``.
"""
import logging

from django.core.exceptions import SuspiciousOperation
from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import Http404, JsonResponse
from django.views import defaults
from rest_framework import exceptions, status

from backups.listing.keyset import PaginationError
from backups.listing.ordering import SortError

logger = logging.getLogger("backups.api")

#: API.md's table: HTTP status -> error_code.
ERROR_CODES = {
    400: "CSBS.9001",
    401: "CSBS.9401",
    403: "CSBS.9403",
    404: "CSBS.9404",
    405: "CSBS.9405",
    406: "CSBS.9001",
    415: "CSBS.9001",
    429: "CSBS.9429",
    500: "CSBS.9999",
    503: "CSBS.9503",
}
ITEM_NOT_FOUND_CODE = "CSBS.3001"
INTERNAL_ERROR_MESSAGE = "Internal error; the request id identifies it in the logs"


class CSBSError(exceptions.APIException):
    """An API error with its CSBS code; raise it from anywhere in a request."""

    def __init__(self, status_code, message, error_code=None):
        super().__init__(message)
        self.status_code = status_code
        self.error_code = error_code or ERROR_CODES[status_code]


class InvalidParameter(CSBSError):
    def __init__(self, message):
        super().__init__(400, message)


class ItemNotFound(CSBSError):
    def __init__(self, item_id):
        super().__init__(404, f"Checkpoint_item ({item_id}) is not found.", ITEM_NOT_FOUND_CODE)


def error_response(status_code, error_code, message, headers=None):
    response = JsonResponse({"error_code": error_code, "error_msg": message}, status=status_code)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def _message(exc):
    detail = exc.detail
    if isinstance(detail, (list, tuple)):
        return " ".join(str(d) for d in detail)
    if isinstance(detail, dict):
        return " ".join(f"{k}: {v}" for k, v in detail.items())
    return str(detail)


def exception_handler(exc, context):
    if isinstance(exc, (PaginationError, SortError)):
        return error_response(400, ERROR_CODES[400], str(exc))
    if isinstance(exc, CSBSError):
        return error_response(exc.status_code, exc.error_code, str(exc.detail))
    if isinstance(exc, Http404):
        return error_response(404, ERROR_CODES[404], "The resource could not be found.")
    if isinstance(exc, (exceptions.NotAuthenticated, exceptions.AuthenticationFailed)):
        message = _message(exc) if isinstance(exc, exceptions.AuthenticationFailed) else (
            "Authentication required: send a valid token in X-Auth-Token"
        )
        return error_response(401, ERROR_CODES[401], message)
    if isinstance(exc, exceptions.Throttled):
        headers = {"Retry-After": str(exc.wait)} if exc.wait is not None else None
        return error_response(429, ERROR_CODES[429], _message(exc), headers)
    if isinstance(exc, exceptions.MethodNotAllowed):
        return error_response(405, ERROR_CODES[405], _message(exc))
    if isinstance(exc, SuspiciousOperation):  # e.g. more parameters than DATA_UPLOAD_MAX_NUMBER_FIELDS
        return error_response(400, ERROR_CODES[400], f"Bad request: {exc}")
    if isinstance(exc, exceptions.APIException):
        code = ERROR_CODES.get(exc.status_code, ERROR_CODES[500])
        return error_response(exc.status_code, code, _message(exc))
    if isinstance(exc, (OperationalError, InterfaceError)):
        logger.error("database unavailable: %s", exc.__class__.__name__)
        _discard_connections()
        return error_response(
            status.HTTP_503_SERVICE_UNAVAILABLE, ERROR_CODES[503],
            "The service is temporarily unavailable (database unreachable); retry later",
        )
    if isinstance(exc, DatabaseError):
        logger.exception("database error")
    else:
        logger.exception("unexpected error")
    return error_response(500, ERROR_CODES[500], INTERNAL_ERROR_MESSAGE)


def _discard_connections():
    """Drop broken connections now, so the next request connects afresh."""
    from django.db import connections

    for connection in connections.all(initialized_only=True):
        try:
            connection.close()
        except Exception:  # noqa: BLE001 - closing a dead connection may fail; it is gone either way
            pass


def not_found(request, *args, **kwargs):
    """Unknown path under ``/v1/``."""
    return error_response(404, ERROR_CODES[404], f"No such path: {request.path[:200]}")


# --- Django's own error views: CSBS JSON under /v1/, the usual pages elsewhere ---------------------


def _is_api(request):
    return request.path.startswith(("/v1/", "/ext/"))


def handler400(request, exception=None):
    if _is_api(request):
        return error_response(400, ERROR_CODES[400], "Bad request")
    return defaults.bad_request(request, exception)


def handler403(request, exception=None):
    if _is_api(request):
        return error_response(403, ERROR_CODES[403], "No permission")
    return defaults.permission_denied(request, exception)


def handler404(request, exception=None):
    if _is_api(request):
        return not_found(request)
    return defaults.page_not_found(request, exception)


def handler500(request):
    if _is_api(request):
        return error_response(500, ERROR_CODES[500], INTERNAL_ERROR_MESSAGE)
    return defaults.server_error(request, template_name="errors/500.html")
