"""Fill the ``{{name}}`` placeholders of the files under ``deploy/``: one source for loopback and
production."""

import re
from pathlib import Path

DEPLOY_DIR = Path(__file__).resolve().parent.parent / "deploy"
_PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")


def render(template, values):
    """``template`` (a path under ``deploy/``) with every placeholder replaced; a missing one is an error."""
    text = (DEPLOY_DIR / template).read_text()
    missing = sorted(set(_PLACEHOLDER.findall(text)) - set(values))
    if missing:
        raise KeyError(f"{template}: no value for {', '.join(missing)}")
    return _PLACEHOLDER.sub(lambda match: str(values[match.group(1)]), text)


def placeholders(template):
    return sorted(set(_PLACEHOLDER.findall((DEPLOY_DIR / template).read_text())))
