"""The coverage selector against hand-built histories (tests/coverage/histories.py), on both databases."""

import dataclasses
import datetime as dt

import pytest

from backups.coverage.report import CoverageQuery, coverage_report, coverage_rows, resource_history
from backups.models import CheckpointItem

from .histories import AS_OF, DAY, EXPECTED, THRESHOLD, P, Q, backup, load

pytestmark = pytest.mark.django_db


def as_dict(row):
    return {
        "project_id": row.project_id,
        "resource_id": row.resource_id,
        "resource_name": row.resource_name,
        "resource_az": row.resource_az,
        "backup_count": row.backup_count,
        "last_backup": (row.last_backup.id, row.last_backup.status),
        "last_available_backup": row.last_available_backup.id if row.last_available_backup else None,
        "failure_streak": row.failure_streak,
        "latest_fail_reason": row.latest_fail_reason,
        "failing_since": row.failing_since,
        "newest_available_replication": row.newest_available_replication,
        "last_replication": (row.last_replication.backup.id, row.last_replication.destination_region)
        if row.last_replication
        else None,
        "categories": row.categories,
    }


def report(projects=(P,), category="all", days=7, failures=3, as_of=AS_OF, limit=None, offset=0, **filters):
    items = CheckpointItem.objects.filter(project_id__in=projects).filter(**filters)
    return coverage_report(CoverageQuery(items, as_of, days, failures, category, limit, offset))


@pytest.fixture
def histories(db):
    load()


def test_every_resource_of_the_project_with_its_known_answer(histories):
    rows = [as_dict(r) for r in report().rows]
    assert [r["resource_id"] for r in rows] == [e["resource_id"] for e in EXPECTED]
    for got, expected in zip(rows, EXPECTED, strict=True):
        assert got == expected, expected["resource_id"]


def test_counts_per_category_over_every_resource(histories):
    assert report(category="failing").counts == {
        "resources": 12, "unprotected": 5, "failing": 2, "unreplicated": 1, "any": 6,
    }


@pytest.mark.parametrize(
    "category, resources",
    [
        ("any", ["never", "shared", "deleted", "running", "older", "gap"]),
        ("unprotected", ["never", "shared", "deleted", "running", "older"]),
        ("failing", ["never", "running"]),
        ("unreplicated", ["gap"]),
    ],
)
def test_category_selects_its_resources_in_the_report_order(histories, category, resources):
    assert [r.resource_id for r in report(category=category).rows] == resources


def test_a_good_backup_exactly_days_old_covers_and_one_microsecond_older_does_not(histories):
    rows = {r.resource_id: r for r in report().rows}
    assert rows["exact"].last_available_backup.created_at == THRESHOLD
    assert "unprotected" not in rows["exact"].categories
    assert "unprotected" in rows["older"].categories


def test_failures_threshold_is_a_parameter(histories):
    assert [r.resource_id for r in report(category="failing", failures=2).rows] == ["never", "running", "broken"]
    assert [r.resource_id for r in report(category="failing", failures=4).rows] == []


def test_as_of_replays_history_only_backups_created_until_then_count(histories):
    earlier = AS_OF - 2 * DAY - dt.timedelta(hours=12)  # before broken-4/5, never-3, tie-*
    rows = {r.resource_id: r for r in report(as_of=earlier).rows}
    assert rows["broken"].last_backup.id == "broken-3"
    assert rows["broken"].failure_streak == 0
    assert rows["never"].failure_streak == 1  # never-1 only
    assert "tie" not in rows
    # On the day before, the resource whose backup was exactly 7 days old at AS_OF was younger.
    assert "unprotected" not in rows["older"].categories


def test_two_projects_with_the_same_resource_id_are_two_rows(histories):
    rows = [r for r in report(projects=(P, Q)).rows if r.resource_id == "shared"]
    assert [(r.project_id, r.last_backup.id, r.categories) for r in rows] == [
        (P, "shared-p", ("unprotected",)),
        (Q, "shared-q", ()),
    ]


