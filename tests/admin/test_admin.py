"""The admin: find items among many, edit them by the import's rules, and the API JSON follows the edit."""
import copy
import json
import re
from pathlib import Path

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Group, User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from backups import admin as backups_admin
from backups.admin.paginator import CheapCountPaginator
from backups.document.parse import parse_item
from backups.models import ApiToken, CheckpointItem, ProjectMembership, ReplicationRecord, VolumeBackup
from backups.services.upsert import build_item, upsert_items

pytestmark = pytest.mark.django_db

SAMPLE_PATH = next(
    path / "fixtures" / "csbs_sample_response.json"
    for path in (Path(__file__).resolve().parents[3] / "shared", Path("/work/shared"))
    if path.is_dir()
)
SAMPLE = json.loads(SAMPLE_PATH.read_text(encoding="utf-8"))["checkpoint_items"][0]

CHANGELIST = reverse("admin:backups_checkpointitem_changelist")
ADD = reverse("admin:backups_checkpointitem_add")

REPLICATION_RECORD = {
    "id": "rr-1",
    "status": "success",
    "source_region": "region-a",
    "source_project_id": "proj-a",
    "source_checkpoint_id": "cp-a",
    "source_checkpoint_item_id": "item-a",
    "destination_region": "region-b",
    "destination_project_id": "proj-b",
    "destination_checkpoint_id": "cp-b",
    "destination_checkpoint_item_id": "item-b",
    "plan_id": "plan-1",
    "created_at": "2017-04-16T01:02:03.000004",
    "extra_info": {"note": "nightly"},
}


def make_item(item_id, **changes):
    """A CSBS item like the seed's sample; ``section__key=value`` changes a key inside a section."""
    item = copy.deepcopy(SAMPLE)
    item["id"] = item_id
    for name, value in changes.items():
        section, _, key = name.partition("__")
        if key:
            item[section][key] = value
        else:
            item[name] = value
    return item


def import_items(*items, project_id="proj-1"):
    upsert_items(project_id, [parse_item(item) for item in items])


def document(item_id):
    return json.loads(CheckpointItem.objects.get(pk=item_id).document)


def change_url(item_id):
    return reverse("admin:backups_checkpointitem_change", args=[item_id])


def form_data(response):
    """The change page's forms as a browser would post them untouched (``_save`` included)."""
    data = {"_save": "Save"}

    def add_form(form):
        for name in form.fields:
            value = form[name].value()
            if value is None or value is False:  # an unchecked box is not posted
                continue
            data[form.add_prefix(name)] = "on" if value is True else value

    add_form(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        add_form(inline.formset.management_form)
        for form in inline.formset.forms:
            add_form(form)
    return data


def field_errors(response):
    """``{field: [messages]}`` of the item form and of every inline form (``prefix-field``)."""
    errors = {name: list(messages) for name, messages in response.context["adminform"].form.errors.items()}
    for inline in response.context["inline_admin_formsets"]:
        for form in inline.formset.forms:
            for name, messages in form.errors.items():
                errors[form.add_prefix(name)] = list(messages)
    return errors


def listed_ids(response):
    return [obj.pk for obj in response.context["cl"].result_list]


@pytest.fixture
def three_items():
    import_items(
        make_item(
            "00000000-0000-0000-0000-00000000000a", name="web-backup", status="available",
            created_at="2024-01-10T08:00:00", resource_id="11111111-aaaa-bbbb-cccc-000000000001",
            checkpoint_id="22222222-aaaa-bbbb-cccc-000000000001", resource_type="OS::Nova::Server",
            backup_data__eip="203.0.113.7", backup_data__private_ip="10.0.0.7",
            extend_info__resource_name="Web-Server", extend_info__resource_az="az1.dc1",
            extend_info__image_type="backup", extend_info__dec=True,
        ),
        make_item(
            "00000000-0000-0000-0000-00000000000b", name="db-backup", status="error",
            created_at="2024-01-11T23:59:59.999999", resource_id="11111111-aaaa-bbbb-cccc-000000000002",
            checkpoint_id="22222222-aaaa-bbbb-cccc-000000000002", resource_type="OS::Cinder::Volume",
            backup_data__eip="", backup_data__private_ip="10.0.0.8",
            extend_info__resource_name="db-volume", extend_info__resource_az="az2.dc1",
            extend_info__image_type="replication", extend_info__dec=False,
        ),
        make_item(
            "00000000-0000-0000-0000-00000000000c", name="Straße backup", status="available",
            created_at="2024-01-12T00:00:00", resource_id="11111111-aaaa-bbbb-cccc-000000000003",
            checkpoint_id=None, resource_type=None,
            backup_data__eip=None, backup_data__private_ip=None,
            extend_info__resource_name="web-server-2", extend_info__resource_az=None,
            extend_info__image_type="backup",
        ),
        project_id="proj-1",
    )
    return tuple(f"00000000-0000-0000-0000-00000000000{letter}" for letter in "abc")


# --- access -------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [CHANGELIST, ADD, reverse("admin:backups_volumebackup_changelist")])
def test_a_user_who_is_not_staff_is_sent_to_the_login_page(client, path):
    user = User.objects.create_user("member", password="pw-member-1")
    client.force_login(user)
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('admin:login')}?next={path}"


