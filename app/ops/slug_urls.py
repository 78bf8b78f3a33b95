"""reverse() for URLs that take one slug, done once per URL name, script prefix and urlconf (what
reverse() depends on); each call then only puts the slug in. Hot paths (the order POST's redirect,
the staff rows' buttons) ask for the same few URLs thousands of times a second."""

from __future__ import annotations

import re

from django.urls import get_script_prefix, get_urlconf, reverse

MARK = "SLUGMARK"  # a slug itself, so reverse() accepts it where the real value goes
SLUG = re.compile(r"[-a-zA-Z0-9_]+")  # Django's slug converter: nothing in it is quoted in a URL
_parts: dict[tuple, tuple[str, str]] = {}


def around_slug(name: str) -> tuple[str, str]:
    """(before, after) the slug in the URL called `name`."""
    key = (name, get_script_prefix(), get_urlconf())
    parts = _parts.get(key)
    if parts is None:
        before, after = reverse(name, args=[MARK]).split(MARK)
        parts = _parts[key] = (before, after)
    return parts


def slug_url(name: str, slug: str) -> str:
    """reverse(name, args=[slug]), the same string; a value that is not a slug goes to reverse() itself."""
    if not SLUG.fullmatch(slug):
        return reverse(name, args=[slug])  # NoReverseMatch, as before
    before, after = around_slug(name)
    return before + slug + after