def test_a_project_sees_only_its_own_resources(histories):
    assert [(r.project_id, r.resource_id) for r in report(projects=(Q,)).rows] == [(Q, "shared")]


def test_paging_walks_the_category_in_order_with_the_counts_on_every_page(histories):
    pages = [report(category="any", limit=4, offset=offset) for offset in (0, 4, 8)]
    assert [[r.resource_id for r in p.rows] for p in pages] == [
        ["never", "shared", "deleted", "running"], ["older", "gap"], [],
    ]
    assert [p.has_next for p in pages] == [True, False, False]
    assert all(p.counts["any"] == 6 for p in pages)


def test_no_resource_at_all_gives_zero_counts(db):
    result = report(projects=("nobody",))
    assert result.rows == []
    assert result.counts == {"resources": 0, "unprotected": 0, "failing": 0, "unreplicated": 0, "any": 0}


def test_filters_apply_to_the_backups_as_in_the_list(histories):
    # resource_name applies to each backup: only tie-b is named "tie-renamed".
    rows = report(resource_name_folded__contains="renamed").rows
    assert [(r.resource_id, r.backup_count, r.last_backup.id) for r in rows] == [("tie", 1, "tie-b")]
    assert [r.resource_id for r in report(resource_az="az-2", projects=(P, Q)).rows] == ["shared", "shared"]


def test_csv_rows_are_the_report_rows_unpaged(histories):
    query = CoverageQuery(CheckpointItem.objects.filter(project_id=P), AS_OF, 7, 3, "any")
    assert [as_dict(r) for r in coverage_rows(query, chunk_size=2)] == [as_dict(r) for r in report(category="any").rows]


def test_resource_history_is_newest_first_with_replication_marks(histories):
    query = CoverageQuery(CheckpointItem.objects.filter(project_id=P), AS_OF, 7, 3)
    history = resource_history(query, P, "gap", since=AS_OF - 30 * DAY, limit=10)
    assert [(h["id"], h["replicated"]) for h in history] == [("gap-2", False), ("gap-1", True)]


def test_why_names_the_reason(histories):
    query = CoverageQuery(CheckpointItem.objects.filter(project_id=P), AS_OF, 7, 3)
    rows = {r.resource_id: r for r in report().rows}
    assert rows["never"].why(query) == "No good backup; 3 failed in a row: Snapshot quota exceeded."
    assert rows["shared"].why(query) == "Newest good backup is 20 days old; no backup at all since 2026-02-09."
    assert rows["deleted"].why(query) == "Newest good backup is 10 days old; the newest backup is deleted."
    assert rows["exact"].why(query) == "Covered."


def test_the_report_is_one_query(histories, django_assert_num_queries):
    with django_assert_num_queries(1):
        report(category="any", limit=2)
    with django_assert_num_queries(1):
        report(category="all", limit=1000)


def test_one_query_whatever_the_page_size(db, django_assert_num_queries):
    from backups.document.parse import parse_item
    from backups.services.upsert import upsert_items

    upsert_items(P, [parse_item(backup(f"b{n}", f"srv-{n % 40}", AS_OF - n * DAY / 10, "error" if n % 3 else "available")) for n in range(200)])
    for limit in (1, 10, 40):
        with django_assert_num_queries(1):
            assert len(report(limit=limit).rows) == limit


def test_query_is_frozen_and_threshold_is_inclusive():
    query = CoverageQuery(None, AS_OF, 7, 3)
    assert query.threshold == THRESHOLD
    with pytest.raises(dataclasses.FrozenInstanceError):
        query.days = 8


def test_as_of_at_the_beginning_of_time_does_not_overflow(histories):
    """Found by the schemathesis fuzzer: as_of=0001-01-02 with days=232."""
    as_of = dt.datetime(1, 1, 2, tzinfo=dt.timezone.utc)
    result = report(as_of=as_of, days=232)
    assert result.rows == [] and result.query.threshold == dt.datetime.min.replace(tzinfo=dt.timezone.utc)