def test_an_anonymous_visitor_is_sent_to_the_login_page(client):
    response = client.get(CHANGELIST)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


# --- change list --------------------------------------------------------------------------------


def test_change_list_shows_the_columns_newest_first(admin_client, three_items):
    response = admin_client.get(CHANGELIST)
    assert response.status_code == 200
    assert listed_ids(response) == list(reversed(three_items))
    assert response.context["cl"].list_display == [
        "action_checkbox", "item_name", "status", "project_id", "resource_name", "resource_az", "image_type",
        "created_at",
    ]
    content = response.content.decode()
    for text in ("web-backup", "db-backup", "Straße backup", "Web-Server", "az2.dc1", "proj-1"):
        assert text in content
    assert "3 checkpoint items" in content


def test_change_list_costs_a_fixed_number_of_queries_and_counts_at_most_the_cap(admin_client, three_items):
    import_items(*(make_item(f"bulk-{n:03}", created_at=f"2023-01-01T00:00:{n % 60:02}") for n in range(150)))
    admin_client.get(CHANGELIST)  # warm the session
    # session, user, two index walks for the value filters, the capped count, the page of rows;
    # PostgreSQL asks its row estimate first.
    expected = 6 + (1 if connection.vendor == "postgresql" else 0)
    with CaptureQueriesContext(connection) as captured:
        response = admin_client.get(CHANGELIST)
    assert response.status_code == 200
    assert len(captured.captured_queries) == expected, [q["sql"] for q in captured.captured_queries]
    assert len(listed_ids(response)) == 100
    counts = [q["sql"] for q in captured.captured_queries if "COUNT(" in q["sql"].upper()]
    assert counts and all(re.search(r"LIMIT 10001\b", sql) for sql in counts), counts
    queries = [q["sql"] for q in captured.captured_queries]
    page = [sql for sql in queries if "LIMIT 100" in sql and "COUNT(" not in sql]
    assert len(page) == 1 and '"document"' not in page[0] and '"fail_code"' not in page[0]


@pytest.mark.postgres_only
def test_unfiltered_change_list_of_a_big_table_uses_the_estimate_and_runs_no_count(
    admin_client, three_items, monkeypatch
):
    monkeypatch.setattr(CheapCountPaginator, "COUNT_CAP", 2)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE backups_checkpointitem")
    with CaptureQueriesContext(connection) as captured:
        response = admin_client.get(CHANGELIST)
    assert not [q["sql"] for q in captured.captured_queries if "COUNT(" in q["sql"].upper()]
    assert response.context["cl"].paginator.count_kind == "estimate"
    assert "about 3 checkpoint items" in response.content.decode()


def test_a_filtered_list_beyond_the_cap_says_more_than(admin_client, three_items, monkeypatch):
    monkeypatch.setattr(CheapCountPaginator, "COUNT_CAP", 1)
    response = admin_client.get(CHANGELIST, {"status__exact": "available"})
    assert response.context["cl"].paginator.count_kind == "at least"
    assert "more than 1 checkpoint items" in response.content.decode()


# --- search -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "term, expected",
    [
        ("web-backup", "a"),  # a name
        ("WEB-BACK", "a"),  # inside a name, any case
        ("STRASSE", "c"),  # Unicode case folding: ß folds to ss
        ("web-server", "ac"),  # inside a resource name
        ("00000000-0000-0000-0000-00000000000b", "b"),  # the item id, exactly
        ("00000000-0000-0000-0000-00000000000B", "b"),  # a UUID in capitals
        ("11111111-aaaa-bbbb-cccc-000000000003", "c"),  # a resource id
        ("22222222-aaaa-bbbb-cccc-000000000002", "b"),  # a checkpoint id
        ("203.0.113.7", "a"),  # an EIP
        ("10.0.0.8", "b"),  # a private IP
        ("10.0.0", ""),  # an IP matches whole, not in part
        ("00000000-0000-0000-0000-00000000000", ""),  # part of an id is not an id
        ("web server", "ac"),  # two words: both must match (here in the resource name)
        ('"db-backup" 10.0.0.8', "b"),  # a quoted word and an IP
        ("db-backup 10.0.0.7", ""),
        ("nothing-like-this", ""),
    ],
)
def test_search(admin_client, three_items, term, expected):
    response = admin_client.get(CHANGELIST, {"q": term})
    assert response.status_code == 200
    by_letter = {item_id[-1]: item_id for item_id in three_items}
    assert sorted(listed_ids(response)) == sorted(by_letter[letter] for letter in expected)


