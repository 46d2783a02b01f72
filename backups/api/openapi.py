"""The OpenAPI 3 description of the API (drf-spectacular), built from the owners of each rule.

Nothing here restates a rule by hand: the item's JSON Schema (``backups.api.item_schema``) is derived
from ``backups.document.keys``' key tables, each filter parameter from ``CheckpointItemFilterSet``,
``sort`` from ``backups.listing.ordering``, ``limit``/``offset``/``marker`` from the paginator
(``backups.api.pagination.MarkerPagination.get_schema_operation_parameters``), and the error
codes from ``backups.api.errors``. The viewset's actions carry ``list_schema``, ``count_schema`` and
``detail_schema``; ``finish_schema`` (a drf-spectacular postprocessing hook) adds the item and
error schemas they refer to. The description and its docs page (Swagger UI from
drf-spectacular-sidecar, served as static files: nothing is loaded from the internet) are public.
"""

import re

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.renderers import OpenApiJsonRenderer, OpenApiJsonRenderer2
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from drf_spectacular.views import SpectacularJSONAPIView, SpectacularSwaggerView

from backups.listing import ordering
from backups.listing.filtersets import (
    MAX_STRING_LENGTH,
    CheckpointItemFilterSet,
    EnumFilter,
    StrictBooleanFilter,
    StringFilter,
    TimestampFilter,
)
from backups.listing.parameters import unknown_parameter_message
from backups.models import ID_LENGTH
from backups.tenancy import PROJECT_ID_PATTERN

from .errors import ERROR_CODES, ITEM_NOT_FOUND_CODE, InvalidParameter
from .item_schema import NO_NUL_PATTERN, item_json_schema
from .pagination import IGNORED_NOTE, paging_parameters

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error_code", "error_msg"],
    "properties": {
        "error_code": {"type": "string", "pattern": r"^CSBS\.[0-9]{4}$", "example": "CSBS.9001"},
        "error_msg": {"type": "string", "description": "What went wrong and how to fix it."},
    },
}

COMPONENTS = {"CheckpointItem": item_json_schema(), "CSBSError": ERROR_SCHEMA}


def finish_schema(result, generator, request, public):
    """drf-spectacular postprocessing hook: the raw schemas the operations refer to, and the paths
    without the optional trailing slash (the form the real client sends)."""
    result.setdefault("components", {}).setdefault("schemas", {}).update(COMPONENTS)
    result["paths"] = {path.rstrip("/"): operations for path, operations in result["paths"].items()}
    return result


def ref(name):
    return {"$ref": f"#/components/schemas/{name}"}


# --- errors -------------------------------------------------------------------------------------

ERROR_WHEN = {
    400: "A parameter is invalid or unknown; error_msg names it and the rule it broke.",
    401: "No token, or an unknown, expired or revoked one.",
    403: "No permission: another project than the token's, or all_tenants without the admin role.",
    404: "No such path under /v1/.",
    405: "Only GET (and HEAD) are allowed.",
    429: "Too many failed authentication attempts from this client; see Retry-After.",
    500: "Internal error: never a stack trace; the request id identifies it in the server's logs.",
    503: "A dependency is unavailable (the database, or Keystone when configured); the service "
    "recovers by itself.",
}


ITEM_NOT_FOUND_WHEN = (
    f"No such checkpoint item ({ITEM_NOT_FOUND_CODE}; also for an item of another project), "
    f"or no such path ({ERROR_CODES[404]})."
)


def error_response(status, codes=None, when=None):
    """The CSBS error body of ``status``, its ``error_code`` pinned to the codes it may carry."""
    codes = codes or [ERROR_CODES[status]]
    body = {"allOf": [ref("CSBSError"), {"type": "object", "properties": {"error_code": {"enum": codes}}}]}
    return OpenApiResponse(
        response=body, description=f"{when or ERROR_WHEN[status]} error_code: {', '.join(codes)}."
    )


def error_responses(*, item=False):
    """Every error status of an operation; ``item``: 404 may also be the item's own code."""
    responses = {status: error_response(status) for status in ERROR_WHEN}
    if item:
        responses[404] = error_response(404, [ITEM_NOT_FOUND_CODE, ERROR_CODES[404]], ITEM_NOT_FOUND_WHEN)
    return responses


# --- parameters ---------------------------------------------------------------------------------

