"""The demo data fills every category of the coverage report (backups.demo.coverage_stories)."""

import datetime as dt
import io

import pytest
from django.core.management import call_command

from backups import demo
from backups.coverage.report import CoverageQuery, coverage_report
from backups.document.timestamps import parse_timestamp
from backups.models import CheckpointItem

ANCHOR = "2026-11-26T00:00:00Z"


@pytest.fixture
def seeded(db, settings):
    """``make run``'s data: seed_demo's defaults (2,000 items over 5 projects)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("seed_demo", anchor=ANCHOR, stdout=io.StringIO())


def report(project=demo.DEMO_PROJECT_ID, category="all"):
    items = CheckpointItem.objects.filter(project_id=project)
    return coverage_report(CoverageQuery(items, parse_timestamp(ANCHOR), 7, 3, category))


def test_the_demo_project_has_a_resource_in_every_category(seeded):
    counts = report().counts
    assert counts["unprotected"] >= 3 and counts["failing"] >= 3 and counts["unreplicated"] >= 1
    assert counts["resources"] > counts["any"]  # and covered ones


def test_each_story_is_told(seeded):
    rows = report(category="any").rows
    never = [r for r in rows if r.last_available_backup is None]
    assert [(r.failure_streak, r.categories) for r in never] == [(3, ("unprotected", "failing"))]
    stopped = [r for r in rows if r.failure_streak == 0 and r.last_backup.created_at < parse_timestamp(ANCHOR) - dt.timedelta(days=7)]
    assert len(stopped) == 1 and "no backup at all since" in stopped[0].why(report().query)
    assert sorted(r.failure_streak for r in rows if r.failure_streak) == [3, 3, 9]
    flaky = [r for r in rows if r.failure_streak == 3 and r.last_available_backup]
    assert [r.categories for r in flaky] == [("failing",)]
    assert any("unreplicated" in r.categories for r in rows)


def test_replication_is_by_server_so_gaps_are_few(seeded):
    for project in demo.project_ids(5, 0)[:-1]:  # the last one holds the replicas
        counts = report(project).counts
        assert counts["unreplicated"] <= 2, project


def test_the_stories_keep_the_item_count_exact(seeded):
    assert CheckpointItem.objects.count() == 2000


def test_the_benchmark_shape_tells_no_story():
    assert not demo.BENCHMARK_SHAPE.coverage_stories and demo.DEMO_SHAPE.coverage_stories
