"""API tokens: create_token and revoke_token, hashed storage, expiry, and API.md's auth and tenancy matrix."""
import copy
import hashlib
import json
from datetime import timedelta
from io import StringIO

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from backups.document.parse import parse_item
from backups.models import ApiToken, CheckpointItem, ProjectMembership
from backups.services.upsert import upsert_items
from tests.conftest import SAMPLE_RESPONSE_PATH

pytestmark = pytest.mark.django_db

OWN, OTHER = "proj-own", "proj_other"
SAMPLE_ID = "90c1d5fa-1b9f-4aeb-b2f4-81c806e98190"  # the seed's sample item, imported into OWN
OTHER_ITEM = "item-of-the-other-project"

NO_TOKEN = {
    "error_code": "CSBS.9401",
    "error_msg": "Authentication required: send a valid token in X-Auth-Token",
}
BAD_TOKEN = {"error_code": "CSBS.9401", "error_msg": "Authentication failed: the token is invalid or expired"}
ALL_TENANTS_FORBIDDEN = {
    "error_code": "CSBS.9403",
    "error_msg": "No permission: all_tenants=true is allowed for admins only",
}
BAD_DEC = {"error_code": "CSBS.9001", "error_msg": "Invalid dec 'maybe': must be true, false, 1 or 0"}
LIMIT_ZERO = {"error_code": "CSBS.9001", "error_msg": "Invalid limit '0': must be an integer from 1 to 1000"}


def forbidden(project_id):
    return {"error_code": "CSBS.9403", "error_msg": f"No permission to read project {project_id}"}


def not_found(item_id):
    return {"error_code": "CSBS.3001", "error_msg": f"Checkpoint_item ({item_id}) is not found."}


def bad_marker(item_id):
    return {"error_code": "CSBS.9001", "error_msg": f"Invalid marker '{item_id}': no such checkpoint item"}


@pytest.fixture(autouse=True)
def fresh_failure_counters():
    """Failed authentications of earlier tests count towards the 429 limit (backups.api.throttling)."""
    cache.clear()


# --- helpers -----------------------------------------------------------------------------------


def run(command, *args):
    """Run a management command as from the shell; return its output lines."""
    out = StringIO()
    call_command(command, *args, stdout=out)
    return out.getvalue().splitlines()


def create_token(*args):
    """``create_token`` with these arguments; return ``(output lines, the token on the last line)``."""
    lines = run("create_token", *args)
    return lines, lines[-1]


def api_get(client, path, token=None, **params):
    headers = {"HTTP_X_AUTH_TOKEN": token} if token is not None else {}
    return client.get(path, params, **headers)


def answer(response):
    """``(status, body)`` of a CSBS JSON response, after checking its Content-Type."""
    assert response["Content-Type"] == "application/json", response.content[:200]
    return response.status_code, json.loads(response.content)


def document(item_id):
    return json.loads(CheckpointItem.objects.get(pk=item_id).document)


def items_url(project_id):
    return f"/v1/{project_id}/checkpoint_items"


@pytest.fixture
def items():
    """The seed's sample in OWN, a copy of it in OTHER."""
    sample = json.loads(SAMPLE_RESPONSE_PATH.read_text(encoding="utf-8"))["checkpoint_items"][0]
    other = copy.deepcopy(sample) | {"id": OTHER_ITEM, "name": "other project's backup"}
    upsert_items(OWN, [parse_item(sample)])
    upsert_items(OTHER, [parse_item(other)])


# --- create_token --------------------------------------------------------------------------------


def test_create_token_prints_the_token_on_the_last_line_and_it_authenticates(client, items):
    lines, token = create_token("--user", "alice", "--project", OWN)

    assert lines == [
        "Created user alice (no password; it signs in with tokens).",
        f"Token for alice on {OWN} (project member, never expires, prefix {token[:8]}). "
        "It is shown only once; store it now:",
        token,
    ]
    own_items = {"checkpoint_items": [document(SAMPLE_ID)]}
    assert answer(api_get(client, items_url(OWN), token)) == (200, own_items)


def test_create_token_for_an_existing_user_keeps_it_and_says_nothing_of_creating_it(client, items):
    User = get_user_model()
    User.objects.create_user("bob", password="bob's own password")

    lines, token = create_token("--user", "bob", "--project", OWN)

    assert lines == [
        f"Token for bob on {OWN} (project member, never expires, prefix {token[:8]}). "
        "It is shown only once; store it now:",
        token,
    ]
    assert User.objects.get(username="bob").check_password("bob's own password")


