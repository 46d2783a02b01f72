"""seed_demo and its generator (backups.demo): reproducible, realistic data, demo users and a token."""
import datetime as dt
import io
import json
import re
from collections import Counter, defaultdict

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Count
from django.test.utils import CaptureQueriesContext

from backups import demo
from backups.choices import RUNNING_STATUSES, ItemStatus
from backups.document.parse import parse_item
from backups.document.timestamps import parse_timestamp
from backups.models import ApiToken, CheckpointItem, ProjectMembership, ReplicationRecord, VolumeBackup
from backups.services.upsert import upsert_items

ANCHOR = "2026-11-26T00:00:00Z"
ITEMS, PROJECTS, SEED = 240, 3, 7
NO_BACKUP_DATA = {ItemStatus.ERROR, ItemStatus.WAITING_PROTECT, ItemStatus.PROTECTING}


def seed_demo(*args, **options):
    """Run the command; return what it printed."""
    out = io.StringIO()
    options = {"items": ITEMS, "projects": PROJECTS, "seed": SEED, "anchor": ANCHOR, **options}
    call_command("seed_demo", *args, stdout=out, **options)
    return out.getvalue()


def stored():
    """Every item's stored document, by id, and every child row: what two equal seeds must share."""
    documents = dict(CheckpointItem.objects.values_list("id", "document"))
    volume_backups = sorted(VolumeBackup.objects.values_list("item_id", "position", "volume_backup_id"))
    records = sorted(ReplicationRecord.objects.values_list("item_id", "position", "record_id"))
    return documents, volume_backups, records


def documents():
    return [json.loads(text) for text in CheckpointItem.objects.values_list("document", flat=True)]


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """PBKDF2's million rounds would dominate these tests; the hasher is not what they test."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def seeded(db):
    """The default small dataset, seeded once for the test; returns the command's output."""
    return seed_demo()


# --- the generator ---------------------------------------------------------------------------------


def test_generator_gives_the_same_items_for_the_same_arguments():
    anchor = parse_timestamp(ANCHOR)
    first = list(demo.generate(ITEMS, PROJECTS, SEED, anchor))
    assert list(demo.generate(ITEMS, PROJECTS, SEED, anchor)) == first


def test_generator_gives_other_ids_for_another_seed():
    anchor = parse_timestamp(ANCHOR)
    first = {item["id"] for _, item in demo.generate(ITEMS, PROJECTS, 1, anchor)}
    second = {item["id"] for _, item in demo.generate(ITEMS, PROJECTS, 2, anchor)}
    assert len(first) == len(second) == ITEMS
    assert not first & second


@pytest.mark.parametrize(
    "items, projects, expected",
    [
        (0, 1, [0]),
        (10, 1, [10]),
        (10, 2, [8, 2]),  # the first project has the most
        (2000, 5, [800, 391, 298, 316, 195]),
        (1_000_000, 1000, None),
    ],
)
def test_allocate_gives_every_item_to_one_project_and_the_most_to_the_first(items, projects, expected):
    shape = demo.BENCHMARK_SHAPE if projects == 1000 else demo.DEMO_SHAPE
    counts = demo.allocate(items, projects, shape)
    assert sum(counts) == items and len(counts) == projects
    assert counts[0] == max(counts)
    if expected is not None:
        assert counts == expected
    if projects == 1000:
        assert counts[0] == 100_000  # issue 7's whale


def test_benchmark_shape_gives_issue_7s_proportions():
    """A 1% scale model of the benchmark's dataset (1,000,000 items over 1,000 projects)."""
    items, projects = 10_000, 20
    generated = list(demo.generate(items, projects, SEED, parse_timestamp(ANCHOR), demo.BENCHMARK_SHAPE))
    per_project = Counter(project_id for project_id, _ in generated)
    instants = Counter((project_id, item["created_at"]) for project_id, item in generated)

    def share(predicate):
        return sum(1 for project_id, item in generated if predicate(project_id, item)) / items

    assert per_project[demo.DEMO_PROJECT_ID] == items // 10  # the whale, exactly
    assert share(lambda p, item: instants[p, item["created_at"]] > 1) == pytest.approx(0.30, abs=0.03)
    assert share(lambda p, item: item["protected_at"] is None) == pytest.approx(0.12, abs=0.02)
    assert share(lambda p, item: item["replication_records"]) == pytest.approx(0.10, abs=0.01)
    assert share(lambda p, item: len(item["extend_info"]["volume_backups"]) == 2) > 0.99


