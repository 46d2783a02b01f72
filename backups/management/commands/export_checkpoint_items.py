"""``export_checkpoint_items --project P [--all-tenants] [-o FILE]``: the list response, streamed."""

import os
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from backups.api.responses import checkpoint_items_stream
from backups.models import CheckpointItem
from backups.services import import_messages

CHUNK = 2000


class Command(BaseCommand):
    help = (
        'Write {"checkpoint_items": [...]} (the API\'s list body, in its default order: newest first) '
        "to standard output or FILE. import_checkpoint_items reads it back."
    )

    def add_arguments(self, parser):
        parser.add_argument("--project", help="the project to export (1-64 of [A-Za-z0-9_-])")
        parser.add_argument(
            "--all-tenants", action="store_true", help="export every project (--project is then optional)"
        )
        parser.add_argument(
            "-o",
            "--output",
            metavar="FILE",
            help="write FILE, replaced only once complete, not standard output",
        )

    def handle(self, *args, project, all_tenants, output, **options):
        if project is None and not all_tenants:
            raise CommandError("Give --project PROJECT, or --all-tenants to export every project")
        if project is not None:
            try:
                import_messages.check_project_id(project)
            except import_messages.ImportRefused as error:
                raise CommandError(str(error)) from None
        items = CheckpointItem.objects.all()
        if not all_tenants:  # as in the API, all_tenants is not narrowed by the project
            items = items.filter(project_id=project)
        # The stored document is the API's rendering of the item: written as it is, never re-rendered.
        documents = items.order_by("-created_at", "-id").values_list("document", flat=True).iterator(CHUNK)
        if output is None:
            try:
                write_list(lambda text: self.stdout.write(text, ending=""), documents)
            except BrokenPipeError:  # the reader left (`| head`): nothing more to say
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
                raise SystemExit(1) from None
            return
        path = Path(output)
        partial = path.with_name(f".{path.name}.partial")
        try:
            with open(partial, "w", encoding="utf-8") as stream:
                count = write_list(stream.write, documents)
            os.replace(partial, path)
        except OSError as error:
            partial.unlink(missing_ok=True)
            raise CommandError(f"{output}: cannot be written ({error.strerror or error})") from None
        self.stdout.write(f"{output}: {count:,} item{'s' * (count != 1)} exported")


def write_list(write, documents):
    """Write ``{"checkpoint_items": [...]}`` of JSON ``documents`` (one a line); return their count."""
    count = 0

    def counted():
        nonlocal count
        for document in documents:
            count += 1
            yield document

    for piece in checkpoint_items_stream(counted(), chunk_size=CHUNK):
        write(piece)
    return count
