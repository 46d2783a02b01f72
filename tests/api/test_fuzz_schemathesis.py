"""Schema fuzzing: schemathesis reads /v1/openapi.json from a live server and fires generated requests at it.

Every response must be no server error (5xx), carry a documented status code and content type, a
body that conforms to the documented schema, and the documented headers. Valid (positive) and
invalid (negative) requests are both generated, with an admin token so that any project reads;
the path's project is mostly the seeded one, ids and markers mostly real ones, so that pages,
markers and details are exercised and not only 404s. The run is deterministic (derandomized);
``FUZZ_EXAMPLES`` scales it, ``FUZZ_RANDOM=1`` explores new cases.
"""

import copy
import datetime as dt
import os
from collections import Counter

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, assume, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from backups.document.parse import parse_item
from backups.models import ApiToken
from backups.services.upsert import upsert_items

pytestmark = pytest.mark.slow

PROJECT = "fuzz-project"
OTHER_PROJECT = "other-project"
EXAMPLES_PER_MODE = int(os.environ.get("FUZZ_EXAMPLES", "600"))
MIN_REQUESTS = 1000
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
ROUTING_ALIASES = {"count", ".", ".."}
STATUSES = ["available", "error", "protecting", "deleted", "waiting_restore"]
NAMES = ["backup_a", "Backup_B", "ünïcode 備份", "", "O'Reilly; DROP TABLE x--", "a%_b\\c"]


def varied_items(sample, count):
    """``count`` items from the seed's sample: ties on created_at, NULL protected_at, odd names."""
    start = dt.datetime(2017, 4, 15, 4, 20, 37, 277880)
    for n in range(count):
        item = copy.deepcopy(sample)
        item["id"] = f"item-{n:03d}"
        item["name"] = f"{NAMES[n % len(NAMES)]}{n // len(NAMES)}"
        item["status"] = STATUSES[n % len(STATUSES)]
        item["created_at"] = (start + dt.timedelta(hours=n // 3)).isoformat(timespec="microseconds")
        item["protected_at"] = None if n % 4 == 0 else (start + dt.timedelta(days=n % 7)).isoformat()
        item["extend_info"]["image_type"] = "replication" if n % 5 == 0 else "backup"
        item["extend_info"]["dec"] = [True, False, None][n % 3]
        yield item


@pytest.fixture
def fuzz_target(transactional_db, live_server, sample_response, django_user_model):
    sample = sample_response["checkpoint_items"][0]
    items = list(varied_items(sample, 40))
    upsert_items(PROJECT, [parse_item(item) for item in items[:30]])
    upsert_items(OTHER_PROJECT, [parse_item(item) for item in items[30:]])
    user = django_user_model.objects.create(username="fuzzer")
    _, key = ApiToken.issue(user=user, project_id=PROJECT, is_admin=True)
    schema = schemathesis.openapi.from_url(f"{live_server.url}/v1/openapi.json")
    return schema, key, [item["id"] for item in items]


def test_fuzzing_finds_no_server_error_and_no_schema_violation(fuzz_target):
    schema, key, ids = fuzz_target
    operations = sorted(result.ok().label for result in schema.get_all_operations())
    assert len(operations) == 4, operations  # the three of CSBS, and the coverage report (/ext/v1/)
    statuses = Counter()
    session = requests.Session()  # keep-alive: a new connection per request costs more than the request

    def fuzz(mode):
        @given(
            case=schema.as_strategy(generation_mode=mode),
            project=st.sampled_from([PROJECT, PROJECT, PROJECT, None]),
            item_id=st.sampled_from(ids + [None, None]),
        )
        @settings(
            max_examples=EXAMPLES_PER_MODE,
            deadline=None,
            database=None,
            derandomize=os.environ.get("FUZZ_RANDOM") != "1",
            suppress_health_check=list(HealthCheck),
            phases=[Phase.explicit, Phase.generate, Phase.shrink],
        )
        def run(case, project, item_id):
            # …/checkpoint_items/count is the count's path, and URL normalisation turns "." and ".." into
            # other paths: such an item_id names another operation, not a missing item.
            assume(str(case.path_parameters.get("item_id", "")).rstrip("/") not in ROUTING_ALIASES)
            if project is not None and mode is schemathesis.GenerationMode.POSITIVE:
                case.path_parameters["project_id"] = project
            if item_id is not None and mode is schemathesis.GenerationMode.POSITIVE:
                if "item_id" in case.path_parameters:
                    case.path_parameters["item_id"] = item_id
                elif case.operation.path.endswith("checkpoint_items"):
                    case.query = {**(case.query or {}), "marker": item_id}
            response = case.call(session=session, headers={"X-Auth-Token": key}, timeout=30)
            statuses[response.status_code] += 1
            case.validate_response(response, checks=CHECKS)

        run()

    fuzz(schemathesis.GenerationMode.POSITIVE)
    fuzz(schemathesis.GenerationMode.NEGATIVE)
    sent = statuses.total()
    print(f"\nschemathesis: {sent} requests, 0 failures; statuses {dict(sorted(statuses.items()))}")
    assert sent >= MIN_REQUESTS
    assert statuses[200] > sent // 10, "too few successful requests to mean much"