#: API.md's meaning of each filter; the type and rule come from the filter itself.
FILTER_DESCRIPTIONS = {
    "status": "Exact status.",
    "name": "Case-insensitive substring of the backup name.",
    "az": "Exact match on extend_info.resource_az.",
    "resource_id": "Exact resource id.",
    "resource_name": "Case-insensitive substring of extend_info.resource_name.",
    "start_time": "Items with created_at at or after this instant.",
    "end_time": "Items with created_at at or before this instant; start_time later than end_time: 400.",
    "image_type": "Exact match on extend_info.image_type.",
    "policy_id": "Exact id of the backup policy that produced the item.",
    "ip": "Exact match on backup_data.eip or backup_data.private_ip.",
    "checkpoint_id": "Exact checkpoint id.",
    "resource_type": "Exact resource type, e.g. OS::Nova::Server.",
    "dec": "Dedicated backups (extend_info.dec); an item without dec counts as false.",
    "all_tenants": "Items of every project (the path's project_id then does not restrict them). "
    "Admin only: 403 otherwise.",
}

BOOLEAN_SCHEMA = {
    "type": "string",
    "pattern": "^([Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee]|1|0)$",
    "example": "true",
    "description": "true, false, 1 or 0, in any case",
}
TIME_DESCRIPTION = (
    " ISO 8601: 2017-04-18T01:21:52.701973; fractions, Z and ±HH:MM accepted, a space may stand for the T, "
    "no offset means UTC."
)
EMPTY_MEANS_ABSENT = (
    " An empty value is the same as leaving the parameter out; given twice, the last value counts."
)


def string_schema(max_length):
    return {"type": "string", "maxLength": max_length, "pattern": NO_NUL_PATTERN}


def filter_parameter(name, filter_):
    """The OpenAPI parameter of one ``CheckpointItemFilterSet`` filter."""
    description = FILTER_DESCRIPTIONS[name]
    if isinstance(filter_, EnumFilter):
        type_ = {"type": "string", "enum": [v for v in filter_.extra["values"] if v]}
    elif isinstance(filter_, StrictBooleanFilter):
        type_ = BOOLEAN_SCHEMA
    elif isinstance(filter_, TimestampFilter):
        type_ = {"type": "string", "format": "date-time", "example": "2017-04-18T01:21:52.701973"}
        description += TIME_DESCRIPTION + (
            " A date alone means that day's midnight UTC."
            if filter_.extra.get("allow_date")
            else " A date alone is refused: it is ambiguous here."
        )
    elif isinstance(filter_, StringFilter):
        type_ = string_schema(filter_.extra.get("max_length", MAX_STRING_LENGTH))
    else:
        raise TypeError(f"no OpenAPI type for the filter {name} ({type(filter_).__name__}): add it here")
    return OpenApiParameter(name, type_, OpenApiParameter.QUERY, description=description + EMPTY_MEANS_ABSENT)


def sort_pattern():
    """``sort``'s grammar as a regular expression (a key given twice passes it but is refused: 400)."""
    key = "(" + "|".join(re.escape(k) for k in ordering.SORT_KEYS) + ")"
    direction = "(" + "|".join("".join(f"[{c.upper()}{c}]" for c in d) for d in ordering.DIRECTIONS) + ")"
    token = f" *{key}( *: *{direction})? *"
    return f"^{token}(,{token})*$"


def sort_parameter(note=""):
    """``sort`` (``backups.listing.ordering``); ``limit``, ``marker``, ``offset`` come from the paginator."""
    return OpenApiParameter(
        "sort",
        {
            "type": "string",
            "maxLength": ordering.MAX_SORT_LENGTH,
            "pattern": sort_pattern(),
            "example": "created_at:desc,name:asc",
        },
        description=(
            f"key1[:dir],key2[:dir],… with keys {', '.join(ordering.SORT_KEYS)} and dir asc or desc "
            f"(any case, default {ordering.DEFAULT_DIRECTION}); at most {ordering.MAX_SORT_LENGTH} "
            "characters. A key given twice, an unknown key or direction, an empty token: 400. Default "
            "created_at:desc; id is always the last tie-breaker. NULLs sort as larger than every value."
            + note
        ),
    )


def as_parameter(spec):
    """An OpenAPI parameter object (a dict, as DRF's paginators give them) for ``extend_schema``."""
    return OpenApiParameter(spec["name"], spec["schema"], spec["in"], description=spec["description"])