def test_search_uses_exact_lookups_for_ids_and_no_case_insensitive_scan(admin_client, three_items):
    with CaptureQueriesContext(connection) as captured:
        admin_client.get(CHANGELIST, {"q": "00000000-0000-0000-0000-00000000000B"})
    sql = " ".join(q["sql"] for q in captured.captured_queries)
    assert "LIKE" not in sql.upper() and "UPPER(" not in sql.upper()
    with CaptureQueriesContext(connection) as captured:
        admin_client.get(CHANGELIST, {"q": "Web"})
    sql = " ".join(q["sql"] for q in captured.captured_queries)
    assert '"name_folded"' in sql and "UPPER(" not in sql.upper()


# --- filters ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params, expected",
    [
        ({"status__exact": "error"}, "b"),
        ({"status__exact": "available"}, "ac"),
        ({"image_type__exact": "replication"}, "b"),
        ({"resource_type": "OS::Nova::Server"}, "a"),
        ({"resource_type__isnull": "True"}, "c"),
        ({"dec__exact": "1"}, "a"),
        ({"dec__exact": "0"}, "b"),
        ({"dec__isnull": "True"}, "c"),
        ({"resource_az": "az2.dc1"}, "b"),
        ({"resource_az__isnull": "True"}, "c"),
        ({"created_from": "2024-01-11"}, "bc"),
        ({"created_to": "2024-01-11"}, "ab"),  # the whole day, to its last microsecond
        ({"created_from": "2024-01-11", "created_to": "2024-01-11"}, "b"),
        ({"created_from": "2024-01-12", "created_to": "2024-01-10"}, ""),
        ({"created_from": "", "created_to": ""}, "abc"),
        ({"status__exact": "available", "resource_az": "az1.dc1", "q": "backup"}, "a"),
    ],
)
def test_filters(admin_client, three_items, params, expected):
    response = admin_client.get(CHANGELIST, params)
    assert response.status_code == 200
    by_letter = {item_id[-1]: item_id for item_id in three_items}
    assert sorted(listed_ids(response)) == sorted(by_letter[letter] for letter in expected)


def test_value_filters_offer_each_value_once_and_null(admin_client, three_items):
    response = admin_client.get(CHANGELIST)
    specs = {spec.title: spec for spec in response.context["cl"].filter_specs}
    assert specs["resource type"].lookup_choices == ["OS::Cinder::Volume", "OS::Nova::Server", None]
    assert specs["AZ"].lookup_choices == ["az1.dc1", "az2.dc1", None]


def test_a_date_that_is_not_a_date_is_reported_and_that_bound_not_applied(admin_client, three_items):
    response = admin_client.get(CHANGELIST, {"created_from": "2024-01-12", "created_to": "last week"})
    assert response.status_code == 200
    message = "Created to: 'last week' is not a day; use YYYY-MM-DD. This bound was not applied."
    assert [str(m) for m in response.context["messages"]] == [message]
    assert listed_ids(response) == [three_items[2]]


# --- change: the import's rules, the document, history --------------------------------------------


def test_change_form_shows_values_as_typed_json(admin_client, three_items):
    response = admin_client.get(change_url(three_items[1]))
    form = response.context["adminform"].form
    names = (
        "status", "eip", "ram", "created_at", "dec", "fail_code", "os_images_data", "description",
        "extend_info_extra",
    )
    shown = {name: form[name].value() for name in names}
    assert shown == {
        "status": '"error"',
        "eip": '""',  # the empty string, not null
        "ram": "4096",
        "created_at": "2024-01-11T23:59:59.999999",
        "dec": "false",
        "fail_code": "{}",
        "os_images_data": '[\n  {\n    "image_id": "fe84dd80-0229-4918-8d3d-cbb33154b565"\n  }\n]',
        "description": "",  # null
        "extend_info_extra": (
            '{\n  "taskid": "e0a21692-2192-11e7-bf23-0242ac110007",\n  "hypervisor_type": "QEMU"\n}'
        ),
    }
    assert "id" not in form.fields  # the key is read-only once saved