def test_project_ids_are_the_demo_project_then_huawei_like_ids():
    ids = demo.project_ids(6, SEED)
    assert ids[0] == demo.DEMO_PROJECT_ID
    assert all(re.fullmatch(r"[0-9a-f]{32}", project_id) for project_id in ids[1:])
    assert len(set(ids)) == 6
    assert demo.project_ids(6, SEED) == ids


def test_default_anchor_is_midnight_utc_of_the_day():
    now = dt.datetime(2026, 11, 26, 7, 30, 1, 5, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    assert demo.default_anchor(now) == dt.datetime(2026, 11, 25, tzinfo=dt.timezone.utc)


def test_every_generated_item_is_valid_and_older_than_the_anchor():
    anchor = parse_timestamp(ANCHOR)
    for _, item in demo.generate(ITEMS, PROJECTS, SEED, anchor):
        parsed = parse_item(item).fields
        for attr in ("created_at", "updated_at", "protected_at", "finished_at"):
            assert parsed[attr] is None or parsed[attr] < anchor, (item["id"], attr)
        assert parsed["created_at"] >= anchor - dt.timedelta(days=61)
        assert parsed["updated_at"] >= parsed["created_at"]
        if parsed["protected_at"] is not None:
            assert parsed["protected_at"] >= parsed["created_at"]


# --- reproducibility through the database ----------------------------------------------------------


def test_same_seed_into_empty_database_gives_identical_documents(db):
    seed_demo(no_users=True)
    first = stored()
    CheckpointItem.objects.all().delete()
    assert not CheckpointItem.objects.exists() and not VolumeBackup.objects.exists()
    seed_demo(no_users=True)
    assert stored() == first
    assert len(first[0]) == ITEMS


def test_different_seed_gives_different_data(db):
    seed_demo(no_users=True)
    first = stored()
    CheckpointItem.objects.all().delete()
    seed_demo(no_users=True, seed=SEED + 1)
    second = stored()
    assert len(second[0]) == ITEMS
    assert not set(first[0]) & set(second[0])


def test_rerun_with_the_same_seed_updates_in_place(db):
    seed_demo(no_users=True)
    first = stored()
    out = seed_demo(no_users=True)
    assert f"Seeded {ITEMS} items (0 created, {ITEMS} updated)" in out
    assert stored() == first


def test_clear_deletes_every_existing_item_first(db, sample_response):
    upsert_items("another-project", [parse_item(sample_response["checkpoint_items"][0])])
    out = seed_demo(no_users=True, clear=True)
    assert "Deleted every existing item." in out
    assert CheckpointItem.objects.count() == ITEMS
    assert not CheckpointItem.objects.filter(project_id="another-project").exists()


def test_an_id_held_by_another_project_asks_for_clear(db):
    project_id, item = next(demo.generate(ITEMS, PROJECTS, SEED, parse_timestamp(ANCHOR)))
    upsert_items("another-project", [parse_item(item)])
    with pytest.raises(CommandError, match=r"another project \(another-project\).*run again with --clear"):
        seed_demo(no_users=True)
    assert CheckpointItem.objects.count() == 1  # all or nothing


def test_seeding_costs_the_same_queries_for_more_items(db):
    def queries(items):
        """The writes' statements (the statistics' look-ups depend on what the tables held before)."""
        CheckpointItem.objects.all().delete()
        with CaptureQueriesContext(connection) as context:
            seed_demo(no_users=True, items=items, projects=1)
        statistics = ("sqlite_stat1", "sqlite_master", "pg_class", "ANALYZE")
        return len([q for q in context.captured_queries if not any(word in q["sql"] for word in statistics)])

    assert queries(60) == queries(600)


@pytest.mark.parametrize(
    "options, message",
    [
        ({"projects": 0}, "--projects must be at least 1"),
        ({"batch_size": 0}, "--batch-size must be at least 1"),
        ({"anchor": "2026-11-26"}, "--anchor a date alone is ambiguous"),
        ({"anchor": "yesterday"}, "--anchor is not an ISO 8601 time"),
    ],
)
def test_bad_options_are_clear_errors(db, options, message):
    with pytest.raises(CommandError, match=re.escape(message)):
        seed_demo(**options)
    assert not CheckpointItem.objects.exists()


# --- what the data looks like --------------------------------------------------------------------------


def test_projects_and_counts(seeded):
    counts = dict(CheckpointItem.objects.values_list("project_id").annotate(n=Count("id")))
    assert set(counts) == set(demo.project_ids(PROJECTS, SEED))
    assert sum(counts.values()) == ITEMS
    assert counts[demo.DEMO_PROJECT_ID] == max(counts.values())


def test_every_status_is_present(seeded):
    statuses = set(CheckpointItem.objects.values_list("status", flat=True))
    assert statuses == set(ItemStatus.values)


def test_failures_carry_fail_code_and_reason(seeded):
    failed = [doc for doc in documents() if doc["extend_info"]["fail_op"]]
    assert {doc["status"] for doc in failed} >= {ItemStatus.ERROR}
    for doc in failed:
        info = doc["extend_info"]
        assert set(info["fail_code"]) == {"Code", "Description"}, doc["id"]
        assert isinstance(info["fail_code"]["Code"], int)  # a Long in the seed
        assert info["fail_reason"].endswith("."), doc["id"]
    for doc in documents():
        if doc["status"] == ItemStatus.ERROR:
            assert doc["extend_info"]["fail_op"] in {"backup", "delete"}
        if not doc["extend_info"]["fail_op"]:
            assert (doc["extend_info"]["fail_code"], doc["extend_info"]["fail_reason"]) == ({}, "")


def test_protected_at_is_null_exactly_where_no_backup_data_exists(seeded):
    null = list(CheckpointItem.objects.filter(protected_at__isnull=True).values_list("status", "fail_op"))
    assert null
    assert {status for status, _ in null} <= NO_BACKUP_DATA
    assert all(fail_op == "backup" for status, fail_op in null if status == ItemStatus.ERROR)
    assert not CheckpointItem.objects.filter(status=ItemStatus.AVAILABLE, protected_at__isnull=True).exists()


def test_running_statuses_show_progress_below_100(seeded):
    assert CheckpointItem.objects.exists()
    for status, value in CheckpointItem.objects.values_list("status", "progress"):
        if status in RUNNING_STATUSES:
            assert 0 <= value < 100, status
        elif status in (ItemStatus.AVAILABLE, ItemStatus.DELETED):
            assert value == 100, status


def test_several_items_share_the_same_created_at(seeded):
    ties = (
        CheckpointItem.objects.values("project_id", "created_at")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
    )
    assert ties.count() >= 3


def test_scheduled_backups_carry_their_policy_and_share_checkpoints(seeded):
    scheduled = CheckpointItem.objects.filter(auto_trigger=True, image_type="backup")
    assert scheduled.exists() and not scheduled.filter(policy_id__isnull=True).exists()
    manual = CheckpointItem.objects.filter(auto_trigger=False)
    assert manual.exists() and not manual.filter(policy_id__isnull=False).exists()
    per_checkpoint = scheduled.values("checkpoint_id").annotate(n=Count("id")).filter(n__gt=1)
    assert per_checkpoint.exists()  # one policy run, one checkpoint, several servers


def test_replication_records_link_sources_to_replicas(seeded):
    docs = {doc["id"]: doc for doc in documents()}
    records = [(doc, doc["replication_records"]) for doc in docs.values() if doc["replication_records"]]
    assert len(records) >= ITEMS * 0.05
    replicas = [doc for doc in docs.values() if doc["extend_info"]["image_type"] == "replication"]
    assert replicas
    for replica in replicas:
        (record,) = replica["replication_records"]
        source = docs[replica["extend_info"]["copy_from"]]
        assert source["replication_records"] == [record]
        assert record["source_checkpoint_item_id"] == source["id"]
        assert record["destination_checkpoint_item_id"] == replica["id"]
        assert record["destination_region"] != record["source_region"]
        assert CheckpointItem.objects.get(pk=replica["id"]).project_id == record["destination_project_id"]
    statuses = Counter(record["status"] for _, (record,) in records)
    assert statuses["success"] > 0


def test_volume_backups_keep_their_order_system_disk_first(seeded):
    positions = defaultdict(list)
    for item_id, position, bootable in VolumeBackup.objects.values_list("item_id", "position", "bootable"):
        positions[item_id].append((position, bootable))
    assert any(len(rows) > 1 for rows in positions.values())
    for item_id, rows in positions.items():
        rows.sort()
        assert [position for position, _ in rows] == list(range(len(rows)))
        assert [bootable for _, bootable in rows] == [True] + [False] * (len(rows) - 1), item_id
        assert 1 <= len(rows) <= 3
    for doc in documents():
        rows = VolumeBackup.objects.filter(item_id=doc["id"]).order_by("position")
        expected = [row.volume_backup_id for row in rows]
        assert [vb["id"] for vb in doc["extend_info"]["volume_backups"]] == expected


def test_each_server_is_backed_up_full_first_then_incrementally(seeded):
    chains = defaultdict(list)
    for doc in sorted(documents(), key=lambda doc: (doc["created_at"], doc["id"])):
        if doc["extend_info"]["image_type"] == "backup" and doc["protected_at"] is not None:
            chains[doc["resource_id"]].append(doc["extend_info"]["incremental"])
    assert chains
    for chain in chains.values():
        assert chain == [False] + [True] * (len(chain) - 1)


def test_servers_have_names_azs_and_ips(seeded):
    docs = documents()
    assert all(re.fullmatch(r"\S+-\d{2}", doc["extend_info"]["resource_name"]) for doc in docs)
    assert len({doc["extend_info"]["resource_az"] for doc in docs}) >= 3
    assert all(doc["backup_data"]["private_ip"].startswith("192.168.") for doc in docs)
    eips = [doc["backup_data"]["eip"] for doc in docs]
    assert any(eips) and not all(eips)  # an EIP for some servers only
    assert all(isinstance(doc["backup_data"]["ram"], int) for doc in docs)
    assert all({"taskid", "hypervisor_type"} <= set(doc["extend_info"]) for doc in docs)


# --- users, group, memberships, token ------------------------------------------------------------------


def test_demo_users_group_and_memberships(seeded):
    User = get_user_model()
    admin, support = User.objects.get(username="admin"), User.objects.get(username="support")
    assert (admin.is_staff, admin.is_superuser, admin.check_password("admin")) == (True, True, True)
    assert (support.is_staff, support.is_superuser, support.check_password("support")) == (False, False, True)
    group = Group.objects.get(name="Support")
    assert list(support.groups.all()) == [group]
    assert sorted(group.permissions.values_list("content_type__app_label", "codename")) == [
        ("backups", "view_checkpointitem"),
        ("backups", "view_replicationrecord"),
        ("backups", "view_volumebackup"),
    ]
    assert support.has_perm("backups.view_checkpointitem")
    memberships = ProjectMembership.objects.filter(user=support).values_list("project_id", flat=True)
    assert sorted(memberships) == sorted(demo.project_ids(PROJECTS, SEED))


def test_users_are_idempotent_and_passwords_reset(seeded):
    User = get_user_model()
    User.objects.filter(username="support").update(is_staff=True)
    support = User.objects.get(username="support")
    support.set_password("changed")
    support.save()
    seed_demo()
    assert User.objects.filter(username__in=["admin", "support"]).count() == 2
    support = User.objects.get(username="support")
    assert (support.is_staff, support.check_password("support")) == (False, True)
    assert ProjectMembership.objects.count() == PROJECTS
    assert Group.objects.filter(name="Support").count() == 1


def test_printed_token_authenticates_the_admin_on_the_demo_project(seeded):
    (key,) = re.findall(r"X-Auth-Token: (\S+)\n", seeded)
    token = ApiToken.objects.get(key_hash=ApiToken.hash(key))
    assert (token.user.username, token.project_id, token.is_admin, token.is_expired) == (
        "admin", demo.DEMO_PROJECT_ID, True, False
    )
    assert f'curl -H "X-Auth-Token: {key}" "http://127.0.0.1:8000/v1/demo-project/checkpoint_items?' in seeded


def test_output_says_how_to_log_in(seeded):
    assert "http://127.0.0.1:8000/ and http://127.0.0.1:8000/admin/" in seeded
    assert "admin / admin" in seeded and "support / support" in seeded


def test_no_users_skips_users_group_and_token(db):
    out = seed_demo(no_users=True)
    assert not get_user_model().objects.exists()
    assert not ApiToken.objects.exists() and not ProjectMembership.objects.exists()
    assert "X-Auth-Token" not in out
