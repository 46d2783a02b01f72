"""The browse pages in real headless Chromium (Debian's, driven by Playwright) against a live server.

Screenshots of each page go to ``screenshots/`` (git-ignored). Without /usr/bin/chromium the tests
are skipped, except under ``CI=true``, where a missing browser is a failure: CI installs it.
"""

import csv
import datetime as dt
import io
import os
import shutil
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission, User
from django.utils import timezone

from backups.document.parse import parse_item
from backups.document.timestamps import format_timestamp
from backups.models import ProjectMembership
from backups.services.upsert import upsert_items

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "screenshots"
IN_CI = os.environ.get("CI", "").lower() == "true"
PROJECT = "e2e-project"
SCRIPT_NAME = "<script>alert(1)</script>"

if not Path(CHROMIUM).exists() or shutil.which(CHROMIUM) is None:
    if IN_CI:
        raise RuntimeError(f"{CHROMIUM} is missing: .ci/run installs Debian's chromium for these tests")
    pytest.skip(f"{CHROMIUM} is missing: apt-get install -y chromium", allow_module_level=True)
if IN_CI:
    from playwright.sync_api import sync_playwright
else:
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright

# Playwright's sync API runs an event loop in this thread; Django refuses ORM calls there unless told.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(
        base_url=live_server.url, accept_downloads=True, viewport={"width": 1280, "height": 900}
    )
    page = context.new_page()
    page.dialogs = []
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
    yield page
    context.close()


def shoot(page, name):
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


@pytest.fixture
def support_user(db):
    user = User.objects.create_user("e2e-support", password="e2e-password-1")
    user.user_permissions.add(
        Permission.objects.get(codename="view_checkpointitem", content_type__app_label="backups")
    )
    ProjectMembership.objects.create(user=user, project_id=PROJECT)
    return user


@pytest.fixture
def items(db):
    """23 backups of two servers: one failed, one replicated, one with a hostile name; newest first."""
    now = timezone.now().replace(microsecond=0)
    documents = []
    for n in range(23):
        document = {
            "id": f"i{n:02d}",
            "name": f"nightly-{n:02d}",
            "status": "available",
            "created_at": format_timestamp(now - dt.timedelta(hours=23 - n)),
            "resource_id": "srv-web" if n % 2 else "srv-db",
            "resource_type": "OS::Nova::Server",
            "extend_info": {"resource_name": "web-01" if n % 2 else "db-01", "resource_az": "az1"},
        }
        documents.append(document)
    documents[3].update(
        status="error",
        extend_info={
            **documents[3]["extend_info"],
            "fail_op": "backup",
            "fail_reason": "Snapshot quota exceeded",
        },
    )
    documents[5]["name"] = SCRIPT_NAME
    documents[7]["replication_records"] = [
        {
            "id": "rr-7",
            "status": "success",
            "source_region": "cn-north-1",
            "destination_region": "ap-southeast-1",
        }
    ]
    upsert_items(PROJECT, [parse_item(d) for d in documents])
    return [d["id"] for d in reversed(documents)]


def log_in(page):
    page.goto("/")
    assert "/accounts/login/" in page.url
    page.get_by_label("Username").fill("e2e-support")
    page.get_by_label("Password").fill("e2e-password-1")
    shoot(page, "01-login")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/")


def row_ids(page):
    return [
        href.split("/")[-2]
        for href in page.locator("table.items td.name a").evaluate_all("l => l.map(a => a.href)")
    ]