def test_saving_an_untouched_item_changes_nothing_and_logs_no_change(admin_client, three_items):
    url = change_url(three_items[1])
    before = CheckpointItem.objects.get(pk=three_items[1]).document
    response = admin_client.post(url, form_data(admin_client.get(url)))
    assert response.status_code == 302, field_errors(response)
    assert CheckpointItem.objects.get(pk=three_items[1]).document == before
    assert LogEntry.objects.get().get_change_message() == "No fields changed."


def test_fixing_status_and_a_volume_backup_size_reaches_the_api_json_and_history(admin_client, three_items):
    item_id = three_items[0]
    expected = document(item_id)
    data = form_data(admin_client.get(change_url(item_id)))
    data["status"] = '"error"'
    data["volume_backups-1-size"] = "42"
    response = admin_client.post(change_url(item_id), data)
    assert response.status_code == 302, field_errors(response)

    expected["status"] = "error"
    expected["extend_info"]["volume_backups"][1]["size"] = 42
    assert document(item_id) == expected  # every other key (""/null/types) is as it was
    assert VolumeBackup.objects.get(item_id=item_id, position=1).size == 42

    entry = LogEntry.objects.get()
    assert entry.user.username == "admin"
    assert entry.get_change_message() == (
        'Changed Status ("available" → "error"). '
        "Changed Size (0 → 42) for volume backup “manualbk_47222”."
    )
    history = admin_client.get(reverse("admin:backups_checkpointitem_history", args=[item_id]))
    assert "Changed Status (&quot;available&quot; → &quot;error&quot;)" in history.content.decode()


def test_json_and_empty_string_edits_keep_their_types(admin_client, three_items):
    item_id = three_items[0]
    expected = document(item_id)
    data = form_data(admin_client.get(change_url(item_id)))
    data.update(
        ram='"4 GB"', vcpus="", eip='""', description="", fail_reason="disk full",
        fail_code='{"code": "BackupService.9900", "retry": false}',
        created_at="2024-01-10T09:00:00+01:00", dec="null",
        extend_info_extra='{"taskid": "t-2"}',
    )
    response = admin_client.post(change_url(item_id), data)
    assert response.status_code == 302, field_errors(response)
    expected["backup_data"].update(ram="4 GB", vcpus=None, eip="")
    expected["extend_info"].update(
        fail_reason="disk full", fail_code={"code": "BackupService.9900", "retry": False}, dec=None
    )
    del expected["extend_info"]["hypervisor_type"]
    expected["extend_info"]["taskid"] = "t-2"
    expected["created_at"] = "2024-01-10T08:00:00.000000"
    assert document(item_id) == expected


def test_line_breaks_survive_a_browser_round_trip(admin_client):
    import_items(make_item("item-1", description="line 1\nline 2", extend_info__fail_reason="a\r\nb"))
    expected = document("item-1")
    data = form_data(admin_client.get(change_url("item-1")))
    # A browser posts every textarea's line breaks as CRLF.
    data.update(description="line 1\r\nline 2", fail_reason="a\r\nb", progress="99")
    response = admin_client.post(change_url("item-1"), data)
    assert response.status_code == 302, field_errors(response)
    expected["extend_info"]["progress"] = 99
    assert document("item-1") == expected

    data = form_data(admin_client.get(change_url("item-1")))
    data["description"] = "new 1\r\nnew 2"
    admin_client.post(change_url("item-1"), data)
    assert document("item-1")["description"] == "new 1\nnew 2"


def test_adding_an_item_with_a_taken_id_is_refused(admin_client, three_items):
    data = {
        "_save": "Save", "id": three_items[0], "project_id": "proj-2", "name": "x", "status": '"available"',
        "created_at": "2024-01-01T00:00:00", "fail_code": "{}", "os_images_data": "[]",
        "volume_backups-TOTAL_FORMS": "0", "volume_backups-INITIAL_FORMS": "0",
        "replication_records-TOTAL_FORMS": "0", "replication_records-INITIAL_FORMS": "0",
    }
    response = admin_client.post(ADD, data)
    assert response.status_code == 200
    assert field_errors(response) == {"id": ["Checkpoint item with this Id already exists."]}
    assert CheckpointItem.objects.get(pk=three_items[0]).project_id == "proj-1"