def test_create_token_creates_the_user_without_a_usable_password():
    create_token("--user", "carol", "--project", OWN)

    user = get_user_model().objects.get(username="carol")
    assert (user.has_usable_password(), user.is_active, user.is_staff) == (False, True, False)


def test_create_token_records_the_membership_once():
    create_token("--user", "dave", "--project", OWN)
    create_token("--user", "dave", "--project", OWN)
    create_token("--user", "dave", "--project", OTHER)

    memberships = ProjectMembership.objects.filter(user__username="dave").values_list("project_id", flat=True)
    assert sorted(memberships) == sorted([OWN, OTHER])
    assert ApiToken.objects.filter(user__username="dave").count() == 3


def test_token_is_stored_hashed_and_appears_nowhere_in_the_database():
    _, token = create_token("--user", "erin", "--project", OWN, "--admin", "--expires-in", "3")

    stored = ApiToken.objects.get()
    assert (stored.key_hash, stored.prefix, stored.project_id, stored.is_admin) == (
        hashlib.sha256(token.encode()).hexdigest(),
        token[: ApiToken.PREFIX_LENGTH],
        OWN,
        True,
    )
    for model in apps.get_models():
        for row in model.objects.values():
            for column, value in row.items():
                assert token not in str(value), f"{model.__name__}.{column} holds the token"


def test_expiring_token_works_until_its_expiry_then_is_refused(client, items, monkeypatch):
    before = timezone.now()
    lines, token = create_token("--user", "frank", "--project", OWN, "--expires-in", "2")

    expires_at = ApiToken.objects.get().expires_at
    assert before + timedelta(days=2) <= expires_at <= timezone.now() + timedelta(days=2)
    assert f"expires {expires_at:%Y-%m-%d %H:%M:%S} UTC" in lines[-2]
    monkeypatch.setattr(timezone, "now", lambda: expires_at - timedelta(seconds=1))
    assert answer(api_get(client, items_url(OWN), token))[0] == 200
    monkeypatch.setattr(timezone, "now", lambda: expires_at)
    assert answer(api_get(client, items_url(OWN), token)) == (401, BAD_TOKEN)


def test_admin_token_may_use_all_tenants_and_a_plain_one_may_not(client, items):
    lines, admin = create_token("--user", "grace", "--project", OWN, "--admin")
    _, member = create_token("--user", "heidi", "--project", OWN)

    assert "(admin, never expires, " in lines[-2]
    assert answer(api_get(client, items_url(OWN), admin, all_tenants="true")) == (
        200,
        {"checkpoint_items": [document(OTHER_ITEM), document(SAMPLE_ID)]},  # created_at desc, then id desc
    )
    assert answer(api_get(client, items_url(OWN), member, all_tenants="true")) == (403, ALL_TENANTS_FORBIDDEN)


def test_token_of_an_inactive_user_is_refused(client, items):
    _, token = create_token("--user", "ivan", "--project", OWN)
    get_user_model().objects.filter(username="ivan").update(is_active=False)

    assert answer(api_get(client, items_url(OWN), token)) == (401, BAD_TOKEN)


def test_create_token_refuses_an_inactive_user():
    get_user_model().objects.create_user("judy", is_active=False)

    with pytest.raises(CommandError, match="^User 'judy' is inactive: reactivate it before issuing a token$"):
        create_token("--user", "judy", "--project", OWN)
    assert not ApiToken.objects.exists()


PROJECT_RULE = "a project id is 1-64 characters of letters, digits, '_' and '-'"
KIM = ["--user", "kim", "--project", OWN]
EXPIRES_RULE = "give a whole number of days from 1 to 36500, or leave it out for a token that never expires"


