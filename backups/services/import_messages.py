"""The import's words: why a file is refused (``ImportRefused`` and its messages) and its summary."""
from dataclasses import dataclass
from pathlib import Path

from backups.document.parse import REWRITTEN
from backups.tenancy import is_project_id


class ImportRefused(Exception):
    """A file (or the project id) cannot be imported; the message says which and why."""


@dataclass
class FileResult:
    """What one imported file did."""

    name: str
    created: int
    updated: int
    seconds: float
    #: ``{(json_path, what): count}`` of the values kept as given or rewritten (parse.ParsedItem.loose).
    loose: dict = None

    @property
    def items(self):
        return self.created + self.updated

    @property
    def rate(self):
        return self.items / self.seconds if self.seconds > 0 else 0.0


def describe_loose(loose):
    """The summary's lines for ``FileResult.loose``: per JSON path and kind, how many values.

    ``extend_info.dec: 3 values kept as given (string)`` — filters cannot match them (their query
    column is NULL) but the API returns them as given; ``created_at: 2 timestamps rewritten in
    UTC`` — typed, and written the contract's way.
    """
    lines = []
    for (path, what), count in sorted(loose.items()):
        if what == REWRITTEN:
            lines.append(f"{path}: {count:,} timestamp{'s' * (count != 1)} rewritten in UTC")
        else:
            lines.append(f"{path}: {count:,} value{'s' * (count != 1)} kept as given ({what})")
    return lines


def check_project_id(project_id):
    """Refuse a project id that the API's URLs could never address (1–64 of ``[A-Za-z0-9_-]``)."""
    if not is_project_id(project_id):
        raise ImportRefused(
            f"Invalid project id {project_id!r}: use 1 to 64 characters of letters, digits, '_' and '-'"
        )


def check_files(paths):
    """Refuse the run before anything is written when a file is missing or not a regular file."""
    for path in paths:
        path = Path(path)
        if not path.exists():
            raise ImportRefused(f"{path}: no such file; nothing was imported")
        if not path.is_file():
            raise ImportRefused(f"{path}: not a regular file; nothing was imported")


class Refusals:
    """The messages of a file's refusal, naming the file (``self.name``), the item and the field."""

    def _refused(self, text):
        return ImportRefused(f"{self.name}: {text}; nothing of this file was written")

    def _refused_item(self, index, data, field, message):
        item_id = data.get("id") if isinstance(data, dict) else None
        if isinstance(item_id, str):
            shown = item_id if len(item_id) <= 128 else item_id[:127] + "…"
            who = f"item {index} (id {shown})"
        elif isinstance(data, dict) and item_id is None:
            who = f"item {index} (no id)"
        else:  # not an object, or an id that is not a string: the message shows the value
            who = f"item {index}"
        where = "" if field == "item" else f"{field}: "
        return self._refused(f"{who}: {where}{message}")

    def _refused_json(self, error, index):
        """yajl's reason (its first line) and the text it points at, in plain words where known."""
        text = error.args[0] if error.args else ""
        if isinstance(text, bytes):
            text = text.decode("utf-8", "replace")
        lines = [line.strip() for line in str(text).splitlines()]
        reason = (lines[0] if lines else "").rstrip(".") or "invalid JSON"
        if "premature EOF" in reason:
            reason = "it ends too early (a truncated file?)"
        elif "invalid bytes in UTF8" in reason:
            reason = "it is not UTF-8"
        near = lines[1] if len(lines) > 2 and lines[1] else ""
        if near and "ends too early" not in reason:
            reason += f", near {near[:60]!r}"
        # Items come out of the parser a buffer at a time: the error lies after the last item read.
        place = f" after item {index}" if index >= 0 else ""
        return self._refused(f"is not valid JSON{place}: {reason}")