@pytest.mark.parametrize(
    "changes, field, message",
    [
        ({"status": '"finished"'}, "status", 'status: must be one of waiting_protect, protecting, available, '
            'waiting_restore, restoring, error, waiting_delete, deleting, deleted, got string "finished"'),
        ({"status": "finished"}, "status", 'status: must be one of waiting_protect, protecting, available, '
            'waiting_restore, restoring, error, waiting_delete, deleting, deleted, got string "finished"'),
        ({"fail_code": '{"code": 1'}, "fail_code",
            "Not valid JSON: Expecting ',' delimiter at line 1, column 11. "
            'Write JSON, e.g. {"code": "BackupService.9900"} (strings in double quotes).'),
        ({"ram": "4 GB"}, "ram", "Not valid JSON: Extra data at line 1, column 3. "
            'Write JSON, e.g. 4096 or "4096" (strings in double quotes).'),
        ({"created_at": "yesterday"}, "created_at",
            "created_at: is not an ISO 8601 time such as 2017-04-18T01:21:52.701973 (Z or ±HH:MM allowed)"),
        ({"created_at": ""}, "created_at", "created_at: is required"),
        ({"extra": '["a"]'}, "extra", "Must be a JSON object ({…}), got list."),
        ({"extend_info_extra": '{"size": 1}'}, "extend_info_extra",
            "size: listed key(s) of this section with a field of their own; edit them there."),
        ({"volume_backups-1-position": "0"}, None, None),  # two volume backups at one position
    ],
)
def test_an_invalid_edit_is_refused_with_the_import_message_and_nothing_is_saved(
    admin_client, three_items, changes, field, message
):
    item_id = three_items[0]
    before = CheckpointItem.objects.get(pk=item_id).document
    data = form_data(admin_client.get(change_url(item_id)))
    data["description"] = "this edit must not be saved"
    data.update(changes)
    response = admin_client.post(change_url(item_id), data)
    assert response.status_code == 200
    if field is None:
        assert "Please correct the duplicate data for position" in response.content.decode()
    else:
        assert field_errors(response) == {field: [message]}
    assert CheckpointItem.objects.get(pk=item_id).document == before
    assert not LogEntry.objects.exists()


def test_several_broken_keys_are_reported_at_once(admin_client, three_items):
    data = form_data(admin_client.get(change_url(three_items[0])))
    data.update(status='"nope"', fail_code="{", ram="4 GB", created_at="")
    response = admin_client.post(change_url(three_items[0]), data)
    assert sorted(field_errors(response)) == ["created_at", "fail_code", "ram", "status"]


@pytest.mark.parametrize(
    "changes, path, value",
    [
        ({"ram": '{"mb": 4096}'}, "backup_data.ram", {"mb": 4096}),  # a JSON column: typed as it is
        ({"name": "n" * 256}, "name", "n" * 256),
        ({"name": ""}, "name", None),
        ({"name": "a\x00b"}, "name", "a\x00b"),
        ({"progress": "half"}, "extend_info.progress", "half"),
        ({"progress": "1.5"}, "extend_info.progress", 1.5),
        ({"dec": '"yes"'}, "extend_info.dec", "yes"),
        ({"os_images_data": '{"image_id": "x"}'}, "extend_info.os_images_data", {"image_id": "x"}),
        ({"volume_backups-0-size": "big"}, "extend_info.volume_backups.0.size", "big"),
        ({"volume_backups-0-image_type": '"full"'}, "extend_info.volume_backups.0.image_type", "full"),
    ],
)
def test_an_edit_the_columns_cannot_hold_is_kept_as_given_like_an_import(
    admin_client, three_items, changes, path, value
):
    item_id = three_items[0]
    data = form_data(admin_client.get(change_url(item_id)))
    data.update(changes)
    response = admin_client.post(change_url(item_id), data, follow=True)
    assert response.redirect_chain, field_errors(response)
    target = document(item_id)
    for part in path.split("."):
        target = target[int(part)] if isinstance(target, list) else target[part]
    assert (type(target), target) == (type(value), value)


def test_an_edit_kept_as_given_says_so(admin_client, three_items):
    data = form_data(admin_client.get(change_url(three_items[0])))
    data.update(progress="half", dec='"yes"')
    response = admin_client.post(change_url(three_items[0]), data, follow=True)
    assert [str(m) for m in response.context["messages"]][0] == (
        "Kept as given, as the import would (their columns cannot hold them, so filters and sorts treat "
        "them as absent): extend_info.dec, extend_info.progress."
    )


LOOSE_ITEM = make_item(
    "loose-1", protected_at="", name=42, extend_info__dec="yes", extend_info__size=2.75,
    extend_info__fail_code=None, backup_data__eip=10, policy_id=None,
)
LOOSE_ITEM["extend_info"]["volume_backups"][0]["size"] = "20"
LOOSE_ITEM["extend_info"]["taskid"] = "e0a2\x00"