@pytest.mark.parametrize(
    "args, message",
    [
        (["--project", OWN], "Error: the following arguments are required: --user"),
        (["--user", "kim"], "Error: the following arguments are required: --project"),
        (["--user", "kim", "--project", ""], f"Invalid --project '': {PROJECT_RULE}"),
        (["--user", "kim", "--project", "has space"], f"Invalid --project 'has space': {PROJECT_RULE}"),
        (["--user", "kim", "--project", "a/b"], f"Invalid --project 'a/b': {PROJECT_RULE}"),
        (["--user", "kim", "--project", "p" * 65], f"Invalid --project '{'p' * 65}': {PROJECT_RULE}"),
        (["--user", "kim", "--project", "é"], f"Invalid --project 'é': {PROJECT_RULE}"),
        ([*KIM, "--expires-in", "0"], f"Invalid --expires-in '0': {EXPIRES_RULE}"),
        ([*KIM, "--expires-in", "-1"], f"Invalid --expires-in '-1': {EXPIRES_RULE}"),
        ([*KIM, "--expires-in", "1.5"], f"Invalid --expires-in '1.5': {EXPIRES_RULE}"),
        ([*KIM, "--expires-in", "ten"], f"Invalid --expires-in 'ten': {EXPIRES_RULE}"),
        ([*KIM, "--expires-in", ""], f"Invalid --expires-in '': {EXPIRES_RULE}"),
        ([*KIM, "--expires-in", "36501"], f"Invalid --expires-in '36501': {EXPIRES_RULE}"),
        (["--user", "", "--project", OWN], "Invalid --user '': This field cannot be blank."),
        (
            ["--user", "no spaces", "--project", OWN],
            "Invalid --user 'no spaces': Enter a valid username. This value may contain only letters, "
            "numbers, and @/./+/-/_ characters.",
        ),
    ],
)
def test_create_token_refuses_invalid_arguments(args, message):
    with pytest.raises(CommandError) as raised:
        create_token(*args)

    assert str(raised.value) == message
    assert (ApiToken.objects.count(), get_user_model().objects.count()) == (0, 0)


def test_create_token_accepts_the_largest_expiry():
    create_token("--user", "leo", "--project", "P" * 64, "--expires-in", "36500")

    assert ApiToken.objects.get().project_id == "P" * 64


# --- revoke_token --------------------------------------------------------------------------------


@pytest.fixture
def tokens():
    """Four tokens: alice on OWN and OTHER, bob on OWN, and an expired one of bob's on OTHER."""
    issued = {
        "alice-own": create_token("--user", "alice", "--project", OWN)[1],
        "alice-other": create_token("--user", "alice", "--project", OTHER)[1],
        "bob-own": create_token("--user", "bob", "--project", OWN)[1],
        "bob-expired": create_token("--user", "bob", "--project", OTHER, "--expires-in", "1")[1],
    }
    ApiToken.objects.filter(key_hash=ApiToken.hash(issued["bob-expired"])).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    return issued


def remaining(tokens):
    """Names of the fixture's tokens still stored."""
    stored = set(ApiToken.objects.values_list("key_hash", flat=True))
    return sorted(name for name, token in tokens.items() if ApiToken.hash(token) in stored)


@pytest.mark.parametrize(
    "args, revoked, summary",
    [
        (["--user", "alice"], ["alice-other", "alice-own"], "Revoked 2 tokens (user alice, every project)."),
        (
            ["--user", "alice", "--project", OTHER],
            ["alice-other"],
            f"Revoked 1 token (user alice, project {OTHER}).",
        ),
        (["--user", "bob", "--project", "nowhere"], [], "Revoked 0 tokens (user bob, project nowhere)."),
        (["--all-expired"], ["bob-expired"], "Revoked 1 token (expired)."),
    ],
)
def test_revoke_token_deletes_the_selection_and_says_how_many(tokens, args, revoked, summary):
    lines = run("revoke_token", *args)

    assert lines[-1] == summary
    assert len(lines) == len(revoked) + 1
    assert remaining(tokens) == sorted(set(tokens) - set(revoked))
    assert not any(token in line for token in tokens.values() for line in lines)


def test_revoke_token_by_prefix_lists_the_prefix_and_never_the_token(tokens):
    token = tokens["bob-own"]

    assert run("revoke_token", f"--prefix={token[:8]}") == [
        f"  {token[:8]}… of bob on {OWN}",
        f"Revoked 1 token (prefix {token[:8]}).",
    ]
    assert remaining(tokens) == ["alice-other", "alice-own", "bob-expired"]


def test_revoked_token_is_refused(client, items, tokens):
    assert answer(api_get(client, items_url(OWN), tokens["alice-own"]))[0] == 200

    run("revoke_token", "--prefix", tokens["alice-own"][:8])

    assert answer(api_get(client, items_url(OWN), tokens["alice-own"])) == (401, BAD_TOKEN)
    assert answer(api_get(client, items_url(OWN), tokens["bob-own"]))[0] == 200


