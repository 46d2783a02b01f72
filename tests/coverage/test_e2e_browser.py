"""The coverage pages in real headless Chromium against a live server (the list's e2e setup).

Screenshots go to ``screenshots/coverage-*.png`` (git-ignored).
"""

import csv

import pytest
from django.contrib.auth.models import Permission, User

from backups.models import ProjectMembership
from tests.ui import test_e2e_browser as e2e

from .histories import P, load

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]
# The list's browser (Debian's Chromium, skipped without it unless CI=true) and page fixtures.
browser, page = e2e.browser, e2e.page
SCREENSHOTS = e2e.SCREENSHOTS


def shoot(page, name):
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"coverage-{name}.png"), full_page=True)


@pytest.fixture
def support(db):
    user = User.objects.create_user("e2e-coverage", password="e2e-password-1")
    user.user_permissions.add(
        Permission.objects.get(codename="view_checkpointitem", content_type__app_label="backups")
    )
    ProjectMembership.objects.create(user=user, project_id=P)
    load()
    return user


def rows(page):
    return page.locator("#coverage-table tbody tr").evaluate_all("rows => rows.map(r => r.dataset.resource)")


def count(page, tab):
    return int(page.locator(f"#tab-{tab} .category-count").inner_text())


def test_support_person_finds_the_servers_without_a_good_backup_and_why(page, support, tmp_path):
    page.goto("/")
    page.get_by_label("Username").fill("e2e-coverage")
    page.get_by_label("Password").fill("e2e-password-1")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/")

    # One click: every backup of these histories is months old, so nothing is covered today.
    page.get_by_role("link", name="Coverage", exact=True).click()
    page.wait_for_url("**/coverage/")
    assert count(page, "unprotected") == 12 and count(page, "all") == 12
    assert page.locator("#coverage-table tbody tr").first.locator(".why-text").inner_text() == (
        "No good backup; 3 failed in a row: Snapshot quota exceeded."
    )
    shoot(page, "01-today")

    # "Were we covered on 1 March?": the form's as_of.
    page.get_by_label("As of (UTC)").fill("2026-03-01T12:00Z")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url("**as_of=2026-03-01T12%3A00Z**")
    assert [count(page, t) for t in ("unprotected", "failing", "unreplicated", "any", "all")] == [5, 2, 1, 6, 12]
    assert rows(page) == ["never", "shared", "deleted", "running", "older", "gap"]
    shoot(page, "02-as-of")

    # A category tab keeps the other parameters.
    page.locator("#tab-failing").click()
    page.wait_for_url("**category=failing**")
    assert rows(page) == ["never", "running"]
    assert "as_of=2026-03-01T12%3A00Z" in page.url

    # The resource page: its verdict and its history as a picture, each backup a link.
    page.get_by_role("link", name="running-server", exact=True).click()
    page.wait_for_url("**/coverage/resource/**")
    assert "Failing 3× in a row" in page.locator("#verdict").inner_text()
    assert page.locator("#timeline a.mark").count() == 5
    assert page.locator("#timeline rect.seg-error").count() == 3
    shoot(page, "03-resource")
    page.locator("#timeline a.mark").first.click()  # the newest backup (drawn first), still running
    page.wait_for_url("**/backups/running-5/")
    page.go_back()

    # Its backups in the list, up to as_of.
    page.locator("#backups-link").click()
    page.wait_for_url("**resource_id=running**")
    assert "end_time=2026-03-01T12%3A00Z" in page.url
    assert page.locator("#result-count").inner_text() == "5 backups match"

    # The CSV of the report: the same resources as the table.
    page.goto(f"/coverage/?project={P}&as_of=2026-03-01T12:00Z")
    with page.expect_download() as download_info:
        page.locator("#csv-link").click()
    path = tmp_path / "coverage.csv"
    download_info.value.save_as(path)
    with path.open(newline="", encoding="utf-8") as handle:
        exported = [row["resource_id"] for row in csv.DictReader(handle)]
    assert exported == rows(page)