def test_support_person_filters_sorts_pages_opens_and_exports(page, support_user, items, tmp_path):
    log_in(page)
    assert page.locator("#result-count").inner_text() == "23 backups match"
    assert row_ids(page) == items[:23]
    shoot(page, "02-list")

    # Filter: the quick search and a status, through the form (GET: the URL carries the API names).
    page.get_by_label("Quick search").fill("web-01")
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_url("**q=web-01**")
    assert "name=" not in page.url  # empty filters stay out of the URL
    assert page.locator("#result-count").inner_text() == "11 backups match"
    page.get_by_label("Status").select_option("error")
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_url("**status=error**")
    assert row_ids(page) == ["i03"]
    shoot(page, "03-list-filtered")

    # Sort: click a header, then again to reverse.
    page.goto(f"/?project={PROJECT}")
    page.get_by_role("link", name="Name").click()
    page.wait_for_url("**sort=name%3Aasc**")
    assert row_ids(page)[:2] == ["i05", "i00"]  # "<" sorts before "n"
    page.get_by_role("link", name="Name").click()
    page.wait_for_url("**sort=name%3Adesc**")
    assert row_ids(page)[:2] == ["i22", "i21"]
    shoot(page, "04-list-sorted")

    # Page size and keyset paging, forward and back.
    page.goto(f"/?project={PROJECT}")
    page.get_by_role("link", name="10", exact=True).click()
    page.wait_for_url("**limit=10**")
    seen = [row_ids(page)]
    while page.locator("#next-page").count():
        page.locator("#next-page").click()
        page.wait_for_load_state()
        seen.append(row_ids(page))
    assert [len(ids) for ids in seen] == [10, 10, 3]
    assert [i for ids in seen for i in ids] == items
    shoot(page, "05-list-last-page")
    page.locator("#previous-page").click()
    page.wait_for_load_state()
    assert row_ids(page) == seen[1]
    page.locator("#previous-page").click()
    page.wait_for_load_state()
    assert row_ids(page) == seen[0]
    assert page.locator("#previous-page").count() == 0

    # The API request of this view.
    page.get_by_text("This view as an API request").click()
    assert page.locator("#api-curl").inner_text().startswith('curl -H "X-Auth-Token: $TOKEN" ')

    # Detail of the failed backup: the reason up front; the raw JSON collapsible.
    page.goto(f"/?project={PROJECT}&status=error")
    page.get_by_role("link", name="nightly-03").click()
    page.wait_for_url("**/backups/i03/")
    assert "Snapshot quota exceeded" in page.locator("#failure").inner_text()
    assert not page.locator("#raw-json-text").is_visible()
    page.get_by_text("Raw JSON, as the API returns it").click()
    assert page.locator("#raw-json-text").is_visible()
    assert page.get_by_role("button", name="Copy JSON").is_visible()  # shown by the script
    shoot(page, "06-detail-failed")
    page.locator("#same-resource").click()
    page.wait_for_url("**resource_id=srv-web**")
    assert page.locator("#result-count").inner_text() == "11 backups match"

    # The replicated one: where it went.
    page.goto("/backups/i07/")
    assert "ap-southeast-1" in page.locator("#replication").inner_text()
    shoot(page, "07-detail-replicated")

    # CSV of the current filter, downloaded.
    page.goto(f"/?project={PROJECT}&resource_id=srv-db")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download CSV").click()
    path = tmp_path / "export.csv"
    download_info.value.save_as(path)
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    assert rows[0][:3] == ["id", "name", "status"]
    assert [r[0] for r in rows[1:]] == [i for i in items if int(i[1:]) % 2 == 0]

    # The overview picture.
    page.get_by_role("link", name="Overview per day").click()
    page.wait_for_url("**/overview/**")
    assert page.locator("svg.chart-svg rect.seg").count() >= 1
    shoot(page, "08-overview")
    assert page.dialogs == []


def test_a_hostile_name_shows_as_text_and_runs_nothing(page, support_user, items):
    log_in(page)
    page.get_by_label("Quick search").fill("script")
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_url("**q=script**")
    assert page.get_by_role("link", name=SCRIPT_NAME).is_visible()
    page.get_by_role("link", name=SCRIPT_NAME).click()
    page.wait_for_url("**/backups/i05/")
    assert page.locator("h1").inner_text().startswith(SCRIPT_NAME)
    shoot(page, "09-detail-hostile-name")
    assert page.dialogs == []


def test_pages_work_without_javascript(browser, live_server, support_user, items):
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    log_in(page)
    page.get_by_label("Status").select_option("error")
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_url("**status=error**")
    assert row_ids(page) == ["i03"]
    page.goto("/backups/i03/")
    assert (
        page.get_by_role("button", name="Copy JSON").count() == 0
        or not page.get_by_role("button", name="Copy JSON").is_visible()
    )
    context.close()


def test_narrow_screen_keeps_the_page_usable(page, support_user, items):
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page)
    assert page.get_by_label("Quick search").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390 + 1  # the table scrolls, not the page
    shoot(page, "10-list-narrow")