def test_saving_an_item_with_values_kept_as_given_keeps_them(admin_client):
    import_items(LOOSE_ITEM)
    before = document("loose-1")
    page = admin_client.get(change_url("loose-1"))
    form = page.context["adminform"].form
    assert (form["dec"].value(), form["size"].value(), form["protected_at"].value()) == ('"yes"', "2.75", "")
    response = admin_client.post(change_url("loose-1"), form_data(page))
    assert response.status_code == 302, field_errors(response)
    assert document("loose-1") == before
    assert LogEntry.objects.get().get_change_message() == "No fields changed."


def test_editing_another_field_keeps_the_values_kept_as_given(admin_client):
    import_items(LOOSE_ITEM)
    before = document("loose-1")
    data = form_data(admin_client.get(change_url("loose-1")))
    data["description"] = "checked by support"
    response = admin_client.post(change_url("loose-1"), data)
    assert response.status_code == 302, field_errors(response)
    assert document("loose-1") == {**before, "description": "checked by support"}


def test_fixing_a_value_kept_as_given_types_it_again(admin_client):
    import_items(LOOSE_ITEM)
    data = form_data(admin_client.get(change_url("loose-1")))
    data["dec"] = "true"
    response = admin_client.post(change_url("loose-1"), data)
    assert response.status_code == 302, field_errors(response)
    item = CheckpointItem.objects.get(pk="loose-1")
    assert (item.dec, document("loose-1")["extend_info"]["dec"]) == (True, True)
    assert document("loose-1")["extend_info"]["size"] == 2.75  # the others stay as given


def test_volume_backups_can_be_reordered_added_and_deleted(admin_client, three_items):
    item_id = three_items[0]
    expected = document(item_id)
    first, second = expected["extend_info"]["volume_backups"]
    data = form_data(admin_client.get(change_url(item_id)))
    data["volume_backups-0-position"], data["volume_backups-1-position"] = "1", "0"  # swap
    response = admin_client.post(change_url(item_id), data)
    assert response.status_code == 302, field_errors(response)
    assert document(item_id)["extend_info"]["volume_backups"] == [second, first]

    data = form_data(admin_client.get(change_url(item_id)))
    data["volume_backups-0-DELETE"] = "on"
    data.update({
        "volume_backups-TOTAL_FORMS": "3",
        "volume_backups-2-item": item_id,
        "volume_backups-2-position": "",  # blank: after the last
        "volume_backups-2-volume_backup_id": "vb-new",
        "volume_backups-2-size": "7",
        "volume_backups-2-dec_size": '"7"',
        "volume_backups-2-image_type": '"backup"',
        "volume_backups-2-extra": "{}",
    })
    response = admin_client.post(change_url(item_id), data)
    assert response.status_code == 302, field_errors(response)
    new = {key: None for key in first} | {"id": "vb-new", "size": 7, "dec_size": "7", "image_type": "backup"}
    assert document(item_id)["extend_info"]["volume_backups"] == [first, new]
    assert list(VolumeBackup.objects.filter(item_id=item_id).values_list("position", flat=True)) == [1, 2]
    assert LogEntry.objects.first().get_change_message() == (  # the newest entry
        "Added volume backup “vb-new”. Deleted volume backup “manualbk_47222”."
    )


def test_adding_an_item_with_inlines_stores_what_the_import_would(admin_client):
    expected = make_item("10000000-0000-0000-0000-000000000001", policy_id="policy-9")
    expected["replication_records"] = [REPLICATION_RECORD]
    data = {
        "_save": "Save", "project_id": "proj-7", "id": expected["id"], "policy_id": "policy-9",
        "volume_backups-TOTAL_FORMS": "2", "volume_backups-INITIAL_FORMS": "0",
        "replication_records-TOTAL_FORMS": "1", "replication_records-INITIAL_FORMS": "0",
    }
    sections = {"": expected, "backup_data": expected["backup_data"], "extend_info": expected["extend_info"]}
    form_names = {"__openstack_region_name": "openstack_region_name"}
    for section, values in sections.items():
        for key, value in values.items():
            if isinstance(value, (dict, list)) and key not in ("fail_code", "os_images_data"):
                continue
            name = form_names.get(key, key)
            if (section, key) == ("extend_info", "resource_type"):
                name = "extend_resource_type"
            data[name] = as_typed(name, value)
    unlisted = ("taskid", "hypervisor_type")
    data["extend_info_extra"] = json.dumps({key: expected["extend_info"][key] for key in unlisted})
    for index, volume_backup in enumerate(expected["extend_info"]["volume_backups"]):
        for key, value in volume_backup.items():
            name = "volume_backup_id" if key == "id" else key
            data[f"volume_backups-{index}-{name}"] = as_typed(name, value, text=("status",))
        data[f"volume_backups-{index}-position"] = str(index)
    for key, value in REPLICATION_RECORD.items():
        name = "record_id" if key == "id" else key
        data[f"replication_records-0-{name}"] = as_typed(name, value)

    response = admin_client.post(ADD, data)
    assert response.status_code == 302, field_errors(response)
    item = CheckpointItem.objects.get(pk=expected["id"])
    assert item.project_id == "proj-7"
    item = CheckpointItem.objects.get(pk=expected["id"])
    assert item.project_id == "proj-7"
    imported, _, _ = build_item("proj-7", parse_item(expected))
    assert json.loads(item.document) == json.loads(imported.document)
    assert LogEntry.objects.get().get_change_message() == (
        "Added. Added volume backup “manualbk_47222”. Added volume backup “manualbk_47222”. "
        "Added replication record “rr-1: region-b (success)”."
    )