@pytest.mark.parametrize(
    "args, message",
    [
        ([], "Error: one of the arguments --prefix --user --all-expired is required"),
        (["--project", OWN], "Error: one of the arguments --prefix --user --all-expired is required"),
        (["--prefix", "", "--user", "alice"], "Error: argument --user: not allowed with argument --prefix"),
        (
            ["--all-expired", "--user", "alice"],
            "Error: argument --user: not allowed with argument --all-expired",
        ),
        (
            ["--prefix", ""],
            "Invalid --prefix '': give the token's first 8 characters, as create_token printed them",
        ),
        (
            ["--prefix", "abc"],
            "Invalid --prefix 'abc': give the token's first 8 characters, as create_token printed them",
        ),
        (["--user", ""], "Empty --user: name the user whose tokens to revoke"),
        (["--user", "nobody"], "No user named 'nobody': nothing revoked"),
        (["--all-expired", "--project", OWN], "--project narrows --user: give --user NAME --project PROJECT"),
        (["--user", "alice", "--project", "a b"], f"Invalid --project 'a b': {PROJECT_RULE}"),
    ],
)
def test_revoke_token_refuses_an_empty_or_unclear_selection(tokens, args, message):
    with pytest.raises(CommandError) as raised:
        run("revoke_token", *args)

    assert str(raised.value) == message
    assert remaining(tokens) == sorted(tokens)


# --- the auth and tenancy matrix of API.md -------------------------------------------------------

User = get_user_model()


@pytest.fixture
def caller(client, items):
    """``caller(name)`` sets up the client as that caller; returns the token to send, if any."""
    issued = {
        "member token": create_token("--user", "member", "--project", OWN)[1],
        "admin token": create_token("--user", "admin", "--project", OWN, "--admin")[1],
        "expired token": create_token("--user", "late", "--project", OWN, "--expires-in", "1")[1],
        "unknown token": "not-a-token-this-service-issued",
    }
    ApiToken.objects.filter(key_hash=ApiToken.hash(issued["expired token"])).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )

    def as_caller(name):
        if name == "anonymous":
            return None
        if name in issued:
            return issued[name]
        user = User.objects.create_user(name.replace(" ", "-"), is_staff=name == "staff session")
        if name == "member session":
            ProjectMembership.objects.create(user=user, project_id=OWN)
        client.force_login(user)
        return None

    return as_caller


OWN_LIST = "OWN's items"
ALL_LIST = "every project's items"
OTHER_LIST = "OTHER's items"
SAMPLE_DETAIL = "the sample item"
OTHER_DETAIL = "the other project's item"
BODIES = {
    OWN_LIST: lambda: {"checkpoint_items": [document(SAMPLE_ID)]},
    OTHER_LIST: lambda: {"checkpoint_items": [document(OTHER_ITEM)]},
    ALL_LIST: lambda: {"checkpoint_items": [document(OTHER_ITEM), document(SAMPLE_ID)]},
    SAMPLE_DETAIL: lambda: {"checkpoint_item": document(SAMPLE_ID)},
    OTHER_DETAIL: lambda: {"checkpoint_item": document(OTHER_ITEM)},
}
LIST = "checkpoint_items"
COUNT = "checkpoint_items/count"


