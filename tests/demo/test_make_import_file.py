"""scripts/make_import_file.py: a CSBS list response of ``backups.demo``'s items, that the import reads."""
import datetime as dt
import io
import json
import subprocess
import sys

from django.core.management import call_command

from backups import demo
from backups.models import CheckpointItem
from tests.conftest import REPO_DIR

SCRIPT = REPO_DIR / "scripts" / "make_import_file.py"
ANCHOR = dt.datetime(2026, 11, 1, tzinfo=dt.timezone.utc)  # the script's fixed "now"


def make_import_file(*args):
    """Run the script as a user would; return what it wrote to standard output."""
    done = subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, timeout=120, check=True)
    return done.stdout


def test_the_file_holds_the_demo_generators_items_in_the_benchmark_shape():
    written = json.loads(make_import_file("--items", "120", "--seed", "5"))
    expected = [item for _, item in demo.generate(120, 1, 5, ANCHOR, demo.BENCHMARK_SHAPE)]
    assert written == {"checkpoint_items": expected}


def test_the_same_seed_gives_the_same_bytes_and_another_seed_other_items(tmp_path):
    output = tmp_path / "items.json"
    make_import_file("--items", "50", "--seed", "3", "-o", str(output))
    assert output.read_bytes() == make_import_file("--items", "50", "--seed", "3")
    first = {item["id"] for item in json.loads(output.read_bytes())["checkpoint_items"]}
    other = {item["id"] for item in json.loads(make_import_file("--items", "50", "--seed", "4"))["checkpoint_items"]}
    assert len(first) == len(other) == 50 and not first & other


def test_zero_items_give_an_empty_list_and_negative_counts_are_refused():
    assert json.loads(make_import_file("--items", "0")) == {"checkpoint_items": []}
    refused = subprocess.run([sys.executable, str(SCRIPT), "--items", "-1"], capture_output=True, text=True)
    assert refused.returncode == 2 and "--items must be 0 or more" in refused.stderr


def test_the_import_command_reads_the_file(db, tmp_path):
    output = tmp_path / "items.json"
    make_import_file("--items", "200", "--seed", "1", "-o", str(output))
    call_command("import_checkpoint_items", str(output), "--project", "imported", stdout=io.StringIO())
    written = json.loads(output.read_bytes())["checkpoint_items"]
    stored = set(CheckpointItem.objects.filter(project_id="imported").values_list("id", flat=True))
    assert {str(item_id) for item_id in stored} == {item["id"] for item in written}
