"""Another build of the app: a copy of its code to change into a newer, older or broken version."""

from __future__ import annotations

import shutil
from pathlib import Path

from .. import APP_DIR


def copy_app(target: Path, source: Path = APP_DIR) -> Path:
    """A copy of the app's code (no tests, caches or collected static) at `target`."""
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("staticfiles", "__pycache__", "*.pyc", "tests"))
    return target