SELECT_FIELDS = {
    "status", "imagetype", "fail_op", "image_type", "supported_restore_mode", "source_volume_service_type",
    "auto_trigger", "incremental", "support_lld", "dec", "bootable",
}
JSON_FIELDS = {"ram", "vcpus", "disk", "dec_size", "fail_code", "os_images_data", "extra_info"}


def as_typed(name, value, text=()):
    """What an admin types (or picks) for a JSON value, by the form's conventions."""
    if (name in SELECT_FIELDS or name in JSON_FIELDS) and name not in text:
        return json.dumps(value)
    if value is None:
        return ""
    if value == "":
        return '""'
    return str(value).lower() if isinstance(value, bool) else str(value)


# --- export ------------------------------------------------------------------------------------


def test_export_action_returns_the_selected_items_in_the_import_format(admin_client, three_items):
    response = admin_client.post(
        CHANGELIST,
        {"action": "export_csbs_json", "_selected_action": [three_items[0], three_items[2]], "index": "0"},
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"] == 'attachment; filename="checkpoint_items.json"'
    body = json.loads(b"".join(response.streaming_content))
    assert body == {"checkpoint_items": [document(three_items[2]), document(three_items[0])]}
    # The body imports back as it is.
    upsert_items("proj-1", [parse_item(item) for item in body["checkpoint_items"]])
    assert document(three_items[0]) == body["checkpoint_items"][1]


# --- read-only -------------------------------------------------------------------------------------


def test_a_support_user_sees_json_pretty_printed_and_cannot_save(client, three_items):
    user = User.objects.create_user("support", password="pw-support-1", is_staff=True)
    user.groups.add(Group.objects.get(name="Support"))
    client.force_login(user)
    response = client.get(change_url(three_items[0]))
    assert response.status_code == 200
    content = response.content.decode()
    assert "<pre" in content
    assert "&quot;image_id&quot;: &quot;fe84dd80-0229-4918-8d3d-cbb33154b565&quot;" in content
    assert '  &quot;status&quot;: &quot;available&quot;,' in content  # the API JSON, indented
    assert '<textarea' not in content
    response = client.post(change_url(three_items[0]), {"status": '"error"'})
    assert response.status_code == 403


# --- volume backups and replication records on their own pages -------------------------------------


@pytest.mark.parametrize(
    "term, expected",
    [
        ("ee27f809-6fb5-40ae-ac46-c932bb4ee8fe", [0]),  # source volume id
        ("8eb98e91-8924-4d4b-b6d6-28fb7b751e9c", [1]),  # volume backup id
        ("36f520e1-d2ea-4907-956a-3d9cd53e2d38", [0, 1]),  # snapshot id
        ("manualbk_47222", [0, 1]),  # name
        ("manualbk", []),  # names match whole
    ],
)
def test_volume_backup_search(admin_client, term, expected):
    import_items(make_item("item-1"))
    response = admin_client.get(reverse("admin:backups_volumebackup_changelist"), {"q": term})
    assert sorted(vb.position for vb in response.context["cl"].result_list) == expected


@pytest.mark.parametrize(
    "term, found",
    [
        ("rr-1", True), ("item-b", True), ("region-b", True), ("proj-b", True), ("item-a", True),
        ("region-a", False),  # the source region is not searched
    ],
)
def test_replication_record_search(admin_client, term, found):
    import_items(make_item("item-1", replication_records=[REPLICATION_RECORD]))
    response = admin_client.get(reverse("admin:backups_replicationrecord_changelist"), {"q": term})
    assert len(response.context["cl"].result_list) == (1 if found else 0)


def test_volume_backup_change_list_costs_a_fixed_number_of_queries(admin_client):
    import_items(*(make_item(f"item-{n}") for n in range(5)))
    url = reverse("admin:backups_volumebackup_changelist")
    admin_client.get(url)
    with CaptureQueriesContext(connection) as captured:
        response = admin_client.get(url)
    assert len(response.context["cl"].result_list) == 10
    # session, user, the capped count, the page joined to its items; PostgreSQL: the estimate too.
    assert len(captured.captured_queries) == 4 + (1 if connection.vendor == "postgresql" else 0)
    assert "item-3" in response.content.decode()


def test_editing_a_volume_backup_on_its_own_page_updates_the_item_document(admin_client):
    import_items(make_item("item-1"))
    expected = document("item-1")
    volume_backup = VolumeBackup.objects.get(item_id="item-1", position=0)
    url = reverse("admin:backups_volumebackup_change", args=[volume_backup.pk])
    data = form_data(admin_client.get(url))
    data["size"] = "512"
    response = admin_client.post(url, data)
    assert response.status_code == 302
    expected["extend_info"]["volume_backups"][0]["size"] = 512
    assert document("item-1") == expected
    assert LogEntry.objects.get().get_change_message() == "Changed Size (0 → 512)."


def test_deleting_volume_backups_in_bulk_updates_the_item_document(admin_client):
    import_items(make_item("item-1"))
    expected = document("item-1")
    first = VolumeBackup.objects.get(item_id="item-1", position=0)
    response = admin_client.post(
        reverse("admin:backups_volumebackup_changelist"),
        {"action": "delete_selected", "_selected_action": [first.pk], "post": "yes"},
    )
    assert response.status_code == 302
    del expected["extend_info"]["volume_backups"][0]
    assert document("item-1") == expected


def test_a_replication_record_is_validated_on_its_own_page(admin_client):
    import_items(make_item("item-1", replication_records=[REPLICATION_RECORD]))
    record = ReplicationRecord.objects.get()
    url = reverse("admin:backups_replicationrecord_change", args=[record.pk])
    data = form_data(admin_client.get(url))
    data.update(status='"done"', extra_info="[1]")
    response = admin_client.post(url, data)
    assert response.status_code == 302  # kept as given, as an import would
    [stored] = document("item-1")["replication_records"]
    assert (stored["status"], stored["extra_info"]) == ("done", [1])
    assert ReplicationRecord.objects.get().status is None  # for querying: absent
    data = form_data(admin_client.get(url))
    data.update(extra_info="{")
    response = admin_client.post(url, data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {
        "extra_info": ["Not valid JSON: Expecting property name enclosed in double quotes at line 1, column 2. "
                       'Write JSON, e.g. {"code": "BackupService.9900"} (strings in double quotes).'],
    }


# --- access records --------------------------------------------------------------------------------


def test_api_tokens_are_listed_without_their_key_and_revoked_by_deleting(admin_client, admin_user):
    token, key = ApiToken.issue(user=admin_user, project_id="proj-1")
    changelist = admin_client.get(reverse("admin:backups_apitoken_changelist"))
    change = admin_client.get(reverse("admin:backups_apitoken_change", args=[token.pk]))
    for response in (changelist, change):
        content = response.content.decode()
        assert token.prefix in content
        assert key not in content and token.key_hash not in content
    assert admin_client.get(reverse("admin:backups_apitoken_add")).status_code == 403
    response = admin_client.post(reverse("admin:backups_apitoken_delete", args=[token.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert not ApiToken.objects.exists()


def test_project_memberships_are_listed_and_searched(admin_client, admin_user):
    ProjectMembership.objects.create(user=admin_user, project_id="proj-42")
    url = reverse("admin:backups_projectmembership_changelist")
    assert "proj-42" in admin_client.get(url).content.decode()
    assert len(admin_client.get(url, {"q": "proj-42"}).context["cl"].result_list) == 1
    assert len(admin_client.get(url, {"q": "proj-43"}).context["cl"].result_list) == 0


def test_every_admin_page_renders(admin_client, admin_user, three_items):
    ApiToken.issue(user=admin_user, project_id="proj-1")
    ProjectMembership.objects.create(user=admin_user, project_id="proj-1")
    volume_backup = VolumeBackup.objects.first()
    pages = [
        reverse("admin:index"),
        ADD,
        reverse("admin:backups_volumebackup_add"),
        reverse("admin:backups_volumebackup_change", args=[volume_backup.pk]),
        reverse("admin:backups_replicationrecord_changelist"),
        reverse("admin:backups_replicationrecord_add"),
        reverse("admin:backups_projectmembership_add"),
        reverse("admin:backups_checkpointitem_delete", args=[three_items[0]]),
        f"{CHANGELIST}?_popup=1&_to_field=id",
        f"{CHANGELIST}?o=3.-5",
    ]
    for page in pages:
        assert admin_client.get(page).status_code == 200, page
    assert backups_admin.CheckpointItemAdmin.show_full_result_count is False