@pytest.mark.parametrize(
    "who, path, params, status, body",
    [
        # 401: no token, an unknown one, an expired one; before any other check.
        ("anonymous", f"{OWN}/{LIST}", {}, 401, NO_TOKEN),
        ("anonymous", f"{OTHER}/{LIST}", {"limit": "0"}, 401, NO_TOKEN),
        ("anonymous", f"{OWN}/{COUNT}", {}, 401, NO_TOKEN),
        ("anonymous", f"{OWN}/{LIST}/{SAMPLE_ID}", {}, 401, NO_TOKEN),
        ("unknown token", f"{OWN}/{LIST}", {}, 401, BAD_TOKEN),
        ("unknown token", f"{OTHER}/{LIST}", {"limit": "0"}, 401, BAD_TOKEN),
        ("expired token", f"{OWN}/{LIST}", {}, 401, BAD_TOKEN),
        ("expired token", f"{OWN}/{LIST}/{SAMPLE_ID}", {}, 401, BAD_TOKEN),
        # A member token reads its own project, and only it.
        ("member token", f"{OWN}/{LIST}", {}, 200, OWN_LIST),
        ("member token", f"{OWN}/{COUNT}", {}, 200, {"count": 1}),
        ("member token", f"{OWN}/{LIST}/{SAMPLE_ID}", {}, 200, SAMPLE_DETAIL),
        ("member token", f"{OTHER}/{LIST}", {}, 403, forbidden(OTHER)),
        ("member token", f"{OTHER}/{COUNT}", {}, 403, forbidden(OTHER)),
        ("member token", f"{OTHER}/{LIST}/{OTHER_ITEM}", {}, 403, forbidden(OTHER)),
        ("member token", f"{OWN}/{LIST}", {"all_tenants": "true"}, 403, ALL_TENANTS_FORBIDDEN),
        ("member token", f"{OWN}/{COUNT}", {"all_tenants": "1"}, 403, ALL_TENANTS_FORBIDDEN),
        ("member token", f"{OWN}/{LIST}", {"all_tenants": "false"}, 200, OWN_LIST),
        # Another project's item is never revealed: 404 by id, 400 as a marker.
        ("member token", f"{OWN}/{LIST}/{OTHER_ITEM}", {}, 404, not_found(OTHER_ITEM)),
        ("member token", f"{OWN}/{LIST}", {"marker": OTHER_ITEM}, 400, bad_marker(OTHER_ITEM)),
        ("member token", f"{OWN}/{LIST}", {"marker": "no-such-item"}, 400, bad_marker("no-such-item")),
        # Check order: the path's project (403) before parameters (400) before all_tenants (403).
        ("member token", f"{OTHER}/{LIST}", {"limit": "0"}, 403, forbidden(OTHER)),
        ("member token", f"{OTHER}/{LIST}", {"stauts": "error"}, 403, forbidden(OTHER)),
        ("member token", f"{OWN}/{LIST}", {"all_tenants": "true", "limit": "0"}, 400, LIMIT_ZERO),
        ("member token", f"{OWN}/{COUNT}", {"all_tenants": "true", "dec": "maybe"}, 400, BAD_DEC),
        # An admin token reads every project, and all_tenants.
        ("admin token", f"{OTHER}/{LIST}", {}, 200, OTHER_LIST),
        ("admin token", f"{OTHER}/{LIST}/{OTHER_ITEM}", {}, 200, OTHER_DETAIL),
        ("admin token", f"{OWN}/{LIST}", {"all_tenants": "true"}, 200, ALL_LIST),
        ("admin token", f"{OWN}/{COUNT}", {"all_tenants": "True"}, 200, {"count": 2}),
        ("admin token", f"{OWN}/{LIST}", {"all_tenants": "true", "marker": OTHER_ITEM}, 200, OWN_LIST),
        # The path still scopes an admin without all_tenants: the detail and the marker follow it.
        ("admin token", f"{OWN}/{LIST}", {}, 200, OWN_LIST),
        ("admin token", f"{OWN}/{LIST}/{OTHER_ITEM}", {}, 404, not_found(OTHER_ITEM)),
        ("admin token", f"{OWN}/{LIST}", {"marker": OTHER_ITEM}, 400, bad_marker(OTHER_ITEM)),
        # Browser sessions: members read their projects; staff count as admins.
        ("member session", f"{OWN}/{LIST}", {}, 200, OWN_LIST),
        ("member session", f"{OWN}/{LIST}/{SAMPLE_ID}", {}, 200, SAMPLE_DETAIL),
        ("member session", f"{OTHER}/{LIST}", {}, 403, forbidden(OTHER)),
        ("member session", f"{OWN}/{LIST}", {"all_tenants": "true"}, 403, ALL_TENANTS_FORBIDDEN),
        ("non-member session", f"{OWN}/{LIST}", {}, 403, forbidden(OWN)),
        ("non-member session", f"{OWN}/{COUNT}", {}, 403, forbidden(OWN)),
        ("staff session", f"{OTHER}/{LIST}", {}, 200, OTHER_LIST),
        ("staff session", f"{OWN}/{LIST}", {"all_tenants": "true"}, 200, ALL_LIST),
        ("staff session", f"{OWN}/{COUNT}", {"all_tenants": "true"}, 200, {"count": 2}),
    ],
)
def test_auth_and_tenancy_matrix(client, caller, who, path, params, status, body):
    token = caller(who)

    response = api_get(client, f"/v1/{path}", token, **params)

    expected = BODIES[body]() if isinstance(body, str) else body
    assert answer(response) == (status, expected)


def test_token_lookup_costs_one_query(client, caller, django_assert_num_queries):
    token = caller("unknown token")

    with django_assert_num_queries(1):
        response = api_get(client, items_url(OWN), token)

    assert answer(response) == (401, BAD_TOKEN)


def test_revoke_token_takes_a_prefix_that_starts_with_a_dash(tokens):
    """Tokens use the URL-safe alphabet: one in 32 prefixes starts with ``-``, which ``--prefix=`` reads."""
    stored = ApiToken.objects.get(key_hash=ApiToken.hash(tokens["bob-own"]))
    dashed = "-" + stored.prefix[1:]
    ApiToken.objects.filter(pk=stored.pk).update(prefix=dashed)

    assert run("revoke_token", f"--prefix={dashed}")[-1] == f"Revoked 1 token (prefix {dashed})."
    assert remaining(tokens) == ["alice-other", "alice-own", "bob-expired"]
