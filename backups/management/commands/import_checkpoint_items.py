"""``import_checkpoint_items FILE [FILE …] --project P``: load CSBS responses (services.importing)."""

import time

from django.core.management.base import BaseCommand, CommandError

from backups.services import import_messages, importing


class Command(BaseCommand):
    help = (
        'Import CSBS responses ({"checkpoint_items": [...]} or {"checkpoint_item": {...}}) into a '
        "project. Upsert by id; each file is all-or-nothing; the first refused file stops the run."
    )

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", metavar="FILE", help="CSBS list or detail response (JSON)")
        parser.add_argument("--project", required=True, help="owner project id (1-64 of [A-Za-z0-9_-])")
        parser.add_argument("--batch-size", type=int, default=importing.BATCH_SIZE, help="items per write")

    def handle(self, *args, files, project, batch_size, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be 1 or more")
        try:
            import_messages.check_project_id(project)
            import_messages.check_files(files)
        except import_messages.ImportRefused as error:
            raise CommandError(str(error)) from None
        started = time.perf_counter()
        done = []
        for path in files:
            try:
                result = importing.import_file(
                    path, project, batch_size=batch_size, progress=self.stderr.isatty()
                )
            except import_messages.ImportRefused as error:
                raise CommandError(f"{error}{self._remains(done, files)}") from None
            done.append(result)
            self.stdout.write(
                f"{result.name}: {_counts(result)} in {result.seconds:.1f} s, {result.rate:,.0f} items/s"
            )
            for line in import_messages.describe_loose(result.loose):
                self.stdout.write(f"  {line}")
        total = import_messages.FileResult(
            "total", sum(r.created for r in done), sum(r.updated for r in done),
            time.perf_counter() - started, {},
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported {len(done)} file{'s' * (len(done) != 1)} into {project}: {_counts(total)} "
                f"in {total.seconds:.1f} s, {total.rate:,.0f} items/s"
            )
        )

    @staticmethod
    def _remains(done, files):
        """What the run leaves behind when a file is refused: earlier files stay, later are unread."""
        notes = []
        if done:
            names = ", ".join(f"{r.name} ({_counts(r)})" for r in done)
            notes.append(f"already imported and kept: {names}")
        skipped = files[len(done) + 1 :]
        if skipped:
            notes.append(f"not read: {', '.join(map(str, skipped))}")
        return "".join(f"\n{note}" for note in notes)


def _counts(result):
    items = f"{result.items:,} item{'s' * (result.items != 1)}"
    return f"{items} ({result.created:,} created, {result.updated:,} updated)"