PROJECT_ID = OpenApiParameter(
    "project_id",
    {"type": "string", "pattern": f"^{PROJECT_ID_PATTERN}$"},
    OpenApiParameter.PATH,
    description="The project (tenant). A non-admin token reads only its own: 403 otherwise.",
)
ITEM_ID = OpenApiParameter(
    "item_id",
    # "count" is the count's path, and a slash ends the segment.
    {
        "type": "string",
        "minLength": 1,
        "maxLength": ID_LENGTH,
        "pattern": "^[^/]+$",
        "not": {"enum": ["count"]},
    },
    OpenApiParameter.PATH,
    description="The checkpoint item's id. An item of another project is 404, as if it did not exist.",
)
REQUEST_ID_SCHEMA = {
    "type": "string",
    "pattern": "^req-[A-Za-z0-9-]{1,64}$",
    "example": "req-4f7d0d8e-3c55-4b1d-9d39-0a0b8c9b2a61",
}
RESPONSE_HEADERS = [
    OpenApiParameter(
        "X-Request-Id",
        REQUEST_ID_SCHEMA,
        OpenApiParameter.HEADER,
        required=True,
        response=True,
        description="The caller's X-Request-Id when it sent a sane one (req- and 1–64 of [A-Za-z0-9-], or a "
        "UUID), else a new req-<uuid>. Also sent as X-Openstack-Request-Id.",
    ),
    OpenApiParameter(
        "X-Openstack-Request-Id",
        REQUEST_ID_SCHEMA,
        OpenApiParameter.HEADER,
        required=True,
        response=True,
        description="The same request id, under OpenStack's name.",
    ),
]
LINK_HEADER = OpenApiParameter(
    "Link",
    {
        "type": "string",
        "example": '<https://backups.example/v1/p/checkpoint_items?limit=50&marker=abc>; rel="next"',
    },
    OpenApiParameter.HEADER,
    response=[200],
    description="On a full page (as many items as limit): <the same query, marker = the page's last id>; "
    'rel="next".',
)
RETRY_AFTER_HEADER = OpenApiParameter(
    "Retry-After",
    {"type": "integer", "minimum": 1},
    OpenApiParameter.HEADER,
    response=[429],
    description="Seconds until this client may try to authenticate again.",
)

FILTER_PARAMETERS = [filter_parameter(name, f) for name, f in CheckpointItemFilterSet.base_filters.items()]
COMMON_PARAMETERS = [PROJECT_ID, *RESPONSE_HEADERS, RETRY_AFTER_HEADER]


def envelope(key, value_schema):
    return {
        "type": "object",
        "required": [key],
        "properties": {key: value_schema},
        "additionalProperties": False,
    }


list_schema = extend_schema(
    operation_id="checkpoint_items_list",
    summary="List checkpoint items",
    description="The project's checkpoint items, filtered, sorted and paged with limit and marker (keyset). "
    "Paging through a whole result set returns every matching item exactly once.",
    parameters=[*COMMON_PARAMETERS, *FILTER_PARAMETERS, sort_parameter(), LINK_HEADER],  # + the paginator's
    responses={
        200: OpenApiResponse(
            response=ref("CheckpointItem"),  # an array in the paginator's envelope
            description="One page of items, in the sort order.",
        ),
        **error_responses(),
    },
    tags=["checkpoint_items"],
)

count_schema = extend_schema(
    operation_id="checkpoint_items_count",
    summary="Count checkpoint items",
    description="How many items the list's filters match.",
    parameters=[
        *COMMON_PARAMETERS,
        *FILTER_PARAMETERS,
        sort_parameter(IGNORED_NOTE),
        *(as_parameter(spec) for spec in paging_parameters(IGNORED_NOTE)),
    ],
    responses={
        200: OpenApiResponse(
            response=envelope("count", {"type": "integer", "minimum": 0}),
            description="The number of matching items.",
        ),
        **error_responses(),
    },
    tags=["checkpoint_items"],
)

detail_schema = extend_schema(
    operation_id="checkpoint_items_retrieve",
    summary="Get one checkpoint item",
    description="One item of the project, by id. Takes no query parameters (any: 400).",
    parameters=[*COMMON_PARAMETERS, ITEM_ID],
    responses={
        200: OpenApiResponse(
            response=envelope("checkpoint_item", ref("CheckpointItem")), description="The item."
        ),
        **error_responses(item=True),
    },
    tags=["checkpoint_items"],
)


# --- security scheme and the public views that serve the description ------------------------------


class TokenAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "backups.api.authentication.TokenAuthentication"
    name = "XAuthToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "X-Auth-Token",
            "description": "A token from `manage.py create_token`: one user, one project, optionally admin.",
        }


class NoParametersMixin:
    """Public, unauthenticated, always the one renderer (any ``Accept``), no query parameters.

    drf-spectacular's views would read ``lang`` and ``version``; an arbitrary ``lang`` creates and
    caches a translation catalogue per value, so any parameter is refused instead.
    """

    authentication_classes = []
    permission_classes = []

    def perform_content_negotiation(self, request, force=False):
        renderer = self.get_renderers()[0]
        return renderer, renderer.media_type

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if request.query_params:
            raise InvalidParameter(unknown_parameter_message(request.query_params))


class OpenAPIView(NoParametersMixin, SpectacularJSONAPIView):
    """``GET /v1/openapi.json``, as ``application/json``."""

    renderer_classes = [OpenApiJsonRenderer2, OpenApiJsonRenderer]


class DocsView(NoParametersMixin, SpectacularSwaggerView):
    """``GET /v1/docs/``: Swagger UI, its assets served from drf-spectacular-sidecar."""

    url_name = "openapi"
