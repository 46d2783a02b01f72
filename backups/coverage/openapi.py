"""The OpenAPI description of ``GET /ext/v1/{project_id}/coverage``, from the owners of each rule.

The filters come from ``CheckpointItemFilterSet`` through ``backups.api.schema.filter_parameter``,
``limit`` from the list's paging description, the errors from ``backups.api.schema``; the
report's own parameters from ``CoverageForm``'s bounds and ``report.CATEGORY_CHOICES``.
"""

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema

from ..api.item_schema import TIMESTAMP_PATTERN
from ..api.openapi import (
    COMMON_PARAMETERS,
    TIME_DESCRIPTION,
    as_parameter,
    error_response,
    error_responses,
    filter_parameter,
)
from ..api.pagination import paging_parameters
from ..listing.filtersets import CheckpointItemFilterSet
from ..listing.keyset import MAX_OFFSET
from . import parameters
from .report import ANY, CATEGORY_CHOICES, NOT_REPLICATED, PENDING, REPLICATED

FILTER_NOTE = " Applied to each backup before the report is computed, as the list applies it."

OWN_PARAMETERS = [
    OpenApiParameter(
        "days",
        {"type": "integer", "minimum": 1, "maximum": parameters.MAX_DAYS, "default": parameters.DEFAULT_DAYS},
        description="A resource is unprotected when its newest good backup was created more than this many "
        "days before as_of (or never). A good backup exactly that old still covers it.",
    ),
    OpenApiParameter(
        "failures",
        {"type": "integer", "minimum": 1, "maximum": parameters.MAX_FAILURES,
         "default": parameters.DEFAULT_FAILURES},
        description="A resource is failing when at least this many of its newest backups failed in a row "
        "(running backups skipped).",
    ),
    OpenApiParameter(
        "as_of",
        {"type": "string", "format": "date-time", "example": "2026-03-01T00:00:00Z"},
        description="The instant of the report (default now): only backups created at or before it count; "
        "statuses are the current ones."
        + TIME_DESCRIPTION
        + " A date alone is refused: it is ambiguous here.",
    ),
    OpenApiParameter(
        "category",
        {"type": "string", "enum": list(CATEGORY_CHOICES), "default": ANY},
        description="Which resources to list: any (in at least one category), unprotected, failing, "
        "unreplicated, or all (every resource). The counts always cover every category.",
    ),
]
OFFSET = OpenApiParameter(
    "offset",
    {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET, "default": 0},
    description="Skips that many resources of the report's order.",
)
PAGING = [as_parameter(p) for p in paging_parameters() if p["name"] == "limit"] + [OFFSET]
FILTERS = [
    filter_parameter(name, CheckpointItemFilterSet.base_filters[name]) for name in parameters.FILTERS
]
for _parameter in FILTERS:
    if _parameter.name == "all_tenants":
        _parameter.description = (
            "Every project the caller may read (every project for an admin token, only its own for another "
            "token, the member projects for a logged-in user), instead of the path's project."
        )
    else:
        _parameter.description += FILTER_NOTE

TIME = {"type": "string", "pattern": TIMESTAMP_PATTERN, "example": "2026-03-01T04:20:37.277880"}
NULLABLE_TIME = {**TIME, "nullable": True}
BACKUP = {
    "type": "object",
    "required": ["id", "created_at", "status"],
    "properties": {"id": {"type": "string"}, "created_at": TIME, "status": {"type": "string"}},
}
NULLABLE_STRING = {"type": "string", "nullable": True}
RESOURCE = {
    "type": "object",
    "properties": {
        "project_id": {"type": "string"},
        "resource_id": {"type": "string"},
        "resource_name": NULLABLE_STRING,
        "resource_type": NULLABLE_STRING,
        "resource_az": NULLABLE_STRING,
        "categories": {"type": "array", "items": {"type": "string", "enum": list(CATEGORY_CHOICES[1:4])}},
        "why": {"type": "string", "description": "One sentence for a person: what is wrong, or Covered."},
        "backup_count": {"type": "integer", "description": "Backups that count, deleted ones left out."},
        "last_backup": {**BACKUP, "description": "The newest backup, of any status (deleted included)."},
        "last_available_backup": {
            **BACKUP, "nullable": True,
            "description": "The newest good backup: available, waiting_restore or restoring.",
        },
        "newest_available_replication": {
            "type": "string", "nullable": True, "enum": [REPLICATED, PENDING, NOT_REPLICATED, None],
        },
        "failure_streak": {"type": "integer", "minimum": 0},
        "failing_since": NULLABLE_TIME,
        "latest_fail_reason": NULLABLE_STRING,
        "last_replication": {
            "type": "object",
            "nullable": True,
            "properties": {
                "backup": {"type": "object", "properties": {"id": {"type": "string"}, "created_at": TIME}},
                "replicated_at": NULLABLE_TIME,
                "destination_region": NULLABLE_STRING,
            },
        },
    },
}
RESOURCE["required"] = list(RESOURCE["properties"])
COUNTS = {
    "type": "object",
    "required": ["resources", *CATEGORY_CHOICES[1:4], ANY],
    "properties": {name: {"type": "integer", "minimum": 0} for name in ["resources", *CATEGORY_CHOICES[:4]]},
}
REPORT = {
    "type": "object",
    "required": ["as_of", "days", "failures", "category", "counts", "resources"],
    "properties": {
        "as_of": TIME,
        "days": {"type": "integer"},
        "failures": {"type": "integer"},
        "category": {"type": "string", "enum": list(CATEGORY_CHOICES)},
        "counts": COUNTS,
        "resources": {"type": "array", "items": RESOURCE},
    },
}

coverage_schema = extend_schema(
    operation_id="coverage_report",
    summary="Protection coverage of the project's resources",
    description="One row per resource (project, resource_id): its last backup, last good backup, failure "
    "streak and replication, with the resources that have no good backup in the last `days` days, that fail "
    "`failures` times in a row, or whose newest good backup was not replicated while earlier ones were. "
    "The rules are in docs/API.md.",
    parameters=[*COMMON_PARAMETERS, *FILTERS, *OWN_PARAMETERS, *PAGING],
    responses={
        200: OpenApiResponse(response=REPORT, description="One page of the report."),
        **error_responses(),
        403: error_response(403, when="No permission: another project than the token's."),
    },
    tags=["coverage"],
)
